from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from accounts.queue import send_task_now


class EmailAuthenticationForm(AuthenticationForm):
    """Log in with an e-mail address, whatever its case."""

    username = forms.EmailField(
        label="E-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class QueuedPasswordResetForm(PasswordResetForm):
    """Password reset whose e-mail the Celery worker sends (the request does not wait)."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        from django.template import loader

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        send_task_now("accounts.tasks.email_send", subject, body, [to_email])


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        strip=True,
        help_text="What the token is for, e.g. “CRM sync”.",
    )


class SwitchTenantForm(forms.Form):
    tenant_id = forms.IntegerField(min_value=1)


def axes_username(request: Any, credentials: dict[str, Any] | None) -> str:
    """The login e-mail django-axes counts failures against (case-insensitive)."""
    value = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(value).strip().lower()


class SelectedIdsField(forms.Field):
    """The ids of the rows ticked in a list (checkboxes sharing one name); `noun` names
    them in errors ("entry", "registration")."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, noun: str, **kwargs: Any) -> None:
        self.noun = noun
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        ids: list[int] = []
        for item in values:
            text = str(item).strip()
            if not text.isdigit() or not 0 < int(text) < 2**63:
                raise forms.ValidationError(f"{self.noun.capitalize()} IDs are whole numbers.")
            ids.append(int(text))
        return list(dict.fromkeys(ids))

    def validate(self, value: list[int]) -> None:
        if not value:
            raise forms.ValidationError(f"Select at least one {self.noun}.")

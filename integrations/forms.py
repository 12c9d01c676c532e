"""Forms of the webhook settings pages: input only; integrations/services do the writes."""

from __future__ import annotations

from django import forms

from integrations.catalogue import WEBHOOK_TYPES
from integrations.models import DESCRIPTION_MAX, URL_MAX
from integrations.services.endpoints import url_error


class EndpointForm(forms.Form):
    url = forms.CharField(
        max_length=URL_MAX,
        label="URL",
        help_text="An https:// address of yours that accepts POST requests.",
        widget=forms.URLInput,
    )
    event_types = forms.MultipleChoiceField(
        choices=[(name, name) for name in WEBHOOK_TYPES],
        widget=forms.CheckboxSelectMultiple,
        label="Event types",
    )
    description = forms.CharField(
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What receives these messages (plain text).",
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        if message := url_error(url):
            raise forms.ValidationError(message)
        return url


class EndpointStatusForm(forms.Form):
    action = forms.ChoiceField(choices=(("enable", "Enable"), ("disable", "Disable")))


class RedeliverFailedForm(forms.Form):
    since = forms.DateTimeField(
        label="Failed since",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )

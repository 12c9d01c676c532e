"""Pages reached without a membership: accepting an invitation."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views import View

from accounts.errors import ApplicationError
from accounts.services.memberships import ACTIVE_TENANT_SESSION_KEY
from partners.models import Invitation
from partners.services import invitation_accept, invitation_from_token


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=200, strip=True)
    password1 = forms.CharField(
        label="Choose a password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )
    password2 = forms.CharField(
        label="Repeat the password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        return data


class InvitationAcceptView(View):
    """A new person sets a name and password; a signed-in invitee just accepts.

    The link is signed, expires, and works once; anything else gets a clear refusal.
    """

    template_name = "public/invitation_accept.html"

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            invitation = invitation_from_token(token)
        except ApplicationError as error:
            return self.refuse(request, error)
        return self.page(request, invitation, InvitationAcceptForm())

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            invitation = invitation_from_token(token)
        except ApplicationError as error:
            return self.refuse(request, error)
        form = InvitationAcceptForm(request.POST)
        existing = self.existing_user(request, invitation)
        if existing is None and not form.is_valid():
            return self.page(request, invitation, form, status=400)
        try:
            membership = invitation_accept(
                token=token,
                existing_user=existing,
                full_name=form.cleaned_data.get("full_name", "") if existing is None else "",
                password=form.cleaned_data.get("password1", "") if existing is None else "",
            )
        except ApplicationError as error:
            for field, errors in error.fields.items():
                for message in errors:
                    form.add_error("password1" if field == "password" else None, message)
            if not error.fields:
                form.add_error(None, error.message)
            return self.page(request, invitation, form, status=400)
        if existing is None:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
        request.session[ACTIVE_TENANT_SESSION_KEY] = membership.tenant_id
        messages.success(request, f"Welcome to {invitation.tenant.name}.")
        return redirect(f"{membership.portal}:home")

    def existing_user(self, request: HttpRequest, invitation: Invitation):  # type: ignore[no-untyped-def]
        user = request.user
        if user.is_authenticated and user.email.lower() == invitation.email.lower():
            return user
        return None

    def page(
        self,
        request: HttpRequest,
        invitation: Invitation,
        form: InvitationAcceptForm,
        status: int = 200,
    ) -> HttpResponse:
        from accounts.models import User

        signed_in_as_invitee = self.existing_user(request, invitation) is not None
        has_account = (
            not signed_in_as_invitee
            and User.objects.filter(email__iexact=invitation.email).exists()
        )
        return render(
            request,
            self.template_name,
            {
                "invitation": invitation,
                "form": form,
                "signed_in_as_invitee": signed_in_as_invitee,
                "has_account": has_account,
            },
            status=status,
        )

    def refuse(self, request: HttpRequest, error: ApplicationError) -> HttpResponse:
        return render(request, "public/invitation_invalid.html", {"error": error}, status=400)


urlpatterns = [
    path("invitations/<str:token>/", InvitationAcceptView.as_view(), name="invitation_accept"),
]

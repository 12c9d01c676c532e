"""Pages every signed-in person has: log in and out, password reset, switching tenant,
profile with API tokens, notifications. Portal pages live in each app's views/."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from accounts.errors import ApplicationError
from accounts.forms import (
    ApiTokenForm,
    EmailAuthenticationForm,
    QueuedPasswordResetForm,
    SwitchTenantForm,
)
from accounts.middleware import request_ip
from accounts.models import ApiToken, Notification
from accounts.ratelimits import password_reset_allowed
from accounts.services.memberships import (
    ACTIVE_TENANT_SESSION_KEY,
    membership_usable,
    memberships_of,
)
from accounts.services.notifications import notification_mark_read
from accounts.services.tokens import (
    api_token_create,
    api_token_revoke,
    api_tokens_revoke_for_user,
)


class HomeView(LoginRequiredMixin, View):
    """Sends each person to their portal; explains when no tenant is usable."""

    def get(self, request: HttpRequest) -> HttpResponse:
        membership = request.membership  # type: ignore[attr-defined]
        if membership is None:
            return render(
                request,
                "accounts/no_access.html",
                {"memberships": memberships_of(request.user)},
                status=403,
            )
        return redirect(f"{membership.portal}:home")


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link. Over the rate limit (per address, per IP) no e-mail is sent,
    and the answer is the same page: it reveals neither the limit nor the account."""

    form_class = QueuedPasswordResetForm

    def form_valid(self, form: QueuedPasswordResetForm) -> HttpResponse:
        email, ip = form.cleaned_data["email"], request_ip(self.request)
        if not password_reset_allowed(email=email, ip=ip):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a new password from a reset link; the user's API tokens are revoked with it."""

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        api_tokens_revoke_for_user(user=form.user)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the password; the user's API tokens are revoked with the old one."""

    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        api_tokens_revoke_for_user(user=form.user)
        return response


class SwitchTenantView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest) -> HttpResponse:
        form = SwitchTenantForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose a tenant.")
            return redirect("home")
        try:
            membership = membership_usable(
                user=request.user, tenant_id=form.cleaned_data["tenant_id"]
            )
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("home")
        request.session[ACTIVE_TENANT_SESSION_KEY] = membership.tenant_id
        messages.success(request, f"You are now working in {membership.tenant.name}.")
        return redirect(f"{membership.portal}:home")


class ProfileView(LoginRequiredMixin, View):
    """The person, their memberships, and the API tokens of the active membership."""

    template_name = "accounts/profile.html"

    def context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        membership = request.membership  # type: ignore[attr-defined]
        tokens = (
            ApiToken.objects.filter(membership=membership).order_by("-created_at")
            if membership
            else ApiToken.objects.none()
        )
        return {
            "memberships": memberships_of(request.user),
            "tokens": tokens,
            "token_form": ApiTokenForm(),
            **extra,
        }

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, self.context(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        membership = request.membership  # type: ignore[attr-defined]
        form = ApiTokenForm(request.POST)
        if membership is None or not form.is_valid():
            return render(
                request, self.template_name, self.context(request, token_form=form), status=400
            )
        token, secret = api_token_create(membership=membership, name=form.cleaned_data["name"])
        messages.success(request, f"Token “{token.name}” created. Copy it now: it is shown once.")
        return render(request, self.template_name, self.context(request, new_secret=secret))


class ApiTokenRevokeView(LoginRequiredMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        membership = request.membership  # type: ignore[attr-defined]
        if membership is None:
            return redirect("home")
        try:
            token = api_token_revoke(membership=membership, token_id=pk)
        except ApplicationError as error:
            messages.error(request, error.message)
            return render(request, "error.html", {"error": error}, status=error.status)
        messages.success(request, f"Token “{token.name}” revoked.")
        return redirect("profile")


class NotificationListView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        membership = request.membership  # type: ignore[attr-defined]
        if membership is None:
            return redirect("home")
        notifications = (
            Notification.objects.for_tenant(membership.tenant_id)
            .filter(recipient=request.user)
            .order_by("-created_at", "-id")
        )
        page = Paginator(notifications, 25).get_page(request.GET.get("page"))
        return render(request, "accounts/notifications.html", {"page": page})


class NotificationReadView(LoginRequiredMixin, View):
    """Mark one notification (`id`) or all of them read, then go back or to its link."""

    def post(self, request: HttpRequest) -> HttpResponse:
        membership = request.membership  # type: ignore[attr-defined]
        if membership is None:
            return redirect("home")
        raw_id = request.POST.get("id")
        notification_id = int(raw_id) if raw_id and raw_id.isdigit() else None
        if raw_id and notification_id is None:
            messages.error(request, "Unknown notification.")
            return redirect("notifications")
        notification_mark_read(
            tenant=membership.tenant, user=request.user, notification_id=notification_id
        )
        target = request.POST.get("next", "")
        if target and url_has_allowed_host_and_scheme(
            target, {request.get_host()}, require_https=request.is_secure()
        ):
            return HttpResponseRedirect(target)
        return redirect("notifications")


urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password-reset/",
        PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("accounts/switch-tenant/", SwitchTenantView.as_view(), name="switch_tenant"),
    path("accounts/profile/", ProfileView.as_view(), name="profile"),
    path("accounts/tokens/<int:pk>/revoke/", ApiTokenRevokeView.as_view(), name="api_token_revoke"),
    path("notifications/", NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", NotificationReadView.as_view(), name="notifications_read"),
]

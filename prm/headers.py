"""Response headers that harden every page: a Content-Security-Policy that allows no inline
code, a Permissions-Policy that turns off device features the PRM never uses, and
`Cache-Control: private, no-store` on anything a signed-in person or an API client sees,
so a shared or back-buttoned browser never shows another person's tenant data."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

NO_STORE = "private, no-store"


class SecurityHeadersMiddleware:
    """Outermost, so static files and error pages get the policy too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = "; ".join(
            f"{name} {value}" for name, value in settings.CONTENT_SECURITY_POLICY.items()
        )
        self.permissions = ", ".join(
            f"{feature}=()" for feature in settings.PERMISSIONS_POLICY_DISABLED
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Permissions-Policy", self.permissions)
        if self.private(request):
            response["Cache-Control"] = NO_STORE
        return response

    @staticmethod
    def private(request: HttpRequest) -> bool:
        user = getattr(request, "user", None)  # unset when static files answer early
        signed_in = user is not None and user.is_authenticated
        return signed_in or request.path.startswith("/api/")

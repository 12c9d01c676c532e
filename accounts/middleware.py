"""Resolves the acting membership once per request and pins the transaction to its tenant."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.context import client_ip
from accounts.errors import ApplicationError
from accounts.services.memberships import ACTIVE_TENANT_SESSION_KEY, membership_resolve
from accounts.tenancy import activate

# Answered without a transaction or a session: the health check must answer (503) when
# the database is down, so it cannot start by opening the tenant transaction.
OUTSIDE_TENANT_PATHS = frozenset({"/healthz"})


def request_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class TenantMiddleware:
    """Each request runs in one transaction whose `app.tenant_id` is the active tenant.

    Row-level security reads that setting; it is transaction-local, so it ends with the
    request and a reused connection starts the next one with no tenant. A response with
    a server error rolls the transaction back, as ATOMIC_REQUESTS would.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in OUTSIDE_TENANT_PATHS:
            return self.get_response(request)
        ip_token = client_ip.set(request_ip(request))
        # Outermost, the transaction starts with no tenant and COMMIT/ROLLBACK drops the
        # one it set (set_config(..., true)): no round trip is needed to clear it either
        # way. Inside an outer transaction (tests, a caller's atomic) it is cleared both ways.
        nested = connection.in_atomic_block
        try:
            with transaction.atomic():
                request.membership = None  # type: ignore[attr-defined]
                request.tenant = None  # type: ignore[attr-defined]
                if request.user.is_authenticated:
                    membership = membership_resolve(
                        user=request.user,
                        preferred_tenant_id=request.session.get(ACTIVE_TENANT_SESSION_KEY),
                    )
                    request.membership = membership  # type: ignore[attr-defined]
                    request.tenant = membership.tenant if membership else None  # type: ignore[attr-defined]
                    self.pin_support_tenant(request)
                elif nested:
                    activate(tenant_id=None)
                response = self.get_response(request)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                if nested and not transaction.get_rollback():
                    activate(tenant_id=None)  # leave nothing behind in the outer transaction
                return response
        finally:
            client_ip.reset(ip_token)

    @staticmethod
    def pin_support_tenant(request: HttpRequest) -> None:
        """In the operator's admin, a superuser sees the one tenant they chose to support."""
        support_tenant_id = request.session.get("support_tenant_id")
        if support_tenant_id and request.user.is_superuser and request.path.startswith("/admin/"):
            activate(tenant_id=int(support_tenant_id), user_id=request.user.pk)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A service error that a view did not handle becomes a page with its status."""
        if not isinstance(exception, ApplicationError):
            return None
        response = render(request, "error.html", {"error": exception}, status=exception.status)
        transaction.set_rollback(True)  # after rendering: the page itself reads the database
        return response

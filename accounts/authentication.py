"""DRF authentication: API tokens (one membership each) and the browser session."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.request import Request

from accounts.models import User
from accounts.services.tokens import api_token_authenticate


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer prm_…` (or `Token prm_…`); sets request.membership."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "").split()
        if not header or header[0].lower() not in ("bearer", "token"):
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        membership = api_token_authenticate(header[1])
        if membership is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        request._request.membership = membership  # type: ignore[attr-defined]
        request._request.tenant = membership.tenant  # type: ignore[attr-defined]
        return membership.user, membership

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class TenantSessionAuthentication(SessionAuthentication):
    """Session (with CSRF) for the browser; the membership comes from TenantMiddleware."""

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        membership = getattr(request._request, "membership", None)
        if membership is None:
            raise exceptions.PermissionDenied("You have no active membership in any tenant.")
        return result[0], membership

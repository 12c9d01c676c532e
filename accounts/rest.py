"""The REST API's foundation: one error shape, pagination, role permissions, scoped bases.

Every error answers `{"error": {"code": ..., "message": ..., "fields": {...}}}`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.errors import ApplicationError
from accounts.models import PARTNER_ROLES, VENDOR_ROLES, Membership, Role
from accounts.scoping import ScopedQuerysetMixin


def error_response(
    code: str,
    message: str,
    status_code: int,
    fields: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> Response:
    error = {"code": code, "message": message, "fields": fields or {}, **(details or {})}
    return Response({"error": error}, status=status_code)


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            key: [str(item) for item in (value if isinstance(value, list) else [value])]
            for key, value in detail.items()
        }
    return {}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return error_response(exc.code, exc.message, exc.status, exc.fields, exc.details())
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        non_field = fields.pop("non_field_errors", None)
        message = non_field[0] if non_field else "The request has invalid fields."
        if isinstance(exc.detail, list):
            message = str(exc.detail[0]) if exc.detail else message
        response.data = {"error": {"code": "invalid", "message": message, "fields": fields}}
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        response.data = {"error": {"code": code, "message": str(exc.detail), "fields": {}}}
    return response


class HasRole(permissions.BasePermission):
    """Allows memberships whose role is in the view's `allowed_roles` (for its method)."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        membership: Membership | None = getattr(request._request, "membership", None)
        if membership is None:
            return False
        roles = getattr(view, "allowed_roles", None)
        if request.method not in permissions.SAFE_METHODS:
            roles = getattr(view, "write_roles", roles)
        return roles is None or membership.role in roles


class MembershipApi(APIView):
    """Base of every endpoint: authenticated, with an active membership and allowed role."""

    permission_classes = (permissions.IsAuthenticated, HasRole)
    allowed_roles: frozenset[str] | None = None

    @property
    def membership(self) -> Membership:
        return self.request._request.membership  # type: ignore[attr-defined]


class ScopedGenericApi(ScopedQuerysetMixin, generics.GenericAPIView, MembershipApi):
    """Base of endpoints on tenant rows: queryset and object lookup are sealed (404 outside)."""


VENDOR = frozenset(VENDOR_ROLES)
VENDOR_ADMIN = frozenset({Role.VENDOR_ADMIN})
PARTNER = frozenset(PARTNER_ROLES)

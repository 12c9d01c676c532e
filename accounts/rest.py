"""The REST API's foundation: one error shape, role permissions, scoped bases. How bodies
are parsed (bounded in size and depth) is in accounts/parsers.py.

Every error answers `{"error": {"code": ..., "message": ..., "fields": {...}}}`, including
the ones Django answers before or instead of a DRF view (unknown paths, ids a route cannot
match, oversized bodies, server errors): see `ApiErrorMiddleware`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from rest_framework import exceptions, generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.conditional import entity_tag, matches_strongly, matches_weakly, parse_tags
from accounts.errors import ApplicationError
from accounts.models import PARTNER_ROLES, VENDOR_ROLES, Membership, Role
from accounts.parsers import too_large
from accounts.renderers import ApiJSONRenderer
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


# --- Errors Django answers for the API --------------------------------------------------------

DJANGO_ERRORS = {
    400: ("bad_request", "The request could not be understood."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("request_too_large", "The request body is too large."),
    500: ("server_error", "Something went wrong on our side. Nothing was saved."),
}


def json_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": {}}}, status=status)


class ApiErrorMiddleware:
    """Under /api/, what Django answers itself keeps the API's JSON error shape.

    A body declared larger than DATA_UPLOAD_MAX_MEMORY_SIZE (or the path's own limit in
    API_BODY_LIMITS, e.g. a CSV upload) is refused with a 413 before anything reads it. An
    error page (an unknown path, an id a route cannot match, a server error rendered by
    handler500 after the tenant transaction rolled back) becomes the JSON error of its
    status. Listed before TenantMiddleware, so it wraps its rollback.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        limit = settings.API_BODY_LIMITS.get(request.path, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if limit is not None and declared.isdigit() and int(declared) > limit:
            return json_error(413, "request_too_large", too_large(limit))
        response = self.get_response(request)
        if self.drops_a_write(request, response):
            where = response["Location"]
            message = f"No endpoint here; API paths end with a slash: {where}"
            return json_error(404, "not_found", message)
        content_type = response.get("Content-Type", "")
        if response.status_code < 400 or content_type.startswith("application/json"):
            return response
        code, message = DJANGO_ERRORS.get(response.status_code, ("error", response.reason_phrase))
        converted = json_error(response.status_code, code, message)
        if response.has_header("Allow"):
            converted["Allow"] = response["Allow"]
        return converted

    @staticmethod
    def drops_a_write(request: HttpRequest, response: HttpResponse) -> bool:
        """APPEND_SLASH's redirect of a write: clients follow a 301 with a GET, dropping the
        body and the change, so it is answered as what it is, a path with no endpoint."""
        return (
            response.status_code == 301
            and request.method not in ("GET", "HEAD", "OPTIONS")
            and response.get("Location", "").split("?")[0] == request.path + "/"
        )


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


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CONDITIONAL_WRITES = frozenset({"PUT", "PATCH", "DELETE"})


class Answered(Exception):  # noqa: N818  (not an error: the request is answered early)
    """Raised before the handler runs to answer the request with `response` instead."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__()
        self.response = response


class WriteGuard(Protocol):
    """Wraps every POST/PUT/PATCH/DELETE of the API once authenticated and permitted (e.g.
    integrations' Idempotency-Key). `before` may answer the request itself (raise
    Answered); `after` sees every answer, its own included, and returns the one to send."""

    def before(self, view: MembershipApi, request: Request) -> None: ...

    def after(
        self, view: MembershipApi, request: Request, response: HttpResponse
    ) -> HttpResponse: ...


_write_guards: list[WriteGuard] = []


def write_guard_register(guard: WriteGuard) -> None:
    """Higher apps add their guard from AppConfig.ready() (imports stay downward)."""
    if guard not in _write_guards:
        _write_guards.append(guard)


def write_guards() -> tuple[WriteGuard, ...]:
    return tuple(_write_guards)


def precondition_failed(current: str | None) -> Response:
    if current is None:
        return error_response(
            "precondition_failed", "If-Match names a version, but the resource does not exist.", 412
        )
    response = error_response(
        "precondition_failed",
        "The resource changed since you read it (If-Match does not match its ETag); "
        "read it again and reapply your change.",
        412,
        details={"etag": current},
    )
    response["ETag"] = current
    return response


def precondition_exists(current: str) -> Response:
    response = error_response(
        "precondition_failed",
        "The resource exists (If-None-Match: * creates only) or is the version If-None-Match "
        "names; read it and send If-Match with its ETag to change it.",
        412,
        details={"etag": current},
    )
    response["ETag"] = current
    return response


class MembershipApi(APIView):
    """Base of every endpoint: authenticated, with an active membership and allowed role.

    Every write passes the registered write guards. A `conditional` endpoint (a detail)
    answers a strong ETag on GET and on its writes, 304 to a GET whose If-None-Match
    matches, and 412 to a PUT/PATCH/DELETE whose If-Match does not match, or whose
    If-None-Match does (`*`: the resource exists) (accounts/conditional.py).
    """

    permission_classes = (permissions.IsAuthenticated, HasRole)
    allowed_roles: frozenset[str] | None = None
    conditional = False

    @property
    def membership(self) -> Membership:
        return self.request._request.membership  # type: ignore[attr-defined]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method not in WRITE_METHODS:
            return
        for guard in write_guards():
            guard.before(self, request)
        if self.conditional and request.method in CONDITIONAL_WRITES:
            self.check_preconditions(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> HttpResponse:
        if isinstance(exc, Answered):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(
        self, request: Request, response: HttpResponse, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.conditional and isinstance(response, Response):
            response = self.tag_response(request, response)
        if request.method in WRITE_METHODS:
            for guard in write_guards():
                response = guard.after(self, request, response)
        return response

    # --- Conditional requests -------------------------------------------------------------

    def lock_for_precondition(self) -> None:
        """Hook: lock the resource so no other write lands between If-Match and the change."""

    def current_tag(self, request: Request, *args: Any, **kwargs: Any) -> str | None:
        """The entity tag a GET would answer now (the view's own GET, rendered); None when
        there is nothing yet (an upsert's first PUT)."""
        answer = self.get(request, *args, **kwargs)  # type: ignore[attr-defined]
        return entity_tag(ApiJSONRenderer().render(answer.data))

    def check_preconditions(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """If-Match (strong) and If-None-Match (weak; `*`: create only) of a write, compared
        with the current tag under the resource's lock (RFC 9110 §13.2.2: a false one is
        412, nothing changed)."""
        if_match = request.META.get("HTTP_IF_MATCH")
        if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
        if if_match is None and if_none_match is None:
            return
        match = parse_tags(if_match, "If-Match") if if_match is not None else []
        none_match = parse_tags(if_none_match, "If-None-Match") if if_none_match is not None else []
        self.lock_for_precondition()
        current = self.current_tag(request, *args, **kwargs)
        if if_match is not None and (current is None or not matches_strongly(match, current)):
            raise Answered(precondition_failed(current))
        if (
            if_none_match is not None
            and current is not None
            and matches_weakly(none_match, current)
        ):
            raise Answered(precondition_exists(current))

    def tag_response(self, request: Request, response: Response) -> HttpResponse:
        if response.status_code not in (200, 201) or response.data is None:
            return response
        if request.method not in ("GET", "HEAD", "PUT", "PATCH"):
            return response
        if isinstance(response.accepted_renderer, ApiJSONRenderer):
            response.render()
            tag = entity_tag(response.content)
        else:  # the browsable API: the tag is still that of the JSON representation
            tag = entity_tag(ApiJSONRenderer().render(response.data))
        response["ETag"] = tag
        header = request.META.get("HTTP_IF_NONE_MATCH")
        if request.method in ("GET", "HEAD") and header is not None:
            try:
                tags = parse_tags(header, "If-None-Match")
            except ApplicationError:
                return response  # an unparseable If-None-Match is ignored: the full answer
            if matches_weakly(tags, tag):
                not_modified = HttpResponseNotModified()
                not_modified["ETag"] = tag
                return not_modified
        return response


class ScopedGenericApi(ScopedQuerysetMixin, generics.GenericAPIView, MembershipApi):
    """Base of endpoints on tenant rows: queryset and object lookup are sealed (404 outside)."""


VENDOR = frozenset(VENDOR_ROLES)
VENDOR_ADMIN = frozenset({Role.VENDOR_ADMIN})
PARTNER = frozenset(PARTNER_ROLES)

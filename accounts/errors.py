"""One error hierarchy for the whole application.

Services raise these; views turn them into form errors or messages and the API into
its one JSON error shape, `{"error": {"code", "message", "fields"}}`.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    def details(self) -> dict[str, Any]:
        """More members of the API's error object, beside code, message and fields."""
        return {}


class ValidationFailed(ApplicationError):
    code = "invalid"
    status = 400


class NotFound(ApplicationError):
    """Missing, or belonging to another tenant or partner: the two are indistinguishable."""

    code = "not_found"
    status = 404

    def __init__(self, message: str = "Not found.", **kwargs: dict[str, list[str]]) -> None:
        super().__init__(message, **kwargs)


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status = 403


class Conflict(ApplicationError):
    """The request is well-formed but the record's state refuses it (e.g. a transition)."""

    code = "conflict"
    status = 409

"""How the API reads request bodies and answers OPTIONS (their own module: DRF imports
them while building APIView, so they must not import DRF's views)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.metadata import SimpleMetadata
from rest_framework.parsers import JSONParser
from rest_framework.request import Request

# --- Bodies: JSON only, bounded in size and depth -------------------------------------------

MAX_JSON_DEPTH = 32


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "request_too_large"


def too_large(limit: int) -> str:
    return f"The request body is larger than {limit} bytes."


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest deeper than `limit` (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(JSONParser):
    """JSON bodies of at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (413) nesting at most
    MAX_JSON_DEPTH levels (400): a body cannot exhaust memory or the parser's stack."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)  # DRF passes no None
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(too_large(limit))
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        too_deep = exceptions.ParseError(
            f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
        )
        try:
            data = json.loads(raw.decode(encoding), parse_constant=self.refuse_constant)
        except RecursionError:
            raise too_deep from None
        except ValueError as error:  # UnicodeDecodeError and JSONDecodeError included
            raise exceptions.ParseError(f"JSON parse error - {error}") from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise too_deep
        return data

    @staticmethod
    def refuse_constant(name: str) -> None:
        raise ValueError(f"{name} is not valid JSON")


class ApiMetadata(SimpleMetadata):
    """OPTIONS names and describes the endpoint; its fields are in the OpenAPI schema
    (DRF's field listing needs a serializer_class, which these views do not have)."""

    def determine_actions(self, request: Request, view: Any) -> dict[str, Any]:
        return {}

    def determine_metadata(self, request: Request, view: Any) -> dict[str, Any]:
        metadata = super().determine_metadata(request, view)
        metadata.pop("actions", None)
        return metadata

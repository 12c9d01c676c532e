"""OpenAPI schema postprocessing shared by the apps: which view each documented operation
belongs to, and the conditional-request headers of the details (accounts/conditional.py)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from accounts.conditional import ENTITY_TAG_LIST_PATTERN


def _error_response(description: str) -> dict[str, Any]:
    return {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOutput"}}},
        "description": description,
    }


def operations_by_view(result: dict[str, Any], generator: Any) -> Iterator[tuple[Any, str, dict]]:
    """(view class, method, operation) of every documented operation."""
    paths = result.get("paths", {})
    for route, _regex, method, callback in generator.endpoints or ():
        item = paths.get(route) or paths.get(route.replace("{pk}", "{id}")) or {}
        operation = item.get(method.lower())
        if operation is not None:
            yield callback.cls, method.upper(), operation


ETAG_HEADER = {
    "ETag": {
        "schema": {"type": "string"},
        "description": "Strong entity tag of this representation; send it back in "
        "If-Match (PUT/PATCH/DELETE) or If-None-Match (GET).",
    }
}


CONDITIONAL_METHODS = ("GET", "PUT", "PATCH", "DELETE")


def document_conditional_requests(
    result: dict[str, Any], generator: Any, **_: Any
) -> dict[str, Any]:
    """Spectacular postprocessing hook: the details that answer an ETag document it, with
    If-None-Match (304) on GET, If-Match and If-None-Match (412) on PUT/PATCH/DELETE
    (accounts/conditional.py)."""
    tags = {"type": "string", "pattern": ENTITY_TAG_LIST_PATTERN, "maxLength": 4096}
    for view, method, operation in operations_by_view(result, generator):
        if not getattr(view, "conditional", False) or method not in CONDITIONAL_METHODS:
            continue
        responses = operation["responses"]
        for code in ("200", "201"):
            if code in responses:
                responses[code].setdefault("headers", {}).update(copy.deepcopy(ETAG_HEADER))
        parameters = operation.setdefault("parameters", [])
        if method == "GET":
            parameters.append(
                {
                    "name": "If-None-Match",
                    "in": "header",
                    "required": False,
                    "schema": tags,
                    "description": "ETags you hold: 304 (no body) when one is current.",
                }
            )
            responses["304"] = {
                "description": "Not modified: your copy (its ETag) is current.",
                "headers": copy.deepcopy(ETAG_HEADER),
            }
            continue
        parameters.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "schema": tags,
                "description": "The ETag you read: the change is made only if it is still "
                "current, else 412 with the current ETag.",
            }
        )
        parameters.append(
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "schema": tags,
                "description": "`*`: only if the resource does not exist yet (an upsert "
                "creates only), else 412; ETags: only if none of them is current.",
            }
        )
        responses["412"] = {
            **_error_response(
                "The resource changed since you read it (If-Match does not match), or it "
                "exists (If-None-Match); `etag` and the ETag header give the current one."
            ),
            "headers": copy.deepcopy(ETAG_HEADER),
        }
        responses.setdefault(
            "400", _error_response("Invalid request: malformed JSON, fields or headers.")
        )
    return result

"""Spectacular postprocessing hook: every API write documents the Idempotency-Key header
and the answers it adds (integrations/services/idempotency.py)."""

from __future__ import annotations

from typing import Any

from accounts.schema import operations_by_view
from integrations.services.idempotency import REPLAYED_HEADER

# A bare key (printable ASCII, no space, not starting with a quote) or the draft's quoted
# Structured Field string; 1 to 255 characters of key either way.
KEY_PATTERN = r'^(?:[!#-~][!-~]{0,254}|"(?:[ !#-\[\]-~]|\\[\\"]){1,255}")$'
PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 512, "pattern": KEY_PATTERN},
    "description": "Makes the write safe to retry: the same key with the same request "
    "answers the first answer again (with `Idempotent-Replayed: true`) without doing it "
    "again, for 24 hours; another request with the key is 422; while the first is still "
    "running, 409. Keys are per tenant and member.",
}
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOutput"}}}
ANSWERS = {
    "400": "Invalid request: malformed JSON, fields or headers (e.g. an Idempotency-Key that "
    "is not 1 to 255 printable ASCII characters).",
    "409": "The record's state refuses the change, or a request with this Idempotency-Key "
    "is still being processed (code `idempotency_key_in_use`).",
    "422": "This Idempotency-Key was used for another request (code `idempotency_key_reused`).",
}


def document_idempotency(result: dict[str, Any], generator: Any, **_: Any) -> dict[str, Any]:
    replayed = {
        REPLAYED_HEADER: {
            "schema": {"type": "string", "enum": ["true"]},
            "description": "Present on an answer replayed for an Idempotency-Key.",
        }
    }
    for _view, method, operation in operations_by_view(result, generator):
        if method not in ("POST", "PUT", "PATCH", "DELETE"):
            continue
        operation.setdefault("parameters", []).append(dict(PARAMETER))
        responses = operation["responses"]
        for code, description in ANSWERS.items():
            if code == "409" and code in responses:
                # keep the operation's own 409 body (e.g. blocking_findings); say both causes
                responses[code]["description"] = description
            elif code not in responses:
                responses[code] = {"content": ERROR, "description": description}
        for code, answer in responses.items():
            if code.startswith("2"):
                answer.setdefault("headers", {}).update(dict(replayed))
    return result

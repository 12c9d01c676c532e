"""The Idempotency-Key write guard of the API (registered in IntegrationsConfig.ready(),
run by accounts.rest.MembershipApi around every POST/PUT/PATCH once the request is
authenticated and permitted). The rules are in integrations/services/idempotency.py."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.http import HttpResponse
from django.http.request import RawPostDataException
from rest_framework.request import Request

from accounts.rest import Answered, json_error
from integrations.services.idempotency import (
    REPLAYED_HEADER,
    StoredAnswer,
    idempotency_claim,
    idempotency_key_parse,
    idempotency_store,
    request_fingerprint,
)

HEADER = "HTTP_IDEMPOTENCY_KEY"
# Set by the server on the way out, not part of the answer.
NOT_STORED = frozenset({"content-length", "set-cookie"})


def replay(answer: StoredAnswer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status_code)
    for name, value in answer.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def request_body(request: Request) -> bytes:
    try:
        return request._request.body
    except RawPostDataException:  # a form post the CSRF check has read already
        return repr(sorted(request._request.POST.lists())).encode()


class IdempotencyGuard:
    def before(self, view: Any, request: Request) -> None:
        header = request.META.get(HEADER)
        if header is None:
            return
        membership = view.membership
        claim = {
            "tenant_id": membership.tenant_id,
            "membership_id": membership.pk,
            "key": idempotency_key_parse(header),
            "fingerprint": request_fingerprint(
                method=request.method or "",
                path=request._request.get_full_path(),
                body=request_body(request),
            ),
        }
        stored = idempotency_claim(**claim)
        if stored is not None:
            raise Answered(replay(stored))
        request._request.idempotency_claim = claim  # type: ignore[attr-defined]

    def after(self, view: Any, request: Request, response: HttpResponse) -> HttpResponse:
        claim = getattr(request._request, "idempotency_claim", None)
        if claim is None:
            return response
        del request._request.idempotency_claim  # type: ignore[attr-defined]
        if (
            response.status_code >= 500
            or not connection.in_atomic_block
            or transaction.get_rollback()
        ):
            return response  # nothing of it commits: the key stays free for a retry
        if hasattr(response, "render") and not response.is_rendered:  # type: ignore[attr-defined]
            response.render()  # type: ignore[attr-defined]
        headers = {k: v for k, v in response.items() if k.lower() not in NOT_STORED}
        answer = StoredAnswer(response.status_code, headers, response.content)
        if idempotency_store(**claim, answer=answer):
            return response
        transaction.set_rollback(True)
        return json_error(
            409,
            "idempotency_key_in_use",
            "Another request with this Idempotency-Key completed first; nothing of this one "
            "was saved. Retry to get its answer.",
        )


guard = IdempotencyGuard()

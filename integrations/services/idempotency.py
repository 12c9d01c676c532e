"""Idempotency-Key on API writes (IETF draft "The Idempotency-Key HTTP Header Field").

The first answer to a write sent with a key is stored, in the request's own transaction,
under (tenant, membership, key) for 24 hours; the same key with the same request answers
it again without doing the work; with another request (method, path or body) it is 422.

Why it holds under concurrency: a request takes a transaction-scoped advisory lock on
its key before it looks for a stored answer, and keeps it until it commits. A second
request with the key meanwhile fails to take it and is answered 409 at once; one that
comes after the commit takes it and finds the stored answer. The unique constraint
(tenant, membership, key) is the final arbiter: were two requests ever to run, the second
could not store its answer and its transaction, work included, is rolled back. A request
whose transaction rolls back (a server error) stores nothing, so its key may be retried.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.errors import ApplicationError, Conflict
from accounts.tenancy import tenant_context
from integrations.models import IDEMPOTENCY_KEY_MAX, IdempotencyKey

KEPT_FOR = timedelta(hours=24)
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyKeyInvalid(ApplicationError):
    code = "idempotency_key_invalid"
    status = 400


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    status = 422


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    headers: dict[str, str]
    body: bytes


def _sf_string(value: str) -> str | None:
    """The content of a Structured Field string ("…", with \\" and \\\\ escapes), or None."""
    inner, out, escaped = value[1:-1], [], False
    for char in inner:
        if escaped:
            if char not in '"\\':
                return None
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"' or not " " <= char <= "~":
            return None
        else:
            out.append(char)
    return None if escaped else "".join(out)


def idempotency_key_parse(header: str) -> str:
    """The key of an `Idempotency-Key` header: a Structured Field string as the draft
    writes it (`"8e03978e-…"`) or, as most clients send it, the bare value; 1 to 255
    printable ASCII characters."""
    value = header.strip(" \t")
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        key = _sf_string(value)
    elif value and all("!" <= char <= "~" for char in value) and not value.startswith('"'):
        key = value
    else:
        key = None
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise IdempotencyKeyInvalid(
            "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces "
            '(or a quoted string, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324").'
        )
    return key


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """What makes a request the same request: method, path with query, and body."""
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def idempotency_claim(
    *, tenant_id: int, membership_id: int, key: str, fingerprint: str
) -> StoredAnswer | None:
    """Take the key for this transaction: its stored answer, or None (go ahead and store
    one with `idempotency_store` before committing). 409 while another request holds the
    key; 422 when the key answered another request. Must run in the request's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, %s))",
            [f"idempotency:{membership_id}:{key}", tenant_id],
        )
        (locked,) = cursor.fetchone()
    if not locked:
        raise IdempotencyKeyInUse(
            "A request with this Idempotency-Key is still being processed; retry later."
        )
    stored = (
        IdempotencyKey.objects.filter(tenant_id=tenant_id, membership_id=membership_id, key=key)
        .only("fingerprint", "status_code", "headers", "body", "expires_at")
        .first()
    )
    if stored is None:
        return None
    if stored.expires_at <= timezone.now():
        stored.delete()  # expired, not yet swept: the key is free again
        return None
    if stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for another request (a different method, path "
            "or body); use a new key for a new request."
        )
    return StoredAnswer(stored.status_code, dict(stored.headers), bytes(stored.body))


def idempotency_store(
    *,
    tenant_id: int,
    membership_id: int,
    key: str,
    fingerprint: str,
    answer: StoredAnswer,
) -> bool:
    """Store the answer beside the request's work; False if the key was stored meanwhile
    (the caller must then roll its transaction back)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                tenant_id=tenant_id,
                membership_id=membership_id,
                key=key,
                fingerprint=fingerprint,
                status_code=answer.status_code,
                headers=answer.headers,
                body=answer.body,
                created_at=now,
                expires_at=now + KEPT_FOR,
            )
    except IntegrityError:
        return False
    return True


def idempotency_purge(*, tenant: int) -> int:
    """Delete the tenant's expired keys (the beat sweep, hourly)."""
    with tenant_context(tenant):
        deleted, _ = IdempotencyKey.objects.filter(
            tenant=tenant, expires_at__lte=timezone.now()
        ).delete()
    return deleted

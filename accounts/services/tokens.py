"""API tokens: one membership each, shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from accounts.errors import NotFound
from accounts.models import ApiToken, Membership, User
from accounts.services.audit import audit_record
from accounts.tenancy import (
    TENANT_SETTING,
    TOKEN_SETTING,
    USER_SETTING,
    tenant_switched,
)

TOKEN_PREFIX = "prm_"  # noqa: S105  (a public prefix, not a secret)
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, membership: Membership, name: str) -> tuple[ApiToken, str]:
    """Create a token for a membership; returns it with its secret, which is never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        tenant_id=membership.tenant_id,
        membership=membership,
        name=name[:100] or "API token",
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        key_hash=token_hash(secret),
    )
    audit_record(
        tenant=membership.tenant, actor=membership.user, verb="api_token_created", subject=token
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, membership: Membership, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(
        pk=token_id, membership=membership, revoked_at__isnull=True
    ).first()
    if token is None:
        raise NotFound
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        tenant=membership.tenant, actor=membership.user, verb="api_token_revoked", subject=token
    )
    return token


@transaction.atomic
def api_tokens_revoke_for_user(*, user: User) -> int:
    """Revoke every live token of the user, in each of their tenants (their password was
    reset or changed: a token must not outlive the credential it was issued under).
    Audited in each tenant; returns how many were revoked."""
    revoked = 0
    with tenant_switched(tenant_id=None, user_id=user.pk):
        memberships = list(Membership.objects.filter(user=user).select_related("tenant"))
    for membership in memberships:
        with tenant_switched(tenant_id=membership.tenant_id, user_id=user.pk):
            tokens = list(ApiToken.objects.filter(membership=membership, revoked_at__isnull=True))
            ApiToken.objects.filter(pk__in=[t.pk for t in tokens]).update(revoked_at=timezone.now())
            for token in tokens:
                audit_record(
                    tenant=membership.tenant, actor=user, verb="api_token_revoked", subject=token
                )
            revoked += len(tokens)
    return revoked


def api_token_authenticate(secret: str) -> Membership | None:
    """The membership a token acts as, with the transaction pinned to its tenant.

    Must run inside a transaction. None for an unknown, revoked or unusable token.

    One round trip of three statements, run in order (AUTHENTICATE): the token's hash is
    pinned (row-level security shows a token row to its own hash only); the token is read
    and, in the same statement, its tenant pinned; the membership (with its user, tenant
    and partner) is read and, in the same statement, its user pinned and the hash unpinned.
    A `set_config` in the select list runs for the one row the statement returns, so
    nothing is pinned for a token or membership that does not qualify (a member of a
    suspended partner is refused after the read: the request ends with a 401 and its
    transaction's settings with it).

    Plain SQL, written once from the models' fields: every API request runs it, and
    building it through the ORM cost more than the rest of a detail request. Row-level
    security applies to each statement as to any query of the application role.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("a token must be authenticated inside a transaction")
    params = {
        "tenant": TENANT_SETTING,
        "user": USER_SETTING,
        "token": TOKEN_SETTING,
        "hash": token_hash(secret),
    }
    with connection.cursor() as cursor:
        cursor.execute(AUTHENTICATE, params)
        cursor.nextset()
        token = cursor.fetchone()
        cursor.nextset()
        row = cursor.fetchone()
    if token is None or row is None:
        return None
    membership = member_from_row(row)
    if membership.partner and not membership.partner.is_active:
        return None
    token_id, last_used_at = token[:2]
    now = timezone.now()
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return membership


TOKENS = ApiToken._meta.db_table
LIVE_TOKEN = f"FROM {TOKENS} WHERE key_hash = %(hash)s AND revoked_at IS NULL"  # noqa: S608

# The membership with its user, tenant and partner (as select_related would join them).
_MEMBER_PARTS = (
    (Membership, "m", None),
    (User, "u", "user"),
    (Membership._meta.get_field("tenant").related_model, "t", "tenant"),
    (Membership._meta.get_field("partner").related_model, "p", "partner"),
)


def _columns(model: type[Model], alias: str) -> list[str]:
    return [f'{alias}."{field.column}"' for field in model._meta.concrete_fields]


def _table(alias: str) -> str:
    return next(f"{m._meta.db_table} {a}" for m, a, _ in _MEMBER_PARTS if a == alias)


_MEMBER_COLUMNS = ", ".join(
    column for model, alias, _ in _MEMBER_PARTS for column in _columns(model, alias)
)
AUTHENTICATE = f"""
SELECT set_config(%(tenant)s, '', true), set_config(%(user)s, '', true),
       set_config(%(token)s, %(hash)s, true);
SELECT id, last_used_at, set_config(%(tenant)s, tenant_id::text, true) {LIVE_TOKEN};
SELECT {_MEMBER_COLUMNS},
       set_config(%(user)s, m.user_id::text, true), set_config(%(token)s, '', true)
FROM {_table("m")}
JOIN {_table("u")} ON u.id = m.user_id
JOIN {_table("t")} ON t.id = m.tenant_id
LEFT JOIN {_table("p")} ON p.id = m.partner_id
WHERE m.id = (SELECT membership_id {LIVE_TOKEN}) AND m.is_active AND u.is_active
"""  # noqa: S608  (table and column names from the models, values as parameters)


def member_from_row(row: tuple[Any, ...]) -> Membership:
    """The membership of MEMBER_READ's row, its user, tenant and partner cached on it."""
    objects: list[Model | None] = []
    offset = 0
    for model, _, _ in _MEMBER_PARTS:
        names = [field.attname for field in model._meta.concrete_fields]
        values = row[offset : offset + len(names)]
        offset += len(names)
        loaded = values[0] is not None  # the primary key (a member without a partner: None)
        objects.append(model.from_db("default", names, values) if loaded else None)
    membership = cast(Membership, objects[0])
    for (_, _, relation), related in zip(_MEMBER_PARTS[1:], objects[1:], strict=True):
        field = Membership._meta.get_field(relation)
        field.set_cached_value(membership, related)  # type: ignore[union-attr]
    return membership

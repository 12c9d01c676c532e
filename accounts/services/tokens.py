"""API tokens: one membership each, shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Expression, Func, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.errors import NotFound
from accounts.models import ApiToken, Membership, User
from accounts.services.audit import audit_record
from accounts.tenancy import (
    TENANT_SETTING,
    TOKEN_SETTING,
    USER_SETTING,
    activate,
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

    Three round trips: the token's hash is pinned (row-level security shows a token row to
    its own hash only); the token is read and, in the same statement, its tenant pinned;
    the membership is read and, in the same statement, its user pinned and the hash
    unpinned. A `set_config` in the select list runs for the one row the statement
    returns, so nothing is pinned for a token or membership that does not qualify (a member
    of a suspended partner is refused after the read: the request ends with a 401 and its
    transaction's settings with it).
    """
    digest = token_hash(secret)
    activate(tenant_id=None, api_token=digest)
    token = (
        ApiToken.objects.filter(key_hash=digest, revoked_at__isnull=True)
        .annotate(pinned=pin(TENANT_SETTING, Cast("tenant_id", TextField())))
        .first()
    )
    if token is None:
        return None
    membership = (
        Membership.objects.select_related("user", "tenant", "partner")
        .filter(pk=token.membership_id, is_active=True, user__is_active=True)
        .annotate(
            pinned=pin(USER_SETTING, Cast("user_id", TextField())),
            unpinned=pin(TOKEN_SETTING, Value("")),
        )
        .first()
    )
    if membership is None or (membership.partner and not membership.partner.is_active):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return membership


def pin(setting: str, value: Expression) -> Func:
    """`set_config(setting, value, true)`: transaction-local, like `activate()`."""
    return Func(Value(setting), value, Value(True), function="set_config", output_field=TextField())

"""Checks shared by the targets and adjustments services: the period, the scope's tier or
partner (of the tenant: another tenant's id is "Not found."), and an amount."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from accounts.errors import ApplicationError, PermissionDenied, ValidationFailed
from accounts.models import Membership, Role, Tenant
from analytics.models import Scope
from analytics.periods import Period, period_of_tenant
from partners.models import PartnerOrganization, PartnerTier

AMOUNT_MAX = Decimal("999999999999.99")
VENDOR_ADMIN = frozenset({Role.VENDOR_ADMIN})
VENDOR = frozenset({Role.VENDOR_ADMIN, Role.CHANNEL_MANAGER})
HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!]")


@dataclass(frozen=True)
class ScopeRef:
    scope: str
    tier: PartnerTier | None = None
    partner: PartnerOrganization | None = None

    @property
    def label(self) -> str:
        return str(self.tier or self.partner or "Whole tenant")


def require_role(actor: Membership, roles: frozenset[str], what: str) -> None:
    if actor.role not in roles:
        raise PermissionDenied(f"Your role does not allow {what}.")


def clean_amount(value: Any, *, signed: bool = False, field: str = "amount") -> Decimal:
    """A decimal with at most two places, within ±AMOUNT_MAX (0 to AMOUNT_MAX unsigned)."""
    low = -AMOUNT_MAX if signed else Decimal(0)
    message = f"An amount from {low:,} to {AMOUNT_MAX:,} with at most two decimals."
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise ValidationFailed(message, fields={field: [message]})
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as error:
        raise ValidationFailed(message, fields={field: [message]}) from error
    if not amount.is_finite() or not low <= amount <= AMOUNT_MAX or amount != round(amount, 2):
        raise ValidationFailed(message, fields={field: [message]})
    return amount.quantize(Decimal("0.01"))


def clean_note(note: Any, *, limit: int = 1000) -> str:
    text = note.strip() if isinstance(note, str) else ""
    if not text or len(text) > limit:
        message = f"Say why, in 1 to {limit} characters."
        raise ValidationFailed(message, fields={"note": [message]})
    if HTML_TAG.search(text):
        message = "Write the note as plain text, without HTML tags."
        raise ValidationFailed(message, fields={"note": [message]})
    return text


def clean_period(tenant: Tenant, label: Any) -> Period:
    return period_of_tenant(tenant, label if isinstance(label, str) else "")


def clean_scope(
    tenant: Tenant,
    scope: Any,
    *,
    tier_id: Any = None,
    partner_id: Any = None,
    allowed: tuple[str, ...] = tuple(Scope.values),
) -> ScopeRef:
    """The scope with its tier or partner, which must be the tenant's."""
    if scope not in allowed:
        message = f"Choose one of: {', '.join(allowed)}."
        raise ValidationFailed(message, fields={"scope": [message]})
    if scope == Scope.TENANT:
        return ScopeRef(scope)
    model, field, value = (
        (PartnerTier, "tier_id", tier_id)
        if scope == Scope.TIER
        else (PartnerOrganization, "partner_id", partner_id)
    )
    row = None
    if isinstance(value, int) and not isinstance(value, bool):
        row = model.objects.for_tenant(tenant).filter(pk=value).first()
    if row is None:
        raise ValidationFailed("Not found.", fields={field: ["Not found."]})
    if isinstance(row, PartnerTier):
        return ScopeRef(scope, tier=row)
    return ScopeRef(scope, partner=row)


def run_checks(checks: dict[str, Callable[[], Any]]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Run every check: (cleaned values, errors by field), so one answer lists them all."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, check in checks.items():
        try:
            cleaned[name] = check()
        except ApplicationError as error:
            errors.update(error.fields or {name: [error.message]})
    return cleaned, errors

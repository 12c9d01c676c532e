"""Forecast adjustments: a channel manager's correction of a partner's or tier's commit
figure for a period, with the reason. Append-only; the deals are never touched."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.errors import ValidationFailed
from accounts.models import Membership, Tenant
from accounts.services.audit import audit_record, snapshot
from analytics.models import ForecastAdjustment, Scope
from analytics.services.forecast_inputs import (
    VENDOR,
    clean_amount,
    clean_note,
    clean_period,
    clean_scope,
    require_role,
    run_checks,
)


@transaction.atomic
def adjustment_record(
    *,
    tenant: Tenant,
    actor: Membership,
    period: Any,
    scope: Any,
    amount: Any,
    note: Any,
    tier_id: Any = None,
    partner_id: Any = None,
) -> ForecastAdjustment:
    require_role(actor, VENDOR, "adjusting the forecast")
    checks = {
        "period": lambda: clean_period(tenant, period).label,
        "scope": lambda: clean_scope(
            tenant,
            scope,
            tier_id=tier_id,
            partner_id=partner_id,
            allowed=(Scope.PARTNER, Scope.TIER),
        ),
        "amount": lambda: clean_amount(amount, signed=True),
        "note": lambda: clean_note(note),
    }
    cleaned, errors = run_checks(checks)
    if not errors and cleaned["amount"] == 0:
        errors["amount"] = ["An adjustment of zero changes nothing."]
    if errors:
        raise ValidationFailed("Check the adjustment.", fields=errors)
    ref = cleaned["scope"]
    adjustment = ForecastAdjustment.objects.create(
        tenant=tenant,
        period=cleaned["period"],
        scope=ref.scope,
        tier=ref.tier,
        partner=ref.partner,
        amount=cleaned["amount"],
        note=cleaned["note"],
        created_by=actor.user,
    )
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="forecast_adjusted",
        subject=adjustment,
        after=snapshot(adjustment, ["period", "scope", "tier", "partner", "amount", "note"]),
    )
    return adjustment

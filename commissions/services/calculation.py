"""What a won deal earns under a plan version — one function for attribution, previews and
"what this open deal would earn today".

Every step is Decimal and exact; the result is rounded half-even to cents once, at the end.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db.models import Sum

from accounts.models import Tenant
from commissions.models import PlanVersion, ProductBonus, TierRate
from deals.models import DealRegistration
from pipeline.models import Opportunity

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
REGISTERED = (DealRegistration.Status.APPROVED, DealRegistration.Status.WON)


@dataclass(frozen=True)
class Breakdown:
    """How an entry's amount came about; stored with the entry as strings."""

    version_id: int
    amount: Decimal
    deal_amount: Decimal
    tier: str
    base_rate: Decimal
    base: Decimal
    registered: bool
    multiplier: Decimal
    product_bonuses: dict[str, Decimal]
    quarter_attainment: Decimal
    accelerator: Decimal
    before_cap: Decimal
    cap: Decimal | None
    capped: bool

    def as_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, Decimal):  # exact, without trailing zeros: "617.2835"
                return f"{value.normalize():f}"
            if isinstance(value, dict):
                return {key: plain(item) for key, item in value.items()}
            return value

        return {key: plain(value) for key, value in asdict(self).items()}


def version_in_force(*, tenant: Tenant | int, on: date) -> PlanVersion | None:
    """The version whose start date is the latest on or before `on`."""
    return (
        PlanVersion.objects.for_tenant(tenant)
        .filter(effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_attainment(opportunity: Opportunity, close_date: date, amount: Decimal) -> Decimal:
    """The partner's won amount in the close date's quarter up to that day, this deal (at
    `amount`) included."""
    won = (
        Opportunity.objects.for_tenant(opportunity.tenant_id)
        .filter(
            partner_id=opportunity.partner_id,
            status=Opportunity.Status.WON,
            closed_on__gte=quarter_start(close_date),
            closed_on__lte=close_date,
        )
        .exclude(pk=opportunity.pk)
        .aggregate(total=Sum("amount"))["total"]
    )
    return (won or Decimal(0)) + amount


def registered_product_lines(opportunity: Opportunity) -> tuple[bool, list[int]]:
    """Did the deal come through an approved registration, and its product lines."""
    registration = (
        DealRegistration.objects.filter(opportunity_id=opportunity.pk, status__in=REGISTERED)
        .prefetch_related("product_lines")
        .first()
    )
    if registration is None:
        return False, []
    return True, [line.pk for line in registration.product_lines.all()]


def commission_calculate(
    *,
    opportunity: Opportunity,
    amount: Decimal,
    close_date: date,
    version: PlanVersion | None = None,
) -> Breakdown | None:
    """The commission of a partner deal closing on `close_date` at `amount` (None for a
    direct deal, or when no plan version is in force then)."""
    if opportunity.partner_id is None:
        return None
    version = version or version_in_force(tenant=opportunity.tenant_id, on=close_date)
    if version is None:
        return None
    tier = opportunity.partner.tier  # type: ignore[union-attr]
    rate = TierRate.objects.filter(version=version, tier=tier).values_list("rate", flat=True)
    base_rate = rate.first() or Decimal(0)
    base = amount * base_rate / HUNDRED
    registered, line_ids = registered_product_lines(opportunity)
    multiplier = version.registered_multiplier if registered else version.unregistered_multiplier
    bonuses = {
        bonus.product_line.code: amount * bonus.bonus / HUNDRED
        for bonus in ProductBonus.objects.filter(version=version, product_line_id__in=line_ids)
        .select_related("product_line")
        .order_by("product_line__code")
    }
    attainment = quarter_attainment(opportunity, close_date, amount)
    accelerator = Decimal(0)
    if (
        version.accelerator_rate is not None
        and version.accelerator_threshold is not None
        and attainment > version.accelerator_threshold
    ):
        accelerator = amount * version.accelerator_rate / HUNDRED
    before_cap = base * multiplier + sum(bonuses.values(), Decimal(0)) + accelerator
    cap = version.cap_per_deal
    capped = cap is not None and before_cap > cap
    total = cap if capped else before_cap
    return Breakdown(
        version_id=version.pk,
        amount=total.quantize(CENT, rounding=ROUND_HALF_EVEN),  # type: ignore[union-attr]
        deal_amount=amount,
        tier=tier.name,
        base_rate=base_rate,
        base=base,
        registered=registered,
        multiplier=multiplier,
        product_bonuses=bonuses,
        quarter_attainment=attainment,
        accelerator=accelerator,
        before_cap=before_cap,
        cap=cap,
        capped=capped,
    )

"""What a won deal earns under a plan version — one function for attribution, previews and
"what this open deal would earn today".

Every step is Decimal and exact; the result is rounded half-even to cents once, at the end.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

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


@dataclass(frozen=True)
class PlanTerms:
    """A version with its rates loaded: tier id → base rate, product line id → (code, bonus)."""

    version: PlanVersion
    tier_rates: dict[int, Decimal]
    bonuses: dict[int, tuple[str, Decimal]]


def plan_terms(version: PlanVersion) -> PlanTerms:
    rates = TierRate.objects.filter(version=version).values_list("tier_id", "rate")
    bonuses = ProductBonus.objects.filter(version=version).values_list(
        "product_line_id", "product_line__code", "bonus"
    )
    return PlanTerms(version, dict(rates), {line: (code, bonus) for line, code, bonus in bonuses})


@dataclass(frozen=True)
class DealFacts:
    """What a deal's commission depends on besides its amount and the plan."""

    tier_id: int
    tier_name: str
    registered: bool
    product_line_ids: list[int]
    won_earlier_in_quarter: Decimal  # the partner's other won deals, quarter start → close


def deal_facts(deals: list[tuple[Opportunity, date]]) -> dict[int, DealFacts]:
    """Facts of partner deals closing on the given dates, in two queries for any number."""
    if not deals:
        return {}
    ids = [deal.pk for deal, _ in deals]
    registered: dict[int, list[int]] = {}
    for registration in DealRegistration.objects.filter(
        opportunity_id__in=ids, status__in=REGISTERED
    ).prefetch_related("product_lines"):
        registered[registration.opportunity_id] = [  # type: ignore[index]
            line.pk for line in registration.product_lines.all()
        ]
    won = list(
        Opportunity.objects.for_tenant(deals[0][0].tenant_id)
        .filter(
            status=Opportunity.Status.WON,
            partner_id__in={deal.partner_id for deal, _ in deals},
            closed_on__gte=min(quarter_start(day) for _, day in deals),
            closed_on__lte=max(day for _, day in deals),
        )
        .values_list("pk", "partner_id", "closed_on", "amount")
    )
    facts = {}
    for deal, day in deals:
        earlier = sum(
            (
                amount or Decimal(0)
                for pk, partner_id, closed_on, amount in won
                if partner_id == deal.partner_id
                and pk != deal.pk
                and closed_on is not None
                and quarter_start(day) <= closed_on <= day
            ),
            Decimal(0),
        )
        tier = deal.partner.tier  # type: ignore[union-attr]
        facts[deal.pk] = DealFacts(
            tier.pk, tier.name, deal.pk in registered, registered.get(deal.pk, []), earlier
        )
    return facts


def breakdown_of(terms: PlanTerms, facts: DealFacts, amount: Decimal) -> Breakdown:
    """The calculation itself: no queries."""
    version = terms.version
    base_rate = terms.tier_rates.get(facts.tier_id, Decimal(0))
    base = amount * base_rate / HUNDRED
    multiplier = (
        version.registered_multiplier if facts.registered else version.unregistered_multiplier
    )
    bonuses = {
        code: amount * bonus / HUNDRED
        for code, bonus in sorted(
            terms.bonuses[line] for line in facts.product_line_ids if line in terms.bonuses
        )
    }
    attainment = facts.won_earlier_in_quarter + amount
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
        tier=facts.tier_name,
        base_rate=base_rate,
        base=base,
        registered=facts.registered,
        multiplier=multiplier,
        product_bonuses=bonuses,
        quarter_attainment=attainment,
        accelerator=accelerator,
        before_cap=before_cap,
        cap=cap,
        capped=capped,
    )


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
    facts = deal_facts([(opportunity, close_date)])[opportunity.pk]
    return breakdown_of(plan_terms(version), facts, amount)

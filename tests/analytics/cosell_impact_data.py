"""Generated co-sell history for the impact report's tests, and the report recomputed in
plain Python from what was generated (one deal at a time), to check the SQL of
analytics/selectors/cosell_impact.py figure by figure.

Deals of three partners in two tiers (and a few direct deals the report must ignore) move
through the open stages, most close won or lost, with their stage FieldChange rows written
as the services write them; some get co-sell requests, engaged before the close, after it
(does not count) or never, some refused for capacity; some come from a registration.
Times fall at noon UTC.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from accounts.models import Tenant
from accounts.tenancy import tenant_context
from analytics.intervals import median_with_interval, wilson_interval
from analytics.selectors.cosell_impact import MIN_DEALS, SIZE_BANDS
from deals.models import DealRegistration
from partners.models import PartnerOrganization
from pipeline.models import (
    CoSellRequest,
    CoSellResourceType,
    Customer,
    FieldChange,
    LostReason,
    Opportunity,
    Stage,
)

DAY0 = datetime(2026, 1, 5, 12, tzinfo=UTC)
SINCE, UNTIL = date(2026, 3, 1), date(2026, 9, 30)  # the window the tests ask for


def day(offset: int) -> datetime:
    return DAY0 + timedelta(days=offset)


@dataclass
class CosellHistory:
    deals: list[Opportunity] = field(default_factory=list)
    changes: list[FieldChange] = field(default_factory=list)
    requests: list[CoSellRequest] = field(default_factory=list)
    registrations: dict[int, DealRegistration] = field(default_factory=dict)


def _stage_change(tenant: Tenant, deal: Opportunity, old: str, new: str, at: datetime):  # noqa: ANN202
    return FieldChange(
        tenant=tenant,
        opportunity=deal,
        field=FieldChange.Field.STAGE,
        old_value=old,
        new_value=new,
        source="created" if not old else "move",
        changed_at=at,
    )


def generate(
    *,
    tenant: Tenant,
    partners: list[PartnerOrganization],
    owner: Any,
    stages: list[Stage],
    count: int = 420,
    seed: int = 13,
) -> CosellHistory:
    rng, history = random.Random(seed), CosellHistory()
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    won = next(s for s in stages if s.kind == Stage.Kind.WON)
    lost = next(s for s in stages if s.kind == Stage.Kind.LOST)
    with tenant_context(tenant):
        types = [
            CoSellResourceType.objects.get_or_create(
                tenant=tenant, code=code, defaults={"name": code.title()}
            )[0]
            for code in ("engineer", "executive")
        ]
        reason = LostReason.objects.for_tenant(tenant).first()
        for index in range(count):
            partner = None if index % 15 == 0 else rng.choice(partners)
            _deal(rng, history, tenant, partner, owner, (open_stages, won, lost, reason), types)
        FieldChange.objects.bulk_create(history.changes)
        CoSellRequest.objects.bulk_create(history.requests)
    return history


def _deal(rng, history, tenant, partner, owner, stages, types) -> None:  # noqa: ANN001, PLR0913
    open_stages, won, lost, reason = stages
    created = rng.randint(0, 240)
    depth = rng.randint(1, len(open_stages))
    path, at = [], created
    for stage in open_stages[:depth]:
        path.append((at, stage))
        at += rng.randint(1, 20)
    ending = rng.random()
    closing = won if ending < 0.45 else lost if ending < 0.85 else None
    if closing is not None:
        path.append((at, closing))
    last_at, final = path[-1]
    amount = Decimal(rng.choice([3, 7, 12, 30, 45, 80, 150, 300, 700]) * 1000 + rng.randint(0, 999))
    deal = Opportunity.objects.create(
        tenant=tenant,
        partner=partner,
        owner=owner,
        customer=Customer.objects.create(
            tenant=tenant, name=f"C{len(history.deals)}", name_normalized="c", name_core="c"
        ),
        name=f"Deal {len(history.deals)}",
        amount=amount,
        currency="USD",
        expected_close_date=day(last_at + 10).date(),
        stage=final,
        status=closing.kind if closing else Opportunity.Status.OPEN,
        closed_on=day(last_at).date() if closing else None,
        lost_reason=reason if closing is lost else None,
        created_at=day(created),
    )
    history.deals.append(deal)
    previous = ""
    for offset, stage in path:
        history.changes.append(_stage_change(tenant, deal, previous, str(stage.pk), day(offset)))
        previous = str(stage.pk)
    if partner is not None and rng.random() < 0.45:
        _requests(rng, history, tenant, deal, created, last_at, types)
    if partner is not None and rng.random() < 0.5:
        history.registrations[deal.pk] = DealRegistration.objects.create(
            tenant=tenant,
            partner=partner,
            owner=owner,
            customer_name=deal.customer.name,
            currency="USD",
            expected_close_date=deal.expected_close_date,
            status=DealRegistration.Status.APPROVED,
            protected_until=date(2027, 1, 1),
            first_submitted_at=day(created) - timedelta(hours=rng.randint(1, 90)),
            opportunity=deal,
        )


def _requests(rng, history, tenant, deal, created, last_at, types) -> None:  # noqa: ANN001, PLR0913
    for _ in range(rng.choice([1, 1, 1, 2])):
        roll = rng.random()
        engaged = None
        if roll < 0.75:  # engaged, mostly before the close
            engaged = day(rng.randint(created, last_at + 5)) + timedelta(hours=rng.randint(0, 11))
        history.requests.append(
            CoSellRequest(
                tenant=tenant,
                opportunity=deal,
                resource_type=rng.choice(types),
                need_by=day(created + 30).date(),
                status=CoSellRequest.Status.ENGAGED if engaged else CoSellRequest.Status.REQUESTED,
                created_at=day(created),
                engaged_at=engaged,
                capacity_refused_at=day(rng.randint(created, last_at)) if roll > 0.9 else None,
            )
        )


# --- the report in plain Python ------------------------------------------------------------


def band_of(amount: Decimal) -> str:
    for index, (_, _, upper) in enumerate(SIZE_BANDS):
        if upper is None or amount < upper:
            return str(index)
    raise AssertionError(amount)


def expected(history: CosellHistory, *, since: date, until: date, tier_id: int | None = None):  # noqa: ANN201
    """{(dim, key): {measure: (with, with_interval, n_with, without, ..., too_few)}},
    first contact (deals, median, p90) and capacity refusals."""
    first_engaged: dict[int, datetime] = {}
    for request in history.requests:
        if request.engaged_at is not None:
            current = first_engaged.get(request.opportunity_id)
            if current is None or request.engaged_at < current:
                first_engaged[request.opportunity_id] = request.engaged_at
    stage_rows = defaultdict(list)
    for change in history.changes:
        stage_rows[change.opportunity_id].append(change)
    sides: dict[tuple[str, str, bool], list[Opportunity]] = defaultdict(list)
    for deal in history.deals:
        if not _counted(deal, since, until, tier_id):
            continue
        engaged = first_engaged.get(deal.pk)
        helped = engaged is not None and engaged.date() <= deal.closed_on
        keys = [
            ("all", ""),
            ("tier", str(deal.partner.tier_id)),
            ("size_band", band_of(deal.amount)),
        ]
        for key in keys:
            sides[(*key, helped)].append(deal)
        if helped:
            before = [c for c in stage_rows[deal.pk] if c.changed_at <= engaged]
            sides[("help_stage", max(before, key=lambda c: c.changed_at).new_value, True)].append(
                deal
            )
        else:
            for stage in {c.new_value for c in stage_rows[deal.pk]}:
                sides[("help_stage", stage, False)].append(deal)
    strata = {(dim, key) for dim, key, _ in sides}
    figures = {
        stratum: _compare(sides[(*stratum, True)], sides[(*stratum, False)]) for stratum in strata
    }
    return (
        figures,
        _first_contact(history, first_engaged, since, until, tier_id),
        _refused(history, since, until, tier_id),
    )


def _counted(deal: Opportunity, since: date, until: date, tier_id: int | None) -> bool:
    return (
        deal.partner is not None
        and deal.status in ("won", "lost")
        and since <= deal.closed_on <= until
        and (tier_id is None or deal.partner.tier_id == tier_id)
    )


def _compare(helped: list[Opportunity], others: list[Opportunity]) -> dict[str, tuple]:
    result = {}
    rates_shown = min(len(helped), len(others)) >= MIN_DEALS
    result["win_rate"] = (*_rate(helped, rates_shown), *_rate(others, rates_shown), not rates_shown)
    won_helped = [d for d in helped if d.status == "won"]
    won_others = [d for d in others if d.status == "won"]
    shown = min(len(won_helped), len(won_others)) >= MIN_DEALS
    for code, value in (
        ("deal_size", lambda d: d.amount),
        ("cycle_days", lambda d: (d.closed_on - d.created_at.date()).days),
    ):
        result[code] = (
            *_median(won_helped, value, shown),
            *_median(won_others, value, shown),
            not shown,
        )
    return result


def _percent(value: float) -> Decimal:
    return Decimal(str(value * 100)).quantize(Decimal("0.1"))


def _rate(deals: list[Opportunity], shown: bool) -> tuple:
    won = sum(1 for d in deals if d.status == "won")
    if not shown:
        return None, None, len(deals)
    interval = wilson_interval(won, len(deals))
    return _percent(won / len(deals)), (_percent(interval.low), _percent(interval.high)), len(deals)


def _median(deals: list[Opportunity], value, shown: bool) -> tuple:  # noqa: ANN001
    if not shown:
        return None, None, len(deals)
    median, interval = median_with_interval(sorted(value(d) for d in deals))
    return median, (interval.low, interval.high), len(deals)


def _first_contact(history, first_engaged, since, until, tier_id) -> tuple:  # noqa: ANN001
    waits = []
    for deal in history.deals:
        engaged = first_engaged.get(deal.pk)
        if engaged is None or deal.partner is None or not since <= engaged.date() <= until:
            continue
        if tier_id is not None and deal.partner.tier_id != tier_id:
            continue
        registration = history.registrations.get(deal.pk)
        start = registration.first_submitted_at if registration else deal.created_at
        waits.append(Decimal((engaged - start).total_seconds()) / 86400)
    waits.sort()
    if not waits:
        return 0, None, None

    def at(fraction: float) -> Decimal:
        import math

        return waits[max(1, math.ceil(fraction * len(waits))) - 1].quantize(Decimal("0.1"))

    return len(waits), at(0.5), at(0.9)


def _refused(history, since, until, tier_id) -> int:  # noqa: ANN001
    deals = {d.pk: d for d in history.deals}
    return sum(
        1
        for r in history.requests
        if r.capacity_refused_at is not None
        and since <= r.capacity_refused_at.date() <= until
        and deals[r.opportunity_id].partner is not None
        and (tier_id is None or deals[r.opportunity_id].partner.tier_id == tier_id)
    )

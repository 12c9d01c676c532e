"""Generated pipeline history for the metrics tests: random partner deals with their
registrations (qualification, product lines), stage moves and close-date FieldChange rows
written the way the services write them (values as text, dates ISO, the creation row with
old_value ""), plus a few direct deals the metrics must ignore.

Times fall on whole days (noon UTC), so days in a stage are whole numbers and medians are
exact; `History` keeps what was generated for the brute-force recomputation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from accounts.models import Tenant, User
from accounts.tenancy import tenant_context
from deals.models import DealRegistration, ProductLine, RegistrationProductLine
from partners.models import PartnerOrganization
from pipeline.models import Customer, FieldChange, LostReason, Opportunity, Stage, StageMove

DAY0 = datetime(2026, 2, 1, 12, tzinfo=UTC)  # the first generated day
NOW = datetime(2026, 7, 20, 12, tzinfo=UTC)  # "now" of the tests: after the last event


def day(offset: int) -> datetime:
    return DAY0 + timedelta(days=offset)


def close_date_change(
    tenant: Tenant, deal: Opportunity, old: date | None, new: date, at: datetime
) -> FieldChange:
    """A FieldChange row as hist10's services write it (creation: old_value "")."""
    return FieldChange(
        tenant=tenant,
        opportunity=deal,
        field=FieldChange.Field.EXPECTED_CLOSE_DATE,
        old_value=old.isoformat() if old else "",
        new_value=new.isoformat(),
        source="created" if old is None else "edit",
        changed_at=at,
    )


@dataclass
class History:
    deals: list[Opportunity] = field(default_factory=list)
    registrations: list[DealRegistration] = field(default_factory=list)
    lines_of: dict[int, set[int]] = field(default_factory=dict)  # registration → lines
    moves: list[StageMove] = field(default_factory=list)
    changes: list[FieldChange] = field(default_factory=list)


def _qualification(rng: random.Random) -> dict[str, object]:
    full = rng.random() < 0.5
    return {
        "budget_confirmed": full or rng.random() < 0.5,
        "decision_maker": full or rng.random() < 0.5,
        "need": "Faster quoting" if full or rng.random() < 0.5 else "",
        "timeline": "This quarter" if full or rng.random() < 0.5 else "  ",
    }


def _moves(rng: random.Random, stages: list[Stage], created: int) -> list[tuple[int, Stage]]:
    """(day offset, stage) of each move after creation; the last may close the deal."""
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    won = next(s for s in stages if s.kind == Stage.Kind.WON)
    lost = next(s for s in stages if s.kind == Stage.Kind.LOST)
    moves, at = [], created
    for _ in range(rng.randint(0, 4)):
        at += rng.randint(1, 30)
        moves.append((at, rng.choice(open_stages)))
    ending = rng.random()
    if ending < 0.55:
        at += rng.randint(1, 30)
        moves.append((at, won if ending < 0.35 else lost))
    return [(offset, stage) for offset, stage in moves if offset < 165]


def generate(  # noqa: PLR0913
    *,
    tenant: Tenant,
    partners: list[PartnerOrganization],
    owners: dict[int, list[User]],
    stages: list[Stage],
    lines: list[ProductLine],
    count: int = 120,
    seed: int = 7,
) -> History:
    rng, history = random.Random(seed), History()
    with tenant_context(tenant):
        reason = LostReason.objects.for_tenant(tenant).first()
        for index in range(count):
            partner = rng.choice([*partners, None]) if index % 10 else None
            _deal(rng, history, tenant, partner, owners, stages, lines, reason)
        StageMove.objects.bulk_create(history.moves)
        FieldChange.objects.bulk_create(history.changes)
    return history


def _deal(rng, history, tenant, partner, owners, stages, lines, reason) -> None:  # noqa: ANN001, PLR0913
    created = rng.randint(0, 120)
    moves = _moves(rng, stages, created)
    final = moves[-1][1] if moves else stages[0]
    status = final.kind if final.kind != Stage.Kind.OPEN else Opportunity.Status.OPEN
    amount = Decimal(rng.randint(1, 400) * 250) if status == "won" or rng.random() < 0.8 else None
    owner = rng.choice(owners[partner.pk]) if partner else owners[0][0]
    close = (day(created) + timedelta(days=rng.randint(10, 120))).date()
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
        expected_close_date=close,
        stage=final,
        status=status,
        lost_reason=reason if status == "lost" else None,
        closed_on=day(moves[-1][0]).date() if status != "open" else None,
        stage_entered_at=day(moves[-1][0] if moves else created),
        last_activity_at=day(rng.randint(created, 165)),
        created_at=day(created),
        **_qualification(rng),
    )
    history.deals.append(deal)
    previous = None
    for offset, stage in [(created, stages[0]), *moves]:
        history.moves.append(
            StageMove(
                tenant=tenant,
                opportunity=deal,
                from_stage=previous,
                to_stage=stage,
                to_status=stage.kind if stage.kind != "open" else "open",
                created_at=day(offset),
            )
        )
        previous = stage
    _close_dates(rng, history, tenant, deal, created, close)
    if partner and rng.random() < 0.85:
        _registration(rng, history, tenant, deal, created, lines)


def _close_dates(rng, history, tenant, deal, created, close) -> None:  # noqa: ANN001
    if rng.random() < 0.2:
        return  # a deal from before the history: no rows at all
    history.changes.append(close_date_change(tenant, deal, None, close, day(created)))
    at, current = created, close
    for _ in range(rng.randint(0, 3)):
        at += rng.randint(1, 25)
        new = current + timedelta(days=rng.choice([-20, 10, 35, 70]))
        history.changes.append(close_date_change(tenant, deal, current, new, day(at)))
        current = new


def _registration(rng, history, tenant, deal, created, lines) -> None:  # noqa: ANN001
    registration = DealRegistration.objects.create(
        tenant=tenant,
        partner=deal.partner,
        owner=deal.owner,
        customer_name=deal.customer.name,
        currency="USD",
        expected_close_date=(day(created) + timedelta(days=rng.randint(20, 100))).date(),
        status=DealRegistration.Status.APPROVED if deal.status == "open" else deal.status,
        protected_until=date(2027, 1, 1),
        first_submitted_at=day(max(created - rng.randint(0, 5), 0)),
        opportunity=deal,
        **_qualification(rng),
    )
    chosen = {line.pk for line in lines if rng.random() < 0.5}
    for line_id in chosen:
        RegistrationProductLine.objects.create(
            tenant=tenant, registration=registration, product_line_id=line_id
        )
    history.registrations.append(registration)
    history.lines_of[registration.pk] = chosen

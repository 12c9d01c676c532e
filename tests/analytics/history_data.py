"""Generated deal histories for the history and waterfall tests: many random changes made
through the real services, with the live state of every deal photographed along the way
(the brute-force truth the selectors are checked against)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Membership
from accounts.tenancy import tenant_context
from pipeline.models import Opportunity, Stage
from pipeline.services import opportunities as deals
from pipeline.services.customers import customer_get_or_create
from tests.conftest import World

CATEGORIES = ("", "pipeline", "best_case", "commit", "omitted")


@dataclass
class Photo:
    """Every deal's live state at one moment: id → (amount, close date, stage id, status,
    category, owner id, partner id)."""

    at: datetime
    deals: dict[int, tuple[Any, ...]]


@dataclass
class History:
    photos: list[Photo] = field(default_factory=list)


def live_state(tenant: Any) -> dict[int, tuple[Any, ...]]:
    return {
        deal.pk: (
            deal.amount,
            deal.expected_close_date,
            deal.stage_id,
            deal.status,
            deal.forecast_category,
            deal.owner_id,
            deal.partner_id,
        )
        for deal in Opportunity.objects.for_tenant(tenant).select_related("stage")
    }


def _owner(world: World, rng: random.Random) -> Membership:
    return rng.choice(
        [world.partner_rep, world.partner_admin, world.other_partner_rep, world.vendor_admin]
    )


def _create(world: World, rng: random.Random, n: int) -> None:
    owner = _owner(world, rng)
    customer, _ = customer_get_or_create(tenant=world.tenant, name=f"Customer {n} GmbH")
    deals.opportunity_create(
        tenant=world.tenant,
        actor=owner,
        customer=customer,
        name=f"Deal {n}",
        owner=owner.user,
        partner_id=owner.partner_id,
        amount=str(Decimal(rng.randrange(100, 100_000_00)) / 100) if rng.random() < 0.9 else None,
        expected_close_date=timezone.localdate() + timedelta(days=rng.randrange(0, 150)),
    )


def _step(world: World, rng: random.Random, deal: Opportunity, stages: list[Stage]) -> None:
    """One random change of one deal, as the vendor admin (who sees every deal)."""
    common = {"tenant": world.tenant, "actor": world.vendor_admin, "opportunity_id": deal.pk}
    if deal.status != Opportunity.Status.OPEN:
        deals.opportunity_reopen(**common)
        return
    action = rng.choice(("amount", "amount", "date", "date", "move", "won", "lost", "category"))
    if action == "amount":
        cents = rng.randrange(100, 100_000_00)
        deals.opportunity_update(**common, amount=str(Decimal(cents) / 100))
    elif action == "date":
        deals.opportunity_update(
            **common, expected_close_date=timezone.localdate() + timedelta(rng.randrange(0, 150))
        )
    elif action == "move":
        target = rng.choice([s for s in stages if s.pk != deal.stage_id])
        deals.opportunity_move_stage(
            **common, stage_id=target.pk, force=True, force_reason="Generated history"
        )
    elif action == "won":
        deals.opportunity_close_won(
            **common,
            amount=deal.amount or Decimal("1000.00"),
            close_date=timezone.localdate(),
            force=True,
            force_reason="Generated history",
        )
    elif action == "lost":
        deals.opportunity_close_lost(**common, reason_code="price")
    else:
        deals.opportunity_set_forecast_category(**common, category=rng.choice(CATEGORIES))


def generate(world: World, *, seed: int, deals_count: int = 12, steps: int = 90) -> History:
    """Deals created and changed in random order; a photo of the live state after every
    few steps. Every change goes through a service (the history is what they write)."""
    rng = random.Random(seed)
    history = History()
    with tenant_context(world.tenant):
        stages = list(Stage.objects.for_tenant(world.tenant).filter(kind="open", is_active=True))
        for n in range(deals_count // 2):
            _create(world, rng, n)
        history.photos.append(Photo(timezone.now(), live_state(world.tenant)))
        for step in range(steps):
            if step % 9 == 4:
                _create(world, rng, deals_count // 2 + step)
            else:
                deal = rng.choice(list(Opportunity.objects.for_tenant(world.tenant)))
                _step(world, rng, deal, stages)
            if step % 7 == 6:
                history.photos.append(Photo(timezone.now(), live_state(world.tenant)))
        history.photos.append(Photo(timezone.now(), live_state(world.tenant)))
    return history

"""Commission fixtures: a plan in force, and won deals whose events are attributed by the
real handlers (the outbox dispatcher, called in-process)."""

# ruff: noqa: F811  (the deals fixtures are imported to be shared, then used as parameters)
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import DomainEvent
from accounts.services.events import event_dispatch
from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PlanVersion, ProductBonus, TierRate
from deals.models import ProductLine
from pipeline.models import Opportunity
from pipeline.services.opportunities import opportunity_close_won
from tests.conftest import World
from tests.deals.conftest import deals_world, register  # noqa: F401  (fixtures)
from tests.pipeline.factories import OpportunityFactory, make_ready_to_win

PLAN_START = date(2020, 1, 1)


@pytest.fixture
def plan(deals_world: World) -> PlanVersion:
    """In force since 2020: Gold 10 %, registered ×1.0, unregistered ×0.5, cloud +2 %."""
    w = deals_world
    with tenant_context(w.tenant):
        version = PlanVersion.objects.create(
            tenant=w.tenant, name="Standard", effective_from=PLAN_START
        )
        TierRate.objects.create(tenant=w.tenant, version=version, tier=w.tier, rate=Decimal(10))
        cloud = ProductLine.objects.get(tenant=w.tenant, code="cloud")
        ProductBonus.objects.create(
            tenant=w.tenant, version=version, product_line=cloud, bonus=Decimal(2)
        )
    return version


@pytest.fixture
def partner_deal(deals_world: World) -> Callable[..., Opportunity]:
    def make(member: Any = None, **fields: Any) -> Opportunity:
        member = member or deals_world.partner_rep
        return OpportunityFactory(
            tenant=deals_world.tenant,
            partner=member.partner,
            owner=member.user,
            amount=fields.pop("amount", Decimal("10000.00")),
            **fields,
        )

    return make


def dispatch_last(tenant, name: str) -> DomainEvent:  # noqa: ANN001
    """Deliver the newest event of that name to its handlers, as the worker would."""
    with tenant_context(tenant):
        event = DomainEvent.objects.filter(name=name).order_by("-id").first()
    event_dispatch(tenant_id=tenant.pk, event_id=event.pk)
    return event


@pytest.fixture
def close_won(deals_world: World) -> Callable[..., DomainEvent]:
    """Close a deal as won (as the channel manager) and dispatch its event."""

    def close(deal: Opportunity, *, amount: Any = None, on: date | None = None) -> DomainEvent:
        w = deals_world
        make_ready_to_win(w.tenant, deal.pk)
        with tenant_context(w.tenant):
            opportunity_close_won(
                tenant=w.tenant,
                actor=w.channel_manager,
                opportunity_id=deal.pk,
                amount=amount,
                close_date=on or timezone.localdate(),
            )
        return dispatch_last(w.tenant, "opportunity.won")

    return close


def entries_of(tenant, deal: Opportunity) -> list[CommissionEntry]:  # noqa: ANN001
    with tenant_context(tenant):
        return list(CommissionEntry.objects.filter(opportunity=deal).order_by("id"))


YESTERDAY = timedelta(days=1)

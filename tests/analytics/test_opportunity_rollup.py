"""The forecast rollup kept by triggers (pipeline 0020) equals a brute-force GROUP BY of the
deals after every kind of write: the services' random histories, bulk SQL updates and
deletions; and a tenant never sees another's rows."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from accounts.tenancy import tenant_context
from pipeline.models import Opportunity, OpportunityRollup
from tests.analytics.history_data import generate
from tests.conftest import World

pytestmark = pytest.mark.django_db


def brute_force(tenant) -> dict[tuple, tuple[Decimal, int]]:
    sums: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0])
    for deal in Opportunity.objects.for_tenant(tenant):
        if deal.status not in ("open", "won"):
            continue
        won = deal.status == "won"
        day = deal.closed_on if won else deal.expected_close_date
        key = (
            deal.status,
            day.replace(day=1) if day else None,
            deal.partner_id,
            0 if won else deal.stage_id,
            "" if won else deal.forecast_category_override,
        )
        sums[key][0] += deal.amount or 0
        sums[key][1] += 1
    return {key: (amount, count) for key, (amount, count) in sums.items()}


def kept(tenant) -> dict[tuple, tuple[Decimal, int]]:
    return {
        (r.status, r.month, r.partner_id, r.stage_id, r.category_override): (r.amount, r.deals)
        for r in OpportunityRollup.objects.for_tenant(tenant)
        if r.deals or r.amount
    }


@pytest.mark.parametrize("seed", [3, 4])
def test_the_rollup_follows_every_service_write(world: World, stages, seed):
    generate(world, seed=seed, deals_count=16, steps=120)
    with tenant_context(world.tenant):
        assert kept(world.tenant) == brute_force(world.tenant)
        assert kept(world.tenant)


def test_the_rollup_follows_bulk_updates_and_deletions(world: World, stages):
    generate(world, seed=5, deals_count=12, steps=40)
    with tenant_context(world.tenant):
        deals = Opportunity.objects.for_tenant(world.tenant)
        deals.filter(status="open").update(amount=Decimal("10.00"))
        assert kept(world.tenant) == brute_force(world.tenant)
        first = deals.order_by("pk").first()
        Opportunity.objects.filter(pk=first.pk).delete()
        deals.filter(partner__isnull=True).delete()
        assert kept(world.tenant) == brute_force(world.tenant)


def test_another_tenant_sees_none_of_the_rows(world: World, stages):
    generate(world, seed=6, deals_count=8, steps=10)
    with tenant_context(world.other_tenant):
        assert not OpportunityRollup.objects.exists()
    with tenant_context(world.tenant):
        assert OpportunityRollup.objects.exists()

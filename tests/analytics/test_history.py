"""The state of deals as of any moment, rebuilt from the field history alone: equal to the
live state photographed at that moment, to the cent, on a history of many random changes
made through the real services; and push count, slip days, amount changes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_context
from analytics.selectors.history import deal_moves, deals_as_of
from pipeline.models import FieldChange, Opportunity
from pipeline.services.opportunities import opportunity_update
from tests.analytics.history_data import generate, live_state
from tests.conftest import World


def as_tuples(states) -> dict[int, tuple]:
    return {
        pk: (
            s.amount,
            s.expected_close_date,
            s.stage_id,
            s.status,
            s.forecast_category,
            s.owner_id,
            s.partner_id,
        )
        for pk, s in states.items()
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_as_of_every_photographed_moment_equals_the_live_state_then(world: World, stages, seed):
    history = generate(world, seed=seed)

    with tenant_context(world.tenant):
        for photo in history.photos:
            assert as_tuples(deals_as_of(tenant=world.tenant, moment=photo.at)) == photo.deals


def test_as_of_now_equals_the_live_state(world: World, stages):
    generate(world, seed=3, deals_count=16, steps=120)

    with tenant_context(world.tenant):
        rebuilt = as_tuples(deals_as_of(tenant=world.tenant, moment=timezone.now()))
        assert rebuilt == live_state(world.tenant)
        assert len(rebuilt) == Opportunity.objects.for_tenant(world.tenant).count()


def replay(rows: list[FieldChange], moment) -> dict[int, dict[str, str]]:
    """Brute force: apply every row at or before the moment, in order."""
    state: dict[int, dict[str, str]] = {}
    for row in sorted(rows, key=lambda r: (r.changed_at, r.pk)):
        if row.changed_at <= moment:
            state.setdefault(row.opportunity_id, {})[row.field] = row.new_value
    return state


def test_as_of_between_changes_equals_a_replay_of_the_rows(world: World, stages):
    generate(world, seed=4)
    with tenant_context(world.tenant):
        rows = list(FieldChange.objects.for_tenant(world.tenant))
        moments = sorted({r.changed_at for r in rows})
        for moment in moments[:: max(1, len(moments) // 15)] + [moments[0] - timedelta(1)]:
            expected = replay(rows, moment)
            rebuilt = deals_as_of(tenant=world.tenant, moment=moment)
            assert set(rebuilt) == set(expected)
            for pk, state in rebuilt.items():
                assert state.amount == (Decimal(a) if (a := expected[pk]["amount"]) else None)
                assert str(state.stage_id) == expected[pk]["stage"]
                assert state.status == expected[pk]["status"]
                assert state.forecast_category == expected[pk]["forecast_category"]


def test_as_of_is_one_query(world: World, stages, django_assert_num_queries):
    generate(world, seed=5, deals_count=6, steps=10)
    with tenant_context(world.tenant), django_assert_num_queries(1):
        deals_as_of(tenant=world.tenant, moment=timezone.now())


def test_as_of_another_tenant_sees_none_of_these_deals(world: World, stages):
    generate(world, seed=6, deals_count=4, steps=5)
    with tenant_context(world.other_tenant):
        assert deals_as_of(tenant=world.other_tenant, moment=timezone.now()) == {}


def test_push_count_slip_days_and_amount_changes(world: World, stages, make_deal):
    deal = make_deal(amount="1000.00", expected_close_date=timezone.localdate() + timedelta(days=3))
    start = deal.expected_close_date
    moves = [
        {"expected_close_date": start + timedelta(days=40)},  # next month or later: a push
        {"amount": "1200.00"},
        {"expected_close_date": start + timedelta(days=10)},  # earlier: no slip
        {"expected_close_date": start + timedelta(days=12)},  # 2 days later, maybe same month
        {"amount": "900.50"},
    ]
    with tenant_context(world.tenant):
        for change in moves:
            opportunity_update(
                tenant=world.tenant, actor=world.vendor_admin, opportunity_id=deal.pk, **change
            )
        figures = deal_moves(tenant=world.tenant, moment=timezone.now())[deal.pk]

    later_month = (start + timedelta(days=12)).month != (start + timedelta(days=10)).month
    assert figures.push_count == 1 + int(later_month)
    assert figures.slip_days == 40 + 2
    assert figures.amount_changes == 2

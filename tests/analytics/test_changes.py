"""The waterfall reconciles: start + parts == end to the cent, and every part equals a
brute-force classification of the live states photographed at `since` and `until`, on
random histories made through the real services; for the whole tenant, a partner's
organization and a rep's own deals, with and without a close-date period."""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_context
from analytics.periods import month_of
from analytics.selectors.changes import PARTS, ChangeScope, pipeline_change_deals, pipeline_changes
from tests.analytics.history_data import generate
from tests.conftest import World


def contribution(state, period) -> Decimal:
    if state is None or state[3] != "open":
        return Decimal(0)
    if period is not None and (state[1] is None or state[1] not in period):
        return Decimal(0)
    return state[0] or Decimal(0)


def brute_force(start: dict, end: dict, period, visible) -> tuple[Decimal, Decimal, dict]:
    """Totals and parts from two photos, by the rules in the selector's docstring."""
    parts = dict.fromkeys(PARTS, Decimal(0))
    ids = {pk for pk in set(start) | set(end) if visible(start.get(pk) or end.get(pk))}
    for pk in ids:
        s, u = start.get(pk), end.get(pk)
        s_c, u_c = contribution(s, period), contribution(u, period)
        s_in = s is not None and s[3] == "open" and (period is None or s[1] in period)
        u_in = u is not None and u[3] == "open" and (period is None or u[1] in period)
        if s_in and u_in and u_c != s_c:
            parts["amount_up" if u_c > s_c else "amount_down"] += u_c - s_c
        elif u_in and not s_in:
            part = "new" if s is None else "reopened" if s[3] != "open" else "pulled_in"
            parts[part] += u_c
        elif s_in and not u_in:
            parts[u[3] if u[3] in ("won", "lost") else "pushed_out"] -= s_c
    start_total = sum((contribution(start.get(pk), period) for pk in ids), Decimal(0))
    end_total = sum((contribution(end.get(pk), period) for pk in ids), Decimal(0))
    return start_total, end_total, parts


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("scope_name", ["vendor_admin", "partner_admin", "partner_rep"])
def test_the_waterfall_reconciles_and_matches_a_brute_force(world: World, stages, seed, scope_name):
    history = generate(world, seed=seed, deals_count=14, steps=100)
    member = world.member(scope_name)
    scope = ChangeScope.of(member)

    def visible(state) -> bool:
        if scope.partner_id is not None and state[6] != scope.partner_id:
            return False
        return scope.owner_id is None or state[5] == scope.owner_id

    periods = [None, month_of(timezone.localdate()), month_of(timezone.localdate()).shifted(1)]
    with tenant_context(world.tenant):
        for (a, b), period in zip(combinations(history.photos, 2), periods * 50, strict=False):
            figures = pipeline_changes(scope=scope, since=a.at, until=b.at, period=period)
            start_total, end_total, parts = brute_force(a.deals, b.deals, period, visible)

            assert figures.start_total == start_total
            assert figures.end_total == end_total
            assert figures.parts == parts
            assert figures.start_total + sum(figures.parts.values()) == figures.end_total


def test_each_part_lists_exactly_its_deals(world: World, stages):
    history = generate(world, seed=13, deals_count=14, steps=80)
    first, last = history.photos[0], history.photos[-1]
    scope = ChangeScope.of(world.vendor_admin)
    with tenant_context(world.tenant):
        figures = pipeline_changes(scope=scope, since=first.at, until=last.at)
        for part in PARTS:
            deals = pipeline_change_deals(scope=scope, since=first.at, until=last.at, part=part)
            assert sum((d.change for d in deals), Decimal(0)) == figures.parts[part]
            assert len(deals) == figures.counts[part]


def test_figures_and_a_part_are_one_query_each_after_jit_off(
    world: World, stages, django_assert_num_queries
):
    history = generate(world, seed=14, deals_count=8, steps=20)
    scope = ChangeScope.of(world.channel_manager)
    since, until = history.photos[0].at, history.photos[-1].at
    with tenant_context(world.tenant), django_assert_num_queries(4):
        pipeline_changes(scope=scope, since=since, until=until)
        pipeline_change_deals(scope=scope, since=since, until=until, part="new")


def test_another_tenant_sees_an_empty_waterfall(world: World, stages):
    history = generate(world, seed=15, deals_count=6, steps=10)
    with tenant_context(world.other_tenant):
        figures = pipeline_changes(
            scope=ChangeScope.of(world.other_tenant_admin),
            since=history.photos[0].at,
            until=timezone.now(),
        )
    assert figures.start_total == figures.end_total == Decimal(0)
    assert set(figures.parts.values()) == {Decimal(0)}

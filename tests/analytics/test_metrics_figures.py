"""Every effectiveness figure against a brute-force recomputation on generated history:
in total, per stage, per partner, tier, region and product line; filtered; and as a partner
admin (own figures beside the partners' median) and a partner rep (own deals)."""

from __future__ import annotations

import statistics
from decimal import Decimal

import pytest

from accounts.tenancy import tenant_context
from analytics.selectors.metrics import (
    FIGURES,
    GROUPINGS,
    MEDIAN_MIN_PARTNERS,
    MetricFilters,
    metrics_for_partner,
    metrics_for_tenant,
    rounded,
)
from tests.analytics.brute_force import BruteForce
from tests.analytics.metrics_data import NOW

CODES = [figure.code for figure in FIGURES]


def everything(deal, registration) -> bool:  # noqa: ANN001
    return True


def expected_values(expected: dict, key: tuple[str, str]) -> dict:
    values = expected.get(key, {})
    return {code: values.get(code) for code in CODES}


def test_every_figure_matches_the_brute_force_per_grouping(metrics_world):
    mw = metrics_world
    expected = BruteForce(mw.history, mw.period, NOW, everything).figures()
    with tenant_context(mw.world.tenant):
        metrics = metrics_for_tenant(
            tenant=mw.world.tenant, period=mw.period, filters=MetricFilters(), now=NOW
        )
    assert metrics.total.values == expected_values(expected, ("total", ""))
    for name, _ in GROUPINGS:
        got = {row.key: row.values for row in metrics.groups[name]}
        keys = {key for dim, key in expected if dim == name}
        assert set(got) == keys, name
        for key in keys:
            assert got[key] == expected_values(expected, (name, key)), (name, key)
    for row in metrics.stages:
        values = expected.get(("stage", str(row.stage.pk)), {})
        assert row.stage_days == values.get("stage_days"), row.stage.name
        assert row.conversion_rate == values.get("conversion_rate"), row.stage.name
    # the generated history exercises every figure
    assert all(metrics.total.values[code] is not None for code in CODES)
    assert sum(row.visits for row in metrics.stages) > 20


def test_the_expected_cycle_is_the_median_won_cycle(metrics_world):
    mw = metrics_world
    with tenant_context(mw.world.tenant):
        metrics = metrics_for_tenant(
            tenant=mw.world.tenant, period=mw.period, filters=MetricFilters(), now=NOW
        )
    assert metrics.expected_cycle_days == BruteForce(mw.history, mw.period, NOW, everything).cycle()


@pytest.mark.parametrize("which", ["tier", "region", "product_line", "partner"])
def test_filters_narrow_every_figure_like_the_brute_force(metrics_world, which):
    mw = metrics_world
    silver = mw.partners[2].tier
    edge = mw.lines[1]
    filters, keep = {
        "tier": (MetricFilters(tier=silver), lambda d, r: d.partner.tier_id == silver.pk),
        "region": (MetricFilters(region="EMEA"), lambda d, r: d.partner.region == "EMEA"),
        "product_line": (
            MetricFilters(product_line=edge),
            lambda d, r: r is not None and edge.pk in mw.history.lines_of[r.pk],
        ),
        "partner": (
            MetricFilters(partner=mw.partners[1]),
            lambda d, r: d.partner_id == mw.partners[1].pk,
        ),
    }[which]
    expected = BruteForce(mw.history, mw.period, NOW, keep).figures()
    with tenant_context(mw.world.tenant):
        metrics = metrics_for_tenant(
            tenant=mw.world.tenant, period=mw.period, filters=filters, now=NOW
        )
    assert metrics.total.values == expected_values(expected, ("total", ""))
    assert {row.key for row in metrics.groups["partner"]} == {
        key for dim, key in expected if dim == "partner"
    }


def median_of_partners(exact: dict, dim: str, code: str, suffix: str = "") -> Decimal | None:
    values = [
        values[code]
        for (d, key), values in exact.items()
        if d == dim and key.endswith(suffix) and values.get(code) is not None
    ]
    if len(values) < MEDIAN_MIN_PARTNERS:
        return None
    return rounded(code, statistics.median(Decimal(str(v)) for v in values))


def test_a_partner_admin_sees_their_figures_beside_the_partners_median(metrics_world):
    mw = metrics_world
    admin = mw.world.partner_admin
    brute = BruteForce(mw.history, mw.period, NOW, everything)
    expected, exact = brute.figures(), brute.exact()
    with tenant_context(mw.world.tenant):
        metrics = metrics_for_partner(
            membership=admin, period=mw.period, filters=MetricFilters(), now=NOW
        )
    assert metrics.total.values == expected_values(expected, ("partner", str(admin.partner_id)))
    assert metrics.medians == {code: median_of_partners(exact, "partner", code) for code in CODES}
    assert all(value is not None for value in metrics.medians.values())
    for row in metrics.stages:
        suffix = f":{row.stage.pk}"
        assert row.median_stage_days == median_of_partners(
            exact, "partner_stage", "stage_days", suffix
        )
        assert row.median_conversion_rate == median_of_partners(
            exact, "partner_stage", "conversion_rate", suffix
        )


def test_no_median_is_shown_with_fewer_than_three_partners(metrics_world):
    mw = metrics_world
    with tenant_context(mw.world.tenant):
        metrics = metrics_for_partner(
            membership=mw.world.partner_admin,
            period=mw.period,
            filters=MetricFilters(region="EMEA"),  # only two partners are in EMEA
            now=NOW,
        )
    assert metrics.medians == dict.fromkeys(CODES)


def test_a_partner_rep_sees_the_figures_of_the_deals_they_own(metrics_world):
    mw = metrics_world
    rep = mw.world.partner_rep

    def own(deal, registration) -> bool:  # noqa: ANN001
        return deal.owner_id == rep.user_id and deal.partner_id == rep.partner_id

    expected = BruteForce(mw.history, mw.period, NOW, own).figures()
    with tenant_context(mw.world.tenant):
        metrics = metrics_for_partner(
            membership=rep, period=mw.period, filters=MetricFilters(), now=NOW
        )
    assert metrics.total.values == expected_values(expected, ("total", ""))
    assert metrics.medians is None

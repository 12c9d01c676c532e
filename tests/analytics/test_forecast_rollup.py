"""Every figure of the rollup against a brute-force recomputation, deal by deal in Python,
on generated data; and the query count does not grow with the deals."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from accounts.tenancy import tenant_context
from analytics.models import ForecastAdjustment, ForecastTarget
from analytics.selectors.calibration import calibration
from analytics.selectors.forecast import FIGURES, forecast_for_tenant
from deals.models import RegistrationProductLine
from partners.regions import region_for_country
from pipeline.models import Opportunity
from tests.analytics.conftest import CATEGORY_ADDS, Generated, generate

pytestmark = pytest.mark.django_db

CENTS = Decimal("0.01")


def in_period(deal: Opportunity, period) -> bool:
    if deal.status == "open":
        return deal.expected_close_date is not None and deal.expected_close_date in period
    return deal.status == "won" and deal.closed_on in period


def keys_of(deal: Opportunity, group_by: str, lines: dict[int, list[str]]) -> list:
    partner = deal.partner
    if group_by == "total":
        return [None]
    if group_by == "partner":
        return [deal.partner_id]
    if group_by == "tier":
        return [partner.tier_id if partner else None]
    if group_by == "region":
        return [partner.region if partner else region_for_country(deal.customer.country)]
    if group_by == "channel_manager":
        return [partner.channel_manager_id if partner else None]
    return lines.get(deal.pk) or [None]


def brute_force(world, generated: Generated, group_by: str) -> dict:
    """key → figures, one deal at a time."""
    with tenant_context(world.tenant):
        deals = list(
            Opportunity.objects.for_tenant(world.tenant).select_related(
                "partner", "stage", "customer"
            )
        )
        lines: dict[int, list[str]] = defaultdict(list)
        for opp_id, code in RegistrationProductLine.objects.for_tenant(world.tenant).values_list(
            "registration__opportunity_id", "product_line__code"
        ):
            lines[opp_id].append(code)
        cal = calibration(tenant=world.tenant)
    rows: dict = defaultdict(lambda: dict.fromkeys(FIGURES, Decimal(0)))
    for deal in deals:
        if not in_period(deal, generated.period):
            continue
        amount = deal.amount or Decimal(0)
        for key in keys_of(deal, group_by, lines):
            row = rows[key]
            if deal.status == "won":
                for name in FIGURES:
                    row[name] += amount
                continue
            if deal.forecast_category == "omitted":
                continue
            for name in CATEGORY_ADDS[deal.forecast_category]:
                row[name] += amount
            row["weighted"] += amount * Decimal(deal.stage.probability) / 100
            row["calibrated_weighted"] += amount * cal.probability(deal.partner_id, deal.stage_id)
    return {
        key: {n: v.quantize(CENTS) for n, v in figures.items()} for key, figures in rows.items()
    }


@pytest.mark.parametrize(
    "group_by", ["partner", "tier", "region", "product_line", "channel_manager"]
)
def test_every_figure_matches_a_brute_force_recomputation(world, group_by):
    generated = generate(world, count=80)
    expected = brute_force(world, generated, group_by)
    with tenant_context(world.tenant):
        forecast = forecast_for_tenant(
            tenant=world.tenant, period=generated.period, group_by=group_by
        )
    got = {row.key: row.figures() for row in forecast.rows}
    assert got == expected
    assert len(expected) >= 2  # the data really spreads over several groups
    assert forecast.total.figures() == brute_force(world, generated, "total")[None]


def test_cumulative_categories_and_coverage_with_target_and_adjustments(world):
    generated = generate(world, count=40, seed=11)
    partner = generated.partners[0]
    with tenant_context(world.tenant):
        ForecastTarget.objects.create(
            tenant=world.tenant,
            period="2027-Q1",
            scope="partner",
            partner=partner,
            amount=Decimal("1000000.00"),
        )
        ForecastTarget.objects.create(
            tenant=world.tenant, period="2027-Q1", scope="tenant", amount=Decimal("1.00")
        )
        for amount in ("500.00", "-200.00"):
            ForecastAdjustment.objects.create(
                tenant=world.tenant,
                period="2027-Q1",
                scope="partner",
                partner=partner,
                amount=Decimal(amount),
                note="Known slip",
            )
        forecast = forecast_for_tenant(
            tenant=world.tenant, period=generated.period, group_by="partner"
        )
    row = next(r for r in forecast.rows if r.key == partner.pk)
    assert row.closed_won <= row.commit <= row.best_case <= row.pipeline
    assert row.target == Decimal("1000000.00")
    assert row.coverage == (
        (row.pipeline - row.closed_won) / (Decimal("1000000.00") - row.closed_won)
    ).quantize(CENTS)
    assert row.adjustment == Decimal("300.00")
    assert row.adjusted_commit == row.commit + Decimal("300.00")
    other = next(r for r in forecast.rows if r.key == generated.partners[1].pk)
    assert other.target is None
    assert other.coverage is None
    assert other.adjustment == 0
    # The tenant's target of 1.00 is already met by closed won: no coverage (None).
    assert forecast.total.closed_won > 1
    assert forecast.total.coverage is None
    assert forecast.total.adjustment == Decimal("300.00")


def test_the_rollup_costs_the_same_queries_with_more_deals(world, django_assert_num_queries):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    generated = generate(world, count=10, seed=3)

    def run() -> None:
        cache.clear()
        with tenant_context(world.tenant):
            forecast_for_tenant(tenant=world.tenant, period=generated.period, group_by="tier")

    with CaptureQueriesContext(connection) as baseline:
        run()
    generate_more(world)
    with django_assert_num_queries(len(baseline)):
        run()


def generate_more(world) -> None:
    from tests.analytics import conftest

    with tenant_context(world.tenant):
        stages = list(world.tenant and conftest.install_stages(world))
    rng = __import__("random").Random(5)
    period = conftest.parse_period(conftest.PERIOD)
    with tenant_context(world.tenant):
        partners = list(conftest.PartnerOrganization.objects.for_tenant(world.tenant))
        customer = Opportunity.objects.for_tenant(world.tenant).first().customer
        owner = Opportunity.objects.for_tenant(world.tenant).first().owner
        for _ in range(30):
            deal = Opportunity.objects.create(
                tenant=world.tenant,
                partner=rng.choice(partners),
                owner=owner,
                customer=customer,
                name="More",
                currency="USD",
                amount=Decimal(rng.randint(1, 9000)),
                expected_close_date=period.start,
                stage=stages[rng.randint(0, 4)],
            )
            conftest._history(world, rng, deal, stages[:5])

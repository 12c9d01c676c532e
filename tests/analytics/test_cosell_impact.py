"""The co-sell impact report against a brute-force recomputation on generated history
(tests/analytics/cosell_impact_data.py), overall and per tier, deal-size band and help
stage, with and without a tier filter; and its page, CSV and
GET /api/v1/cosell-impact/: who may see it (vendor roles; partners 403; another tenant's
tier a 400 that says nothing of it), bad queries, constant query counts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tenancy import tenant_context
from analytics.selectors.cosell_impact import MEASURE_CODES, cosell_impact
from analytics.services.deal_facts import deal_facts_refresh, deal_facts_refresh_all
from pipeline.models import CoSellRequest, Opportunity, Stage
from tests.accounts.factories import MembershipFactory
from tests.analytics.conftest import extra_partners, install_stages, moment
from tests.analytics.cosell_impact_data import SINCE, UNTIL, CosellHistory, expected, generate
from tests.api_clients import api_as
from tests.conftest import World

PAGE, CSV = reverse("vendor:cosell_impact"), reverse("vendor:cosell_impact_csv")
API = "/api/v1/cosell-impact/"
WINDOW = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}


@dataclass
class ImpactWorld:
    world: World
    history: CosellHistory
    stages: list[Stage]
    partners: list


@pytest.fixture
def impact_world(world) -> ImpactWorld:
    stages = install_stages(world)
    partners = extra_partners(world)
    owner = MembershipFactory(tenant=world.tenant, role=Role.PARTNER_REP, partner=world.partner)
    history = generate(tenant=world.tenant, partners=partners, owner=owner.user, stages=stages)
    deal_facts_refresh_all(tenant=world.tenant)  # the backfill (the history was bulk-written)
    return ImpactWorld(world, history, stages, partners)


def _interval(side) -> tuple | None:  # noqa: ANN001
    return None if side.interval is None else (side.interval.low, side.interval.high)


def got_figures(stratum) -> dict:  # noqa: ANN001
    return {
        c.measure.code: (
            c.with_.value,
            _interval(c.with_),
            c.with_.n,
            c.without.value,
            _interval(c.without),
            c.without.n,
            c.too_few,
        )
        for c in stratum.comparisons
    }


def open_stage_ids(iw: ImpactWorld) -> set[str]:
    return {str(s.pk) for s in iw.stages if s.kind == Stage.Kind.OPEN}


@pytest.mark.parametrize("with_tier", [False, True])
def test_every_figure_matches_the_brute_force(impact_world, with_tier):
    iw = impact_world
    tier = iw.partners[2].tier if with_tier else None
    figures, first_contact, refused = expected(
        iw.history, since=SINCE, until=UNTIL, tier_id=tier.pk if tier else None
    )
    with tenant_context(iw.world.tenant):
        impact = cosell_impact(tenant=iw.world.tenant, since=SINCE, until=UNTIL, tier=tier)

    assert got_figures(impact.overall) == figures[("all", "")]
    for dimension in impact.dimensions:
        keys = {key for dim, key in figures if dim == dimension.code}
        if dimension.code == "help_stage":
            keys &= open_stage_ids(iw)
        assert {s.key for s in dimension.strata} >= keys, dimension.code
        for stratum in dimension.strata:
            if (dimension.code, stratum.key) in figures:
                assert got_figures(stratum) == figures[(dimension.code, stratum.key)], (
                    dimension.code,
                    stratum.label,
                )
            else:
                assert all(c.with_.n == c.without.n == 0 for c in stratum.comparisons)
    assert (
        impact.first_contact.deals,
        impact.first_contact.median_days,
        impact.first_contact.p90_days,
    ) == first_contact
    assert impact.capacity_refused == refused


def test_the_generated_history_exercises_figures_and_too_few(impact_world):
    """A test that cannot fail is a defect: the data must give shown figures, strata with
    too few deals, help stages, first contacts and refusals."""
    iw = impact_world
    with tenant_context(iw.world.tenant):
        impact = cosell_impact(tenant=iw.world.tenant, since=SINCE, until=UNTIL)
    comparisons = [c for d in impact.dimensions for s in d.strata for c in s.comparisons]
    assert all(not c.too_few for c in impact.overall.comparisons)
    assert any(c.too_few for c in comparisons)
    assert sum(not c.too_few for c in comparisons) >= 6
    help_stages = next(d for d in impact.dimensions if d.code == "help_stage")
    assert len(help_stages.strata) >= 3
    assert impact.first_contact.deals >= 20
    assert impact.capacity_refused >= 3
    overall = impact.overall.get("win_rate")
    assert overall.with_.interval.low < overall.with_.value < overall.with_.interval.high


def test_a_request_engaged_after_the_close_or_never_does_not_count(impact_world):
    iw = impact_world
    with tenant_context(iw.world.tenant):
        before = cosell_impact(tenant=iw.world.tenant, since=SINCE, until=UNTIL).overall
        deal = Opportunity.objects.filter(
            status="won", partner__isnull=False, closed_on__range=(SINCE, UNTIL)
        ).exclude(cosell_requests__engaged_at__isnull=False)[0]
        for engaged_at in (None, moment(deal.closed_on + timedelta(days=1))):
            CoSellRequest.objects.create(
                tenant=iw.world.tenant,
                opportunity=deal,
                resource_type=iw.history.requests[0].resource_type,
                need_by=deal.closed_on,
                status=CoSellRequest.Status.REQUESTED,
                engaged_at=engaged_at,
            )
        assert deal_facts_refresh(tenant=iw.world.tenant, opportunity_ids=[deal.pk]) == 1
        unchanged = cosell_impact(
            tenant=iw.world.tenant, since=SINCE, until=UNTIL, cached=False
        ).overall
    assert unchanged.get("win_rate").with_.n == before.get("win_rate").with_.n


def test_another_tenants_deals_never_count(impact_world):
    iw = impact_world
    data = api_as(iw.world, "other_tenant_admin").get(API, WINDOW).json()
    assert data["overall"]["win_rate"]["n_with"] == 0
    assert data["overall"]["win_rate"]["n_without"] == 0
    assert data["first_contact"]["deals"] == 0
    assert data["capacity_refused"]["count"] == 0


def test_the_api_gives_each_measure_overall_and_per_stratum(impact_world):
    iw = impact_world
    response = api_as(iw.world, "channel_manager").get(API, WINDOW)
    assert response.status_code == 200
    data = response.json()
    with tenant_context(iw.world.tenant):
        impact = cosell_impact(tenant=iw.world.tenant, since=SINCE, until=UNTIL)
    win = impact.overall.get("win_rate")
    assert data["overall"]["win_rate"] == {
        "with": str(win.with_.value),
        "without": str(win.without.value),
        "with_interval": [str(win.with_.interval.low), str(win.with_.interval.high)],
        "without_interval": [str(win.without.interval.low), str(win.without.interval.high)],
        "n_with": win.with_.n,
        "n_without": win.without.n,
        "too_few": False,
    }
    assert set(data["overall"]) == set(MEASURE_CODES)
    assert set(data["strata"]) == {"tier", "size_band", "help_stage"}
    for rows in data["strata"].values():
        for row in rows:
            assert set(row) == {"key", "label", *MEASURE_CODES}
            for code in MEASURE_CODES:
                if row[code]["too_few"]:
                    assert row[code]["with"] is None
                    assert row[code]["with_interval"] is None
    assert "not causation" in data["note"]


def test_a_tier_narrows_the_api_like_the_selector(impact_world):
    iw = impact_world
    silver = iw.partners[2].tier
    data = api_as(iw.world, "vendor_admin").get(API, {**WINDOW, "tier_id": silver.pk}).json()
    figures, _, _ = expected(iw.history, since=SINCE, until=UNTIL, tier_id=silver.pk)
    assert data["tier_id"] == silver.pk
    assert [row["key"] for row in data["strata"]["tier"]] == [str(silver.pk)]
    assert data["overall"]["win_rate"]["n_with"] == figures[("all", "")]["win_rate"][2]


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("channel_manager", 200),
        ("vendor_admin", 200),
        ("other_tenant_admin", 200),
    ],
)
def test_who_may_call_the_api(impact_world, actor, status):
    assert api_as(impact_world.world, actor).get(API, WINDOW).status_code == status


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 302),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("channel_manager", 200),
        ("vendor_admin", 200),
    ],
)
def test_who_may_open_the_page_and_csv(impact_world, client_for, actor, status):
    member = impact_world.world.member(actor) if actor else None
    client = client_for(member)
    assert client.get(PAGE, WINDOW).status_code == status
    assert client.get(CSV, WINDOW).status_code == status


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "garbage"}, "since"),
        ({"until": "2026-02-30"}, "until"),
        ({"since": "2026-05-01", "until": "2026-04-01"}, "until"),
        ({"since": "1990-01-01", "until": "2026-04-01"}, "since"),
        ({"until": "0001-01-02"}, "until"),
        ({"since": "x" * 5000}, "since"),
        ({"tier_id": "abc"}, "tier_id"),
        ({"tier_id": "<script>alert(1)</script>"}, "tier_id"),
        ({"tier_id": "99999999"}, "tier_id"),
        ({"tier_id": "other_tenant"}, "tier_id"),
    ],
)
def test_bad_queries_are_a_clear_400(impact_world, client_for, query, field):
    iw = impact_world
    if query.get("tier_id") == "other_tenant":
        with tenant_context(iw.world.other_tenant):
            from tests.partners.factories import PartnerTierFactory

            foreign = PartnerTierFactory(tenant=iw.world.other_tenant, name="Platinum", rank=9)
        query = {"tier_id": str(foreign.pk)}
    response = api_as(iw.world, "vendor_admin").get(API, query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["fields"]
    assert "Platinum" not in json.dumps(error)
    page = client_for(iw.world.vendor_admin).get(PAGE, query)
    assert page.status_code == 400
    html = page.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert 'data-testid="headline"' not in html
    assert client_for(iw.world.vendor_admin).get(CSV, query).status_code == 400


def test_the_page_leads_with_the_figures_and_says_correlation(impact_world, client_for):
    iw = impact_world
    html = client_for(iw.world.channel_manager).get(PAGE, WINDOW).content.decode()
    assert "Correlation, not causation." in html
    assert html.index('data-testid="headline"') < html.index('data-testid="impact-tier"')
    for code in ("tier", "size_band", "help_stage"):
        assert f'data-testid="impact-{code}"' in html
        assert f'data-chart="win-rate-{code.replace("_", "-")}-data"' in html
    assert "Too few deals" in html
    assert f'href="{reverse("vendor:cosell_workload")}"' in html
    assert "Wilson score interval" in html
    for stage in iw.stages:
        if stage.kind != Stage.Kind.OPEN:
            assert f">{stage.name}<" not in html


def test_the_csv_has_every_comparison_and_neutralizes_formulas(impact_world, client_for):
    iw = impact_world
    with tenant_context(iw.world.tenant):
        iw.partners[2].tier.__class__.objects.filter(pk=iw.partners[2].tier.pk).update(
            name="=HYPERLINK(1)"
        )
    response = client_for(iw.world.vendor_admin).get(CSV, WINDOW)
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("Grouping,Group,Measure,With co-sell")
    assert any(",'=HYPERLINK(1),Win rate," in line for line in lines)
    with tenant_context(iw.world.tenant):
        impact = cosell_impact(tenant=iw.world.tenant, since=SINCE, until=UNTIL)
    strata = 1 + sum(len(d.strata) for d in impact.dimensions)
    assert len(lines) == 1 + strata * len(MEASURE_CODES)


def test_query_counts_are_constant(impact_world, client_for, django_assert_num_queries):
    iw = impact_world
    vendor = client_for(iw.world.channel_manager)
    # the page: session, user, tenant pins, membership, notifications, the tier choices; the
    # API: BEGIN, the token, the pins; both: the figures, tiers, stages, first contact and
    # refusals (one query each, whatever the number of deals)
    with django_assert_num_queries(PAGE_QUERIES):
        vendor.get(PAGE, WINDOW)
    with django_assert_num_queries(API_QUERIES):
        assert api_as(iw.world, "vendor_admin").get(API, WINDOW).status_code == 200


PAGE_QUERIES = 16
API_QUERIES = 13

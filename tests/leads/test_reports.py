"""Lead reports: every figure of leads/reports.py against a brute-force computation on a
generated history (offers, acceptances, progress, conversions, approvals, wins), the
filters, the query count, the page and API role matrix, bad queries (400, nothing
computed) and the CSV exports."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_context
from deals.models import DealRegistration
from leads.business_hours import BusinessCalendar
from leads.models import Lead, LeadOffer, RoutingPolicy
from leads.reports import ReportQuery, capacity_gini, lead_report
from leads.services.policy import routing_policy_for
from partners.models import PartnerOrganization, PartnerTier
from pipeline.models import Opportunity, Stage, StageMove
from tests.api_clients import api_as, bearer_client
from tests.conftest import ALL_ACTORS
from tests.pages import member
from tests.partners.factories import PartnerOrganizationFactory, PartnerTierFactory
from tests.pipeline.factories import CustomerFactory

CALENDAR = BusinessCalendar("America/New_York", (0, 1, 2, 3, 4), 9, 17)
NOW = timezone.now().replace(microsecond=0)
SINCE, UNTIL = NOW - timedelta(days=30), NOW
SOURCES = ("Webinar", "Trade show", "")
STEP_ORDER = ("offered", "accepted", "contacted", "converted", "approved", "won")


@dataclass
class OfferFact:
    partner_id: int
    tier_id: int
    source: str
    offered_at: datetime
    accepted_at: datetime | None = None
    contacted_at: datetime | None = None
    converted_at: datetime | None = None
    approved_at: datetime | None = None
    won: bool = False
    won_at: datetime | None = None
    remaining: tuple[tuple[int, int], ...] = ()  # (partner id, capacity) fitting the lead


def later(rng: random.Random, moment: datetime, most_hours: int = 120) -> datetime:
    return moment + timedelta(minutes=rng.randint(1, most_hours * 60))


def _explanation(rng, partners, chosen) -> dict[str, Any]:
    """Random rule outcomes (the chosen partner passes all) and capacities; the territory
    and capacity steps were applied, the product-line step skipped."""
    capacity = {p.pk: rng.choice((0, 3, 5, 10)) for p in partners}
    rules = {
        p.pk: {
            "territory": p.pk == chosen.pk or rng.random() < 0.6,
            "product_line": p.pk == chosen.pk or rng.random() < 0.5,
            "capacity": p.pk == chosen.pk or rng.random() < 0.5,
        }
        for p in partners
    }
    candidates = [
        {
            "partner_id": p.pk,
            "name": p.name,
            "rules": rules[p.pk],
            "stats": {"capacity": capacity[p.pk]},
        }
        for p in partners
    ]
    steps = [
        {"rule": "territory", "required": True, "outcome": "applied"},
        {"rule": "product_line", "required": False, "outcome": "skipped"},
        {"rule": "capacity", "required": True, "outcome": "applied"},
    ]
    decision = {"partner_id": chosen.pk, "steps": steps}
    # brute force: fit = passes the applied rules other than capacity
    remaining = tuple((p.pk, capacity[p.pk]) for p in partners if rules[p.pk]["territory"])
    return {"facts": {"candidates": candidates}, "decision": decision}, remaining


def generate(world, *, leads: int = 60, seed: int = 5) -> list[OfferFact]:  # noqa: C901
    """A random history written straight into the tables (the services' timestamps), and
    what each offer reached, derived independently of the SQL."""
    rng = random.Random(seed)
    tenant = world.tenant
    with tenant_context(tenant):
        silver = PartnerTier.objects.for_tenant(tenant).filter(name="Silver").first()
        silver = silver or PartnerTierFactory(tenant=tenant, name="Silver", rank=1)
        partners = [
            world.partner,
            world.other_partner,
            *(PartnerOrganizationFactory(tenant=tenant, tier=silver) for _ in range(3)),
        ]
        stage = Stage.objects.for_tenant(tenant).filter(kind="open").order_by("position").first()
        owner = world.partner_rep.user
        facts: list[OfferFact] = []
        for number in range(leads):
            source = rng.choice(SOURCES)
            start = SINCE + timedelta(hours=rng.randint(-5 * 24, 29 * 24))
            lead = Lead.objects.create(
                tenant=tenant, company_name=f"Lead {number}", country="US", source=source
            )
            chosen = rng.sample(partners, rng.randint(1, 3))
            moment = start
            for index, partner in enumerate(chosen):
                last = index == len(chosen) - 1
                status = (
                    rng.choices(["accepted", "offered", "declined", "withdrawn"], [6, 1, 2, 1])[0]
                    if last
                    else rng.choice(["declined", "expired"])
                )
                explanation, remaining = _explanation(rng, partners, partner)
                decided = later(rng, moment) if status != "offered" else None
                LeadOffer.objects.create(
                    tenant=tenant,
                    lead=lead,
                    partner=partner,
                    status=status,
                    hop=index + 1,
                    offered_at=moment,
                    expires_at=moment + timedelta(days=3),
                    remind_at=moment + timedelta(days=2),
                    decided_at=decided,
                    policy_version=1,
                    explanation=explanation,
                )
                fact = OfferFact(partner.pk, partner.tier_id, source, moment, remaining=remaining)
                facts.append(fact)
                if status == "accepted":
                    _work(rng, world, lead, fact, partner, partners, decided, stage, owner)
                moment = later(rng, decided or moment)
    return facts


def _work(rng, world, lead, fact, partner, partners, accepted_at, stage, owner) -> None:  # noqa: PLR0913
    """The lead's progress after acceptance; sometimes another partner holds it now."""
    fact.accepted_at = accepted_at
    holder = partner if rng.random() < 0.85 else rng.choice(partners)
    updates: dict[str, Any] = {"partner_id": holder.pk}
    contacted = later(rng, accepted_at) if rng.random() < 0.8 else None
    converted = later(rng, contacted) if contacted and rng.random() < 0.7 else None
    updates["contacted_at"], updates["converted_at"] = contacted, converted
    mine = holder.pk == partner.pk
    if mine and contacted:
        fact.contacted_at = contacted
    if converted:
        approved, won_at, won = _registration(rng, world, lead, holder, converted, stage, owner)
        updates["registration_id"] = won[0]
        if mine:
            fact.converted_at = converted
            fact.approved_at = approved
            fact.won = won[1]
            fact.won_at = won_at if won[1] else None
    Lead.objects.filter(pk=lead.pk).update(**updates)


def _registration(rng, world, lead, partner, converted, stage, owner):  # noqa: PLR0913
    tenant = world.tenant
    outcome = rng.choices(["approved", "rejected", "in_review"], [6, 2, 2])[0]
    decided = later(rng, converted) if outcome != "in_review" else None
    opportunity, won, won_at = None, False, None
    if outcome == "approved":
        won = rng.random() < 0.6
        opportunity = Opportunity.objects.create(
            tenant=tenant,
            partner=partner,
            owner=owner,
            customer=CustomerFactory(tenant=tenant),
            name=f"Deal of {lead.company_name}",
            currency="USD",
            stage=stage,
            status="won" if won else "open",
        )
        moves = [later(rng, decided), later(rng, decided)]
        for index, at in enumerate(sorted(moves)):
            StageMove.objects.create(
                tenant=tenant,
                opportunity=opportunity,
                to_stage=stage,
                to_status="won" if won else "open",
                created_at=at,
            )
            won_at = at if won and index == 1 else won_at
    registration = DealRegistration.objects.create(
        tenant=tenant,
        partner=partner,
        owner=owner,
        customer_name=lead.company_name,
        currency="USD",
        status={"approved": "approved", "rejected": "rejected", "in_review": "in_review"}[outcome],
        decision_code={"approved": "approved", "rejected": "other", "in_review": ""}[outcome],
        decided_at=decided,
        protected_until=(timezone.localdate() + timedelta(days=90))
        if outcome == "approved"
        else None,
        opportunity=opportunity,
    )
    approved = decided if outcome == "approved" else None
    return approved, won_at, (registration.pk, won)


# --- brute force ------------------------------------------------------------------------------


def reached(fact: OfferFact) -> dict[str, bool]:
    flags = {"offered": True, "accepted": fact.accepted_at is not None}
    flags["contacted"] = flags["accepted"] and fact.contacted_at is not None
    flags["converted"] = flags["contacted"] and fact.converted_at is not None
    flags["approved"] = flags["converted"] and fact.approved_at is not None
    flags["won"] = flags["approved"] and fact.won
    return flags


def percentile(values: list[float], q: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


def brute_funnel(facts: list[OfferFact]) -> dict[str, Any]:
    counts = {step: 0 for step in STEP_ORDER}
    spans: dict[str, list[float]] = {step: [] for step in STEP_ORDER[1:]}
    response: list[float] = []
    for fact in facts:
        flags = reached(fact)
        for step in STEP_ORDER:
            counts[step] += flags[step]
        moments = {
            "offered": fact.offered_at,
            "accepted": fact.accepted_at,
            "contacted": fact.contacted_at,
            "converted": fact.converted_at,
            "approved": fact.approved_at,
            "won": fact.won_at,
        }
        for before, step in zip(STEP_ORDER, STEP_ORDER[1:], strict=False):
            if flags[step] and moments[step] is not None:
                spans[step].append(hours(moments[before], moments[step]))
        if flags["accepted"]:
            response.append(CALENDAR.hours_between(fact.offered_at, fact.accepted_at))
    return {
        "counts": counts,
        "rates": {
            step: (counts[step] / counts[before] if counts[before] else None)
            for before, step in zip(STEP_ORDER, STEP_ORDER[1:], strict=False)
        },
        "hours": {s: (statistics.median(v) if v else None) for s, v in spans.items()},
        "median": percentile(response, 0.5),
        "p90": percentile(response, 0.9),
    }


def brute_gini(rows: list[tuple[float, float]]) -> float | None:
    rows = [(x, e) for x, e in rows if e > 0]
    total_x, total_e = sum(x for x, _ in rows), sum(e for _, e in rows)
    if not rows or not total_x:
        return None
    ratios = [((x / total_x) / (e / total_e), e) for x, e in rows]
    mean = sum(r * e for r, e in ratios) / total_e
    double = sum(ei * ej * abs(ri - rj) for ri, ei in ratios for rj, ej in ratios)
    return double / (2 * total_e**2 * mean)


def brute_fairness(facts: list[OfferFact]) -> tuple[dict[int, tuple[int, float]], float | None]:
    offers: dict[int, int] = {}
    expected: dict[int, float] = {}
    for fact in facts:
        total = sum(capacity for _, capacity in fact.remaining)
        if not total:
            continue
        for pid, capacity in fact.remaining:
            expected[pid] = expected.get(pid, 0.0) + capacity / total
        offers[fact.partner_id] = offers.get(fact.partner_id, 0) + 1
    rows = {pid: (offers.get(pid, 0), e) for pid, e in expected.items()}
    return rows, brute_gini(list(rows.values()))


def in_window(facts: list[OfferFact]) -> list[OfferFact]:
    return [f for f in facts if SINCE <= f.offered_at < UNTIL]


def assert_row(row, expected: dict[str, Any]) -> None:
    assert row.counts == expected["counts"]
    assert row.rates == pytest.approx(expected["rates"])
    assert row.hours == pytest.approx(expected["hours"], abs=1e-6)
    assert row.response_median == pytest.approx(expected["median"], abs=1e-6)
    assert row.response_p90 == pytest.approx(expected["p90"], abs=1e-6)


@pytest.fixture
def api_client_for(leads_world):
    def make(membership):
        if membership is None:
            return api_as(leads_world, None)
        return bearer_client(membership)

    return make


@pytest.fixture
def history(leads_world) -> list[OfferFact]:
    with tenant_context(leads_world.tenant):
        policy = routing_policy_for(leads_world.tenant)
        RoutingPolicy.objects.filter(pk=policy.pk).update(time_zone=CALENDAR.time_zone)
    return generate(leads_world)


def query(world, **filters: Any) -> ReportQuery:
    return ReportQuery(world.tenant.pk, SINCE, UNTIL, CALENDAR, **filters)


def report_of(world, **filters: Any):
    with tenant_context(world.tenant):
        return lead_report(query(world, **filters))


def test_every_funnel_figure_matches_a_brute_force_count(leads_world, history):
    facts = in_window(history)
    assert 20 < len(facts) < len(history)  # some offers fall before the period

    report = report_of(leads_world)

    assert_row(report.total, brute_funnel(facts))
    assert report.total.counts["won"] > 0  # the generated history reaches every step
    keys = {"partner": "partner_id", "tier": "tier_id", "source": "source"}
    for grouping, attribute in keys.items():
        values = {str(getattr(f, attribute)) for f in facts}
        assert {row.key for row in report.groups[grouping]} == values
        for row in report.groups[grouping]:
            subset = [f for f in facts if str(getattr(f, attribute)) == row.key]
            assert_row(row, brute_funnel(subset))


@pytest.mark.parametrize("which", ["partner", "tier", "source"])
def test_each_filter_narrows_the_funnel_as_a_brute_force_count_does(leads_world, history, which):
    facts = in_window(history)
    sample = facts[0]
    filters = {
        "partner": {"partner_id": sample.partner_id},
        "tier": {"tier_id": sample.tier_id},
        "source": {"source": sample.source},
    }[which]
    attribute = {"partner": "partner_id", "tier": "tier_id", "source": "source"}[which]

    report = report_of(leads_world, **filters)

    subset = [f for f in facts if getattr(f, attribute) == getattr(sample, attribute)]
    assert_row(report.total, brute_funnel(subset))


def test_fairness_and_the_gini_match_their_definitions(leads_world, history):
    expected_rows, expected_gini = brute_fairness(in_window(history))

    report = report_of(leads_world)

    assert expected_gini is not None
    assert expected_gini > 0
    assert report.gini == pytest.approx(expected_gini, abs=1e-9)
    total_x = sum(x for x, _ in expected_rows.values())
    total_e = sum(e for _, e in expected_rows.values())
    assert {r.partner_id for r in report.fairness} == set(expected_rows)
    for row in report.fairness:
        x, e = expected_rows[row.partner_id]
        assert (row.offers, row.expected) == (x, pytest.approx(e))
        assert row.lead_share == pytest.approx(x / total_x)
        assert row.capacity_share == pytest.approx(e / total_e)
        assert row.ratio == pytest.approx((x / total_x) / (e / total_e))


def test_the_source_filter_narrows_fairness_and_the_partner_filter_only_its_rows(
    leads_world, history
):
    facts = in_window(history)
    webinar = [f for f in facts if f.source == "Webinar"]
    _, gini = brute_fairness(webinar)
    _, all_gini = brute_fairness(facts)

    assert report_of(leads_world, source="Webinar").gini == pytest.approx(gini)
    one = report_of(leads_world, partner_id=leads_world.partner.pk)
    assert [r.partner_id for r in one.fairness] == [leads_world.partner.pk]
    assert one.gini == pytest.approx(all_gini)


@pytest.mark.parametrize(
    "rows",
    [
        [(10, 10.0), (0, 5.0), (5, 5.0)],
        [(3, 1.5), (3, 1.5)],
        [(1, 0.2), (7, 3.3), (2, 4.1), (0, 0.4)],
        [(0, 2.0), (0, 0.0)],
    ],
)
def test_the_linear_gini_equals_the_double_sum(rows):
    assert capacity_gini(rows) == pytest.approx(brute_gini(rows))


@pytest.mark.parametrize(
    ("start", "hours_"),
    [
        ("2026-11-27T16:30:00+00:00", 3.5),
        ("2026-11-06T20:00:00+00:00", 30),
        ("2026-03-06T15:00:00+00:00", 48),
    ],
)
def test_business_hours_between_is_the_inverse_of_the_window(start, hours_):
    opened = datetime.fromisoformat(start)

    assert CALENDAR.hours_between(opened, CALENDAR.add_hours(opened, hours_)) == pytest.approx(
        hours_
    )


def test_the_report_takes_five_queries_whatever_the_history(
    leads_world, history, django_assert_num_queries
):
    with tenant_context(leads_world.tenant), django_assert_num_queries(5):
        lead_report(query(leads_world))


# --- page, API, CSV ---------------------------------------------------------------------------

ACTORS = ("anonymous", *ALL_ACTORS)
VENDOR_OK = {"vendor_admin", "channel_manager"}
WINDOW = f"?since={SINCE.isoformat()}&until={UNTIL.isoformat()}".replace("+", "%2B")


@pytest.mark.parametrize("actor", ACTORS)
def test_page_role_matrix(leads_world, history, client_for, actor):
    url = reverse("vendor:lead_reports")

    response = client_for(member(leads_world, actor)).get(url + WINDOW)

    if actor == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    elif actor in VENDOR_OK or actor == "other_tenant_admin":
        assert response.status_code == 200
        html = response.content.decode()
        assert ("Northwind Resellers" in html) is (actor in VENDOR_OK)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("actor", ACTORS)
def test_api_role_matrix(leads_world, history, api_client_for, actor):
    response = api_client_for(member(leads_world, actor)).get("/api/v1/leads/reports/" + WINDOW)

    if actor == "anonymous":
        assert response.status_code == 401
    elif actor in VENDOR_OK or actor == "other_tenant_admin":
        assert response.status_code == 200
        partner_ids = {row["key"] for row in response.json()["groups"]["partner"]}
        assert (str(leads_world.partner.pk) in partner_ids) is (actor in VENDOR_OK)
    else:
        assert response.status_code == 403


def test_the_page_shows_the_figures_charts_and_the_gini_formula(leads_world, history, client_for):
    report = report_of(leads_world)

    html = (
        client_for(leads_world.channel_manager)
        .get(reverse("vendor:lead_reports") + WINDOW)
        .content.decode()
    )

    assert f"{report.total.counts['won']} of {report.total.counts['offered']}" in html
    assert "Business hours, as the acceptance window counts them" in html
    assert "America/New_York" in html
    assert "G = Σᵢ Σⱼ Eᵢ Eⱼ |Rᵢ − Rⱼ|" in html
    for chart in ("lead-funnel-data", "lead-fairness-data", "lead-response-data"):
        assert f'id="{chart}"' in html


def test_the_api_gives_the_same_figures(leads_world, history, api_client_for):
    report = report_of(leads_world)

    data = api_client_for(leads_world.channel_manager).get("/api/v1/leads/reports/" + WINDOW).json()

    assert data["total"]["counts"] == report.total.counts
    assert data["fairness"]["gini"] == pytest.approx(report.gini)
    assert data["business_hours"]["time_zone"] == "America/New_York"


def test_the_page_query_count_does_not_grow_with_the_history(leads_world, client_for):
    client = client_for(leads_world.channel_manager)
    url = reverse("vendor:lead_reports") + WINDOW
    generate(leads_world, leads=6, seed=9)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    generate(leads_world, leads=40, seed=10)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200

    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ("?since=yesterday", "since"),
        ("?since=2026-05-01&until=2026-04-01", "until"),
        ("?tier_id=abc", "tier_id"),
        ("?partner_id=999999", "partner_id"),
        ("?since=2020-01-01&until=2026-01-01", "since"),
        ("?source=" + "x" * 101, "source"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_field(
    leads_world, client_for, api_client_for, params, field
):
    page = client_for(leads_world.channel_manager).get(reverse("vendor:lead_reports") + params)
    api = api_client_for(leads_world.channel_manager).get("/api/v1/leads/reports/" + params)

    assert page.status_code == 400
    assert "Lead funnel" not in page.content.decode()
    assert api.status_code == 400
    assert field in api.json()["error"]["fields"]


def test_another_tenants_tier_or_partner_is_an_invalid_choice(
    leads_world, client_for, api_client_for
):
    with tenant_context(leads_world.other_tenant):
        other_tier = leads_world.other_tenant_partner.tier_id
    for params in (f"?tier_id={other_tier}", f"?partner_id={leads_world.other_tenant_partner.pk}"):
        assert (
            api_client_for(leads_world.channel_manager)
            .get("/api/v1/leads/reports/" + params)
            .status_code
            == 400
        )
        assert (
            client_for(leads_world.channel_manager)
            .get(reverse("vendor:lead_reports") + params)
            .status_code
            == 400
        )


def csv_text(response) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.mark.parametrize("table", ["partner", "tier", "source", "fairness"])
def test_each_table_exports_as_csv(leads_world, history, client_for, table):
    report = report_of(leads_world)

    response = client_for(leads_world.channel_manager).get(
        reverse("vendor:lead_reports_csv") + WINDOW + f"&table={table}"
    )

    assert response.status_code == 200
    lines = csv_text(response).splitlines()
    if table == "fairness":
        assert len(lines) == 1 + len(report.fairness) + 1
        assert lines[-1].startswith(",Capacity-adjusted Gini")
    else:
        assert len(lines) == 1 + 1 + len(report.groups[table])
        assert lines[1].startswith(f",All,{report.total.counts['offered']},")


def test_a_formula_in_a_source_is_neutralized_in_the_csv(leads_world, client_for):
    history_ = generate(leads_world, leads=4, seed=2)
    with tenant_context(leads_world.tenant):
        Lead.objects.update(source="=HYPERLINK(1)")
    assert history_

    text = csv_text(
        client_for(leads_world.channel_manager).get(
            reverse("vendor:lead_reports_csv") + WINDOW + "&table=source"
        )
    )

    assert "'=HYPERLINK(1)" in text


def test_a_csv_of_no_known_table_is_a_400(leads_world, client_for, api_client_for):
    response = client_for(leads_world.channel_manager).get(
        reverse("vendor:lead_reports_csv") + "?table=secrets"
    )
    partner = client_for(leads_world.partner_admin).get(
        reverse("vendor:lead_reports_csv") + "?table=partner"
    )

    assert response.status_code == 400
    assert partner.status_code == 403


def test_accepting_resets_and_progress_stamps_the_funnel_moments(leads_world):
    with tenant_context(leads_world.tenant):
        lead = Lead(tenant=leads_world.tenant, company_name="X", country="US", status="offered")
        lead.accept(partner=leads_world.partner, owner=leads_world.partner_rep.user)
        assert lead.contacted_at is None
        lead.qualify(note="")
        first = lead.contacted_at
        lead.convert(registration=DealRegistration(tenant=leads_world.tenant))

    assert first is not None
    assert lead.contacted_at == first
    assert lead.converted_at is not None
    assert PartnerOrganization  # the module's partners are the tenant's

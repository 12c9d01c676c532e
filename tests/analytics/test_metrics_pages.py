"""The Metrics pages, their CSV exports and GET /api/v1/metrics/: who sees what (a partner
admin sees the partners' median, never another partner's figure, name or count), bad
input (a clear 400, nothing computed), constant query counts, and the deal-page badges."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from accounts.tenancy import tenant_context
from analytics.periods import parse_period
from analytics.selectors.metrics import MetricFilters, metrics_for_partner
from pipeline.models import Opportunity
from tests.analytics.metrics_data import NOW
from tests.api_clients import api_as

Q2 = {"period": "2026-Q2"}
VENDOR_PAGE, PARTNER_PAGE = reverse("vendor:metrics"), reverse("partner:metrics")
API = "/api/v1/metrics/"


def other_partners(mw) -> list:  # noqa: ANN001
    return [p for p in mw.partners if p.pk != mw.world.partner.pk]


@pytest.mark.parametrize(
    ("actor", "page", "status"),
    [
        (None, VENDOR_PAGE, 302),
        ("vendor_admin", VENDOR_PAGE, 200),
        ("channel_manager", VENDOR_PAGE, 200),
        ("partner_admin", VENDOR_PAGE, 403),
        ("partner_rep", VENDOR_PAGE, 403),
        (None, PARTNER_PAGE, 302),
        ("partner_admin", PARTNER_PAGE, 200),
        ("partner_rep", PARTNER_PAGE, 200),
        ("channel_manager", PARTNER_PAGE, 403),
    ],
)
def test_who_opens_the_metrics_pages(metrics_world, client_for, actor, page, status):
    member = metrics_world.world.member(actor) if actor else None
    assert client_for(member).get(page, Q2).status_code == status


def test_the_vendor_page_leads_with_the_flags_and_shows_every_grouping(metrics_world, client_for):
    mw = metrics_world
    html = client_for(mw.world.channel_manager).get(VENDOR_PAGE, Q2).content.decode()
    assert html.index('data-testid="flags"') < html.index('data-testid="totals"')
    for name in ("partner", "tier", "region", "product_line"):
        assert f'data-testid="group-{name}"' in html
    for partner in mw.partners:
        assert f'data-testid="partner-{partner.pk}"' in html
    assert "Won ÷ (won + lost), deals closed in the period." in html
    assert 'data-chart="win-rate-by-partner-data"' in html


def test_a_partner_admin_sees_the_median_and_no_other_partner(metrics_world, client_for):
    mw = metrics_world
    response = client_for(mw.world.partner_admin).get(PARTNER_PAGE, Q2)
    html = response.content.decode()
    assert "Partners&#x27; median" in html or "Partners' median" in html
    assert 'data-testid="median"' in html
    for partner in other_partners(mw):
        assert partner.name not in html
    with tenant_context(mw.world.tenant):
        foreign = Opportunity.objects.exclude(partner=mw.world.partner).values_list(
            "name", flat=True
        )
    assert not any(f">{name}<" in html for name in foreign)


def test_the_api_gives_a_partner_admin_the_median_and_nothing_of_other_partners(metrics_world):
    mw = metrics_world
    response = api_as(mw.world, "partner_admin").get(API, Q2)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {
        "period",
        "start",
        "end",
        "figures",
        "expected_cycle_days",
        "total",
        "stages",
        "flags",
        "tenant_median",
    }
    assert "groups" not in data
    assert "partners" not in data["flags"]
    text = json.dumps(data)
    for partner in other_partners(mw):
        assert partner.name not in text
        assert f'"partner_id": {partner.pk}' not in text
    assert data["tenant_median"]["win_rate"] is not None


def test_the_api_gives_a_partner_rep_their_own_deals_without_the_median(metrics_world):
    mw = metrics_world
    data = api_as(mw.world, "partner_rep").get(API, Q2).json()
    assert "tenant_median" not in data
    with tenant_context(mw.world.tenant):
        own = set(
            Opportunity.objects.filter(owner=mw.world.partner_rep.user).values_list("id", flat=True)
        )
    assert {deal["id"] for deal in data["flags"]["deals"]} <= own
    assert data["flags"]["open_deals"] == len(
        [d for d in mw.history.deals if d.pk in own and d.status == "open"]
    )


def test_the_api_gives_vendor_roles_every_grouping(metrics_world):
    mw = metrics_world
    data = api_as(mw.world, "vendor_admin").get(API, {**Q2, "region": "EMEA"}).json()
    assert {row["key"] for row in data["groups"]["partner"]} == {
        str(mw.world.partner.pk),
        str(mw.world.other_partner.pk),
    }
    assert {row["key"] for row in data["groups"]["region"]} == {"EMEA"}


def test_another_tenant_sees_none_of_these_deals(metrics_world):
    mw = metrics_world
    data = api_as(mw.world, "other_tenant_admin").get(API, Q2).json()
    assert data["total"]["basis"]["win_rate"] == 0
    assert data["flags"]["open_deals"] == 0
    assert data["groups"]["partner"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"period": "garbage"}, "period"),
        ({"period": "2027-Q5"}, "period"),
        ({"period": "x" * 500}, "period"),
        ({"tier_id": "abc"}, "tier_id"),
        ({"region": "<script>alert(1)</script>"}, "region"),
        ({"product_line": "<b>nope</b>"}, "product_line"),
        ({"partner_id": "other_tenant"}, "partner_id"),
    ],
)
def test_bad_queries_are_a_clear_400(metrics_world, client_for, query, field):
    mw = metrics_world
    if query.get("partner_id") == "other_tenant":
        query = {"partner_id": str(mw.world.other_tenant_partner.pk)}
    response = api_as(mw.world, "vendor_admin").get(API, query)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    page = client_for(mw.world.vendor_admin).get(VENDOR_PAGE, query)
    assert page.status_code == 400
    assert "<script>alert(1)</script>" not in page.content.decode()
    assert 'data-testid="flags"' not in page.content.decode()


def test_a_partner_admin_cannot_ask_for_another_partner(metrics_world, client_for):
    mw = metrics_world
    query = {**Q2, "partner_id": str(mw.world.other_partner.pk)}
    assert api_as(mw.world, "partner_admin").get(API, query).status_code == 200  # ignored field
    data = api_as(mw.world, "partner_admin").get(API, query).json()
    own = {d.pk for d in mw.history.deals if d.partner_id == mw.world.partner.pk}
    assert data["flags"]["deals"]
    assert {deal["id"] for deal in data["flags"]["deals"]} <= own
    assert client_for(mw.world.partner_admin).get(PARTNER_PAGE, {"tier_id": "x"}).status_code == 400


def test_query_counts_are_constant(metrics_world, client_for, django_assert_num_queries):
    mw = metrics_world
    vendor, partner = client_for(mw.world.channel_manager), client_for(mw.world.partner_admin)
    # session, membership, tenant pin, notifications; the form's choices; cycle + six figures
    # (twelve for a partner admin: theirs and every partner's for the median); labels and
    # stages; one flags query
    with django_assert_num_queries(VENDOR_PAGE_QUERIES):
        vendor.get(VENDOR_PAGE, Q2)
    with django_assert_num_queries(PARTNER_PAGE_QUERIES):
        partner.get(PARTNER_PAGE, Q2)
    vendor_api, partner_api = api_as(mw.world, "vendor_admin"), api_as(mw.world, "partner_rep")
    with django_assert_num_queries(VENDOR_API_QUERIES):
        assert vendor_api.get(API, {**Q2, "region": "EMEA"}).status_code == 200
    with django_assert_num_queries(REP_API_QUERIES):
        assert partner_api.get(API, Q2).status_code == 200


VENDOR_PAGE_QUERIES = 24
PARTNER_PAGE_QUERIES = 27
VENDOR_API_QUERIES = 17  # the token lookup is one round trip
REP_API_QUERIES = 14


def test_the_csv_exports_neutralize_formulas(metrics_world, client_for):
    mw = metrics_world
    flagged = mw.history.deals[1]
    with tenant_context(mw.world.tenant):
        deal = Opportunity.objects.filter(status="open", partner__isnull=False).order_by("id")[0]
        Opportunity.objects.filter(pk=deal.pk).update(name="=HYPERLINK(1)", amount=10**9)
    response = client_for(mw.world.vendor_admin).get(
        reverse("vendor:metrics_csv"), {**Q2, "table": "flags"}
    )
    body = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(1)" in body.splitlines()[1]
    assert flagged is not None
    bad = client_for(mw.world.vendor_admin).get(reverse("vendor:metrics_csv"), {"table": "x"})
    assert bad.status_code == 400


def test_a_flagged_deal_shows_its_badges_in_both_portals(metrics_world, client_for):
    mw = metrics_world
    with tenant_context(mw.world.tenant):
        deal = Opportunity.objects.filter(
            status="open", partner=mw.world.partner, owner=mw.world.partner_rep.user
        ).first()
        Opportunity.objects.filter(pk=deal.pk).update(
            amount=1000, budget_confirmed=False, stage_entered_at="2020-01-01T00:00Z"
        )
    vendor = client_for(mw.world.channel_manager).get(
        reverse("vendor:opportunity_detail", args=[deal.pk])
    )
    partner = client_for(mw.world.partner_rep).get(
        reverse("partner:opportunity_detail", args=[deal.pk])
    )
    for response in (vendor, partner):
        html = response.content.decode()
        assert 'data-testid="flag-unqualified_amount"' in html
        assert 'data-testid="flag-stage_overdue"' in html


def test_cached_figures_are_never_served_to_another_scope(metrics_world):
    """The figures are cached per tenant, scope and query: the other partner's admin gets
    their own figures after the first partner's were cached, never the cached ones."""
    mw = metrics_world
    first = api_as(mw.world, "partner_admin").get(API, Q2).json()
    again = api_as(mw.world, "partner_admin").get(API, Q2).json()
    other = api_as(mw.world, "other_partner_admin").get(API, Q2).json()
    with tenant_context(mw.world.tenant):
        want = metrics_for_partner(
            membership=mw.world.other_partner_admin,
            period=parse_period("2026-Q2"),
            filters=MetricFilters(),
            now=NOW,
        )
    assert again == first
    assert other["total"]["basis"] == want.total.basis
    assert other["total"]["basis"] != first["total"]["basis"]
    vendor = api_as(mw.world, "vendor_admin").get(API, Q2).json()
    assert vendor["total"]["basis"] != first["total"]["basis"]


def test_a_long_grouping_shows_its_busiest_rows_and_the_csv_has_all(
    metrics_world, client_for, monkeypatch
):
    mw = metrics_world
    monkeypatch.setattr("analytics.views.metrics.GROUP_ROWS_SHOWN", 2)
    client = client_for(mw.world.channel_manager)
    html = client.get(VENDOR_PAGE, Q2).content.decode()
    table = html.split('data-testid="group-partner"', 1)[1].split("</table>", 1)[0]
    assert table.count('<tr data-testid="partner-') == 2
    assert "The 2 of 4 with the most deals open in the period" in html
    response = client.get(reverse("vendor:metrics_csv"), {**Q2, "table": "partner"})
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert len(rows) == 1 + 4


def test_a_partner_row_narrows_the_page_to_that_partner(metrics_world, client_for):
    mw = metrics_world
    client = client_for(mw.world.channel_manager)
    html = client.get(VENDOR_PAGE, Q2).content.decode()
    link = f'href="?period=2026-Q2&amp;partner_id={mw.world.other_partner.pk}"'
    assert link in html
    narrowed = client.get(VENDOR_PAGE, {**Q2, "partner_id": mw.world.other_partner.pk})
    text = narrowed.content.decode()
    assert "Partner: <strong>Contoso Partners</strong>" in text
    table = text.split('data-testid="group-partner"', 1)[1].split("</table>", 1)[0]
    assert table.count('<tr data-testid="partner-') == 1

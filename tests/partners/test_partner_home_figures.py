"""The partner home: "Register a deal", my open deals with their protection countdown
(soonest ending first), what needs an update, and what I earned this quarter. A partner
rep sees their own deals, a partner admin the organization's, never another partner's."""

# ruff: noqa: F811  (the deals fixtures are imported to be shared, then used as parameters)
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from commissions.selectors import period_current
from deals.models import DealRegistration
from pipeline.models import Opportunity
from tests.conftest import World
from tests.deals.conftest import deals_world  # noqa: F401  (fixture)
from tests.pages import assert_constant_queries
from tests.partners.home_data import (
    TODAY,
    deal,
    ledger_entry,
    protect,
    registration,
    stale_after,
)

Status = DealRegistration.Status
HOME = "/partner/"
WON = Opportunity.Status.WON


@pytest.fixture
def deals(deals_world: World) -> dict:
    w = deals_world
    stale_after(w.tenant, 30)
    rows: dict = {}
    rows["rep_20"] = deal(w.tenant, w.partner_rep, close=TODAY() + timedelta(days=30))
    protect(rows["rep_20"], w.partner_rep, 20)
    rows["rep_5"] = deal(w.tenant, w.partner_rep, close=TODAY() + timedelta(days=30))
    rows["rep_5_registration"] = protect(rows["rep_5"], w.partner_rep, 5)
    rows["rep_past"] = deal(w.tenant, w.partner_rep, close=TODAY() - timedelta(days=3))
    rows["admin_2"] = deal(w.tenant, w.partner_admin, idle_days=60)
    rows["admin_2_registration"] = protect(rows["admin_2"], w.partner_admin, 2)
    rows["other_1"] = deal(w.tenant, w.other_partner_rep, close=TODAY() - timedelta(days=9))
    protect(rows["other_1"], w.other_partner_rep, 1)

    rows["rep_won"] = deal(w.tenant, w.partner_rep, status=WON)
    rows["admin_won"] = deal(w.tenant, w.partner_admin, status=WON)
    other_won = deal(w.tenant, w.other_partner_rep, status=WON)
    quarter_start = period_current("quarter").bounds[0]
    rows["rep_entry"] = ledger_entry(rows["rep_won"], "1100.00")
    ledger_entry(rows["rep_won"], "40.00", created_at=quarter_start - timedelta(seconds=1))
    rows["admin_entry"] = ledger_entry(rows["admin_won"], "60.00", status="approved")
    ledger_entry(other_won, "999.00")

    rows["rep_info"] = registration(w.partner_rep, Status.INFO_REQUESTED)
    rows["admin_info"] = registration(w.partner_admin, Status.INFO_REQUESTED)
    registration(w.other_partner_rep, Status.INFO_REQUESTED)
    registration(w.other_tenant_partner_admin, Status.INFO_REQUESTED)
    rows["rep_review"] = registration(w.partner_rep, Status.IN_REVIEW)
    rows["admin_review"] = registration(w.partner_admin, Status.IN_REVIEW)
    registration(w.other_partner_rep, Status.IN_REVIEW)
    registration(w.other_tenant_partner_admin, Status.IN_REVIEW)
    return rows


def tiles(response) -> dict:
    return {tile.key: tile for tile in response.context["tiles"]}


def section(response, template: str) -> dict | None:
    for shown in response.context["sections"]:
        if shown.template_name == template:
            return shown.context
    return None


OPEN_DEALS = "deals/home/partner_open_deals.html"
NEEDS_UPDATE = "pipeline/home/partner_needs_update.html"
WAITING = "deals/home/partner_waiting.html"


def test_the_home_offers_register_a_deal(deals_world, client_for):
    html = client_for(deals_world.partner_rep).get(HOME).content.decode()
    assert f'href="{reverse("partner:registration_create")}"' in html
    assert "Register a deal" in html


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("partner_rep", [("rep_5", 5), ("rep_20", 20), ("rep_past", None)]),
        ("partner_admin", [("admin_2", 2), ("rep_5", 5), ("rep_20", 20), ("rep_past", None)]),
        ("other_partner_rep", [("other_1", 1)]),
    ],
)
def test_open_deals_show_their_protection_countdown_soonest_first(
    deals_world, deals, client_for, actor, expected
):
    response = client_for(deals_world.member(actor)).get(HOME)
    rows = section(response, OPEN_DEALS)["rows"]
    assert [(row["deal"].pk, row["days_left"]) for row in rows] == [
        (deals[name].pk, days) for name, days in expected
    ]
    html = response.content.decode()
    assert f"{expected[0][1]} day{'s' * (expected[0][1] != 1)} left" in html


@pytest.mark.parametrize(
    ("actor", "needs_update", "waiting"),
    [
        ("partner_rep", ["rep_past"], ["rep_info"]),
        ("partner_admin", ["rep_past", "admin_2"], ["rep_info", "admin_info"]),
    ],
)
def test_what_needs_an_update_is_mine_only(
    deals_world, deals, client_for, actor, needs_update, waiting
):
    response = client_for(deals_world.member(actor)).get(HOME)
    stale = [row["deal"].pk for row in section(response, NEEDS_UPDATE)["rows"]]
    assert stale == [deals[name].pk for name in needs_update]
    asked = {r.pk for r in section(response, WAITING)["registrations"]}
    assert asked == {deals[name].pk for name in waiting}
    html = response.content.decode()
    assert "update the close date or close it" in html


@pytest.mark.parametrize(
    ("actor", "key", "count", "amount", "expected"),
    [
        ("partner_rep", "deals-open", 3, "3000.00", ["rep_20", "rep_5", "rep_past"]),
        ("partner_admin", "deals-open", 4, "4000.00", ["rep_20", "rep_5", "rep_past", "admin_2"]),
        ("partner_rep", "deals-stale", 1, None, ["rep_past"]),
        ("partner_admin", "deals-stale", 2, None, ["rep_past", "admin_2"]),
        ("partner_rep", "deals-past-close", 1, None, ["rep_past"]),
        ("partner_rep", "registrations-info-requested", 1, None, ["rep_info"]),
        ("partner_admin", "registrations-info-requested", 2, None, ["rep_info", "admin_info"]),
        ("partner_rep", "registrations-in-review", 1, None, ["rep_review"]),
        ("partner_admin", "registrations-in-review", 2, None, ["rep_review", "admin_review"]),
        ("partner_rep", "protections-ending", 1, None, ["rep_5_registration"]),
        (
            "partner_admin",
            "protections-ending",
            2,
            None,
            ["rep_5_registration", "admin_2_registration"],
        ),
        ("partner_rep", "commissions-earned", 1, "1100.00", ["rep_entry"]),
        ("partner_admin", "commissions-earned", 2, "1160.00", ["rep_entry", "admin_entry"]),
    ],
)
def test_each_partner_figure_links_to_exactly_its_rows(
    deals_world, deals, client_for, actor, key, count, amount, expected
):
    client = client_for(deals_world.member(actor))
    response = client.get(HOME)
    tile = tiles(response)[key]
    assert (tile.count, tile.amount) == (count, Decimal(amount) if amount else None)
    context = client.get(tile.url).context
    listed = context.get("entries") or context.get("opportunities") or context["registrations"]
    assert {row.pk for row in listed} == {deals[name].pk for name in expected}


def test_another_partner_sees_none_of_ours(deals_world, deals, client_for):
    response = client_for(deals_world.other_partner_admin).get(HOME)
    figures = tiles(response)
    assert figures["deals-open"].count == 1
    assert figures["commissions-earned"].amount == Decimal("999.00")
    assert figures["registrations-info-requested"].count == 1
    assert figures["registrations-in-review"].count == 1
    assert figures["protections-ending"].count == 1  # other_1: a day left
    html = response.content.decode()
    for name in ("rep_5", "rep_20", "admin_2", "rep_past"):
        assert deals[name].name not in html


def test_earned_this_quarter_reads_as_money(deals_world, deals, client_for):
    html = client_for(deals_world.partner_admin).get(HOME).content.decode()
    assert '"amount-value">1,160.00</span> <span class="currency">USD<' in html


def test_a_forged_period_on_the_commission_list_says_why_and_lists_nothing(
    deals_world, deals, client_for
):
    response = client_for(deals_world.partner_rep).get(
        reverse("partner:commission_list") + "?period=2026-13"
    )
    assert response.status_code == 200
    assert list(response.context["entries"]) == []
    assert "A period is a month (2026-11) or a quarter (2026-Q4)." in response.content.decode()


@pytest.mark.parametrize("actor", ["partner_rep", "partner_admin"])
def test_the_partner_home_query_count_does_not_grow(
    deals_world, deals, client_for, django_assert_num_queries, actor
):
    w = deals_world
    member = w.member(actor)

    def more_rows() -> None:
        for days in (3, 4):
            protect(deal(w.tenant, member, close=TODAY() - timedelta(days=days)), member, days)
        ledger_entry(deal(w.tenant, member, status=WON), "5.00")
        registration(member, Status.INFO_REQUESTED)

    assert_constant_queries(client_for(member), HOME, more_rows, django_assert_num_queries)

"""The vendor home leads with what needs doing and the money, each figure a link to the list
that shows exactly the rows it counts. Another tenant's rows never count; the page costs
the same number of queries however many rows there are."""

# ruff: noqa: F811  (the deals fixtures are imported to be shared, then used as parameters)
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from deals.models import DealRegistration
from pipeline.models import CoSellRequest, Opportunity
from tests.conftest import World
from tests.deals.conftest import deals_world  # noqa: F401  (fixture)
from tests.pages import assert_constant_queries
from tests.partners.home_data import (
    TODAY,
    cosell,
    deal,
    ledger_entry,
    registration,
    stale_after,
)

Status = DealRegistration.Status
HOME = "/vendor/"
FIGURES = "/vendor/figures/"  # what the home loads after it shows (htmx)


@pytest.fixture
def busy(deals_world: World) -> dict:
    """Two partners' rows in this tenant, and the same kinds of rows in another tenant."""
    w = deals_world
    rows: dict = {}
    rows["overdue"] = registration(w.partner_rep, Status.IN_REVIEW, hours_waiting=100)
    rows["waiting"] = registration(w.other_partner_rep, Status.IN_REVIEW, hours_waiting=1)
    rows["ending"] = registration(w.partner_admin, Status.APPROVED, ends_in=3)
    rows["ending_last_day"] = registration(w.other_partner_rep, Status.APPROVED, ends_in=6)
    registration(w.other_partner_admin, Status.APPROVED, ends_in=7)  # next week
    registration(w.partner_rep, Status.APPROVED, ends_in=-1)  # already ended yesterday
    registration(w.partner_rep, Status.INFO_REQUESTED, hours_waiting=200)  # not the vendor's turn
    registration(w.partner_rep, Status.DRAFT, hours_waiting=200)

    stale_after(w.tenant, 30)
    rows["closing"] = deal(w.tenant, w.partner_rep, amount="1234.50", close=TODAY())
    rows["later"] = deal(
        w.tenant, w.other_partner_rep, amount="2500.00", close=TODAY() + timedelta(days=40)
    )
    rows["direct"] = deal(w.tenant, None, amount="1000000.00", owner=w.channel_manager.user)
    rows["past"] = deal(w.tenant, w.partner_rep, amount="300.00", close=TODAY() - timedelta(40))
    rows["idle"] = deal(w.tenant, w.other_partner_admin, amount=None, idle_days=45)
    rows["won"] = deal(
        w.tenant, w.partner_rep, amount="999.00", close=TODAY(), status=Opportunity.Status.WON
    )
    cosell(rows["closing"])
    cosell(rows["closing"])
    cosell(rows["later"], CoSellRequest.Status.ASSIGNED)
    rows["accrued"] = ledger_entry(rows["won"], "100.00")
    rows["accrued_2"] = ledger_entry(rows["won"], "1250.25")
    ledger_entry(rows["won"], "50.00", status="approved")

    o = w.other_tenant_partner_admin
    registration(o, Status.IN_REVIEW, hours_waiting=100)
    registration(o, Status.APPROVED, ends_in=2)
    stale_after(w.other_tenant, 30)
    foreign = deal(w.other_tenant, o, amount="7777777.00", close=TODAY(), idle_days=90)
    cosell(foreign)
    ledger_entry(foreign, "555.00")
    return rows


def tiles(response) -> dict:
    return {tile.key: tile for tile in response.context["tiles"]}


def shown(client, url: str) -> set[int]:
    """The IDs of the rows the list at `url` shows."""
    context = client.get(url).context
    if "items" in context:  # the review queue
        return {item.registration.pk for item in context["items"]}
    if "entries" in context:  # the commission ledger
        return {entry.pk for entry in context["entries"]}
    if context.get("rows") is not None:  # the other registration tabs
        return {row.pk for row in context["rows"]}
    return {opportunity.pk for opportunity in context["opportunities"]}


@pytest.mark.parametrize(
    ("key", "count", "amount", "expected"),
    [
        ("registrations-waiting", 2, None, ["overdue", "waiting"]),
        ("registrations-overdue", 1, None, ["overdue"]),
        ("protections-ending", 2, None, ["ending", "ending_last_day"]),
        ("pipeline-open", 5, "1004034.50", ["closing", "later", "direct", "past", "idle"]),
        ("pipeline-closing", 1, "1234.50", ["closing"]),
        ("pipeline-stale", 2, None, ["past", "idle"]),
        ("cosell-waiting", 2, None, ["closing"]),
        ("commissions-to-approve", 2, "1350.25", ["accrued", "accrued_2"]),
    ],
)
@pytest.mark.parametrize("actor", ["vendor_admin", "channel_manager"])
def test_each_figure_counts_this_tenant_and_links_to_exactly_its_rows(
    deals_world, busy, client_for, actor, key, count, amount, expected
):
    client = client_for(deals_world.member(actor))
    response = client.get(FIGURES)
    tile = tiles(response)[key]
    assert tile.count == count
    assert tile.amount == (Decimal(amount) if amount else None)
    assert shown(client, tile.url) == {busy[name].pk for name in expected}
    assert f'href="{tile.url.replace("&", "&amp;")}"' in response.content.decode()


def test_the_figures_read_as_money_and_counts(deals_world, busy, client_for):
    html = client_for(deals_world.channel_manager).get(FIGURES).content.decode()
    assert '"amount-value">1,004,034.50</span> <span class="currency">USD<' in html
    assert '"amount-value">1,350.25</span> <span class="currency">USD<' in html
    assert "on 1 deal" in html  # the two waiting co-sell requests are on one deal


def test_the_other_tenant_sees_only_its_own_figures(deals_world, busy, client_for):
    figures = tiles(client_for(deals_world.other_tenant_admin).get(FIGURES))
    assert figures["registrations-waiting"].count == 1
    assert figures["registrations-overdue"].count == 1
    assert figures["protections-ending"].count == 1
    assert figures["pipeline-open"].amount == Decimal("7777777.00")
    assert figures["pipeline-stale"].count == 1
    assert figures["cosell-waiting"].count == 1
    assert figures["commissions-to-approve"].amount == Decimal("555.00")


def test_an_empty_tenant_shows_zeros_that_still_link(deals_world, client_for):
    figures = tiles(client_for(deals_world.vendor_admin).get(FIGURES))
    assert {tile.count for tile in figures.values()} == {0}
    assert figures["pipeline-open"].amount == Decimal(0)
    assert all(tile.url.startswith("/vendor/") for tile in figures.values())


def test_the_filtered_lists_say_they_are_narrowed(deals_world, busy, client_for):
    client = client_for(deals_world.channel_manager)
    overdue = client.get(reverse("vendor:registration_queue") + "?overdue=1")
    assert "Showing only reviews past the SLA" in overdue.content.decode()
    ending = client.get(reverse("vendor:registration_queue") + "?tab=approved&protection_ends=week")
    assert "Showing only protections ending this week" in ending.content.decode()


def test_the_vendor_home_query_count_does_not_grow(
    deals_world, busy, client_for, django_assert_num_queries
):
    w = deals_world

    def more_rows() -> None:
        registration(w.partner_rep, Status.IN_REVIEW, hours_waiting=100)
        registration(w.other_partner_rep, Status.APPROVED, ends_in=1)
        extra = deal(w.tenant, w.partner_rep, close=TODAY(), idle_days=60)
        cosell(extra)
        ledger_entry(extra, "10.00")

    client = client_for(w.channel_manager)
    assert_constant_queries(client, FIGURES, more_rows, django_assert_num_queries)


def test_the_home_shows_at_once_and_loads_its_figures_after_it(deals_world, busy, client_for):
    """Aggregating a million deals takes longer than a page may (issue 14): the home asks
    for its figures once shown; without script, a link leads to them."""
    response = client_for(deals_world.channel_manager).get(HOME)
    assert "tiles" not in response.context
    html = response.content.decode()
    assert f'hx-get="{FIGURES}"' in html
    assert 'hx-trigger="load"' in html
    assert f'href="{FIGURES}"' in html


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("vendor_admin", 200),
        ("channel_manager", 200),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_tenant_admin", 200),
    ],
)
def test_who_reads_the_home_figures(deals_world, busy, client_for, actor, status):
    response = client_for(deals_world.member(actor)).get(FIGURES, headers={"HX-Request": "true"})
    assert response.status_code == status
    if status == 200:
        assert "<html" not in response.content.decode()  # the fragment htmx swaps in
        waiting = tiles(response)["registrations-waiting"].count
        assert waiting == (1 if actor == "other_tenant_admin" else 2)

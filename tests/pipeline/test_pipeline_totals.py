"""The vendor pipeline list: count, total and weighted total of every filtered row (one
aggregate query), and the same rows as a streamed CSV whose cells cannot run as formulas."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.conftest import World
from tests.pages import assert_constant_queries, member
from tests.partners.factories import PartnerOrganizationFactory
from tests.pipeline.factories import OpportunityFactory
from tests.pipeline.test_partner_pages import ACTORS, stage

CSV_STATUS = (302, 200, 200, 403, 403, 403, 200)


@pytest.fixture
def pipeline(world: World, stages) -> World:
    """30 deals of 1,000.00 in Qualification (20 %), one of 2,500.50 in Identification (10 %),
    one with no amount, and one whose name would run as a formula in a spreadsheet."""
    for _ in range(30):
        OpportunityFactory(
            tenant=world.tenant,
            partner=world.partner,
            owner=world.partner_rep.user,
            amount=Decimal(1000),
            stage=stage(stages, "Qualification"),
        )
    OpportunityFactory(
        tenant=world.tenant,
        partner=world.other_partner,
        owner=world.other_partner_rep.user,
        amount=Decimal("2500.50"),
        name='=HYPERLINK("http://evil.example")',
    )
    OpportunityFactory(tenant=world.tenant, owner=world.channel_manager.user, name="Direct")
    return world


def totals(response) -> tuple:
    t = response.context["totals"]
    return t.count, [(c.currency, c.count, c.amount, c.weighted) for c in t.by_currency]


TOTALS = "vendor:pipeline_totals"


def test_the_page_loads_its_totals_after_it_for_the_same_filters(pipeline, stages, client_for):
    """Counting a million deals takes longer than the page may (issue 14): the list shows
    at once and asks for its totals, with the same filters, once it is there."""
    query = {"stage": stage(stages, "Identification").pk, "after": "5"}
    response = client_for(pipeline.channel_manager).get(reverse("vendor:pipeline"), query)

    assert "totals" not in response.context
    html = response.content.decode()
    expected = f"{reverse(TOTALS)}?stage={query['stage']}"
    assert f'hx-get="{expected}"' in html
    assert 'hx-trigger="load"' in html
    assert f'href="{expected}"' in html  # without script, a link to the same figures


def test_totals_cover_every_filtered_row_not_only_the_page(pipeline, client_for):
    client = client_for(pipeline.channel_manager)
    assert len(client.get(reverse("vendor:pipeline")).context["opportunities"]) == 25

    response = client.get(reverse(TOTALS), headers={"HX-Request": "true"})
    assert "<html" not in response.content.decode()  # the fragment htmx swaps in
    assert totals(response) == (
        32,
        [("USD", 32, Decimal("32500.50"), Decimal("6250.05"))],
    )
    html = response.content.decode()
    assert 'data-testid="total-amount">32,500.50 USD</dd>' in html
    assert 'data-testid="total-weighted">6,250.05 USD</dd>' in html
    assert 'data-testid="total-count">32</dd>' in html


def test_totals_follow_the_filters(pipeline, stages, client_for):
    response = client_for(pipeline.vendor_admin).get(
        reverse(TOTALS), {"stage": stage(stages, "Identification").pk}
    )
    assert "<html" in response.content.decode()  # a whole page when asked without htmx
    assert totals(response) == (2, [("USD", 2, Decimal("2500.50"), Decimal("250.05"))])


def test_amounts_in_different_currencies_are_never_added(pipeline, client_for):
    OpportunityFactory(
        tenant=pipeline.tenant,
        owner=pipeline.channel_manager.user,
        amount=Decimal(50),
        currency="EUR",
    )
    response = client_for(pipeline.vendor_admin).get(reverse(TOTALS))
    assert totals(response)[1][0] == ("EUR", 1, Decimal("50.00"), Decimal("5.00"))


def test_the_totals_cost_one_query_whatever_the_rows(
    world, stages, client_for, django_assert_num_queries
):
    OpportunityFactory(tenant=world.tenant, owner=world.channel_manager.user, amount=1)

    def add_rows():
        for _ in range(3):
            partner = PartnerOrganizationFactory(tenant=world.tenant, tier=world.tier)
            OpportunityFactory(
                tenant=world.tenant, partner=partner, owner=world.partner_rep.user, amount=5
            )

    assert_constant_queries(
        client_for(world.channel_manager),
        reverse(TOTALS) + "?sort=amount",
        add_rows,
        django_assert_num_queries,
    )


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, CSV_STATUS, strict=True)))
def test_who_reads_the_pipeline_totals(pipeline, client_for, actor, expected):
    response = client_for(member(pipeline, actor)).get(reverse(TOTALS))

    assert response.status_code == expected
    if expected == 200:  # the other tenant counts none of these deals
        assert totals(response)[0] == (0 if actor == "other_tenant_admin" else 32)


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, CSV_STATUS, strict=True)))
def test_who_downloads_the_pipeline_csv(pipeline, client_for, actor, expected):
    response = client_for(member(pipeline, actor)).get(reverse("vendor:pipeline_csv"))

    assert response.status_code == expected
    if expected == 200:
        rows = read_csv(response)
        expected_rows = 0 if actor == "other_tenant_admin" else 32
        assert len(rows) == 1 + expected_rows  # the other tenant never sees a row


def test_the_csv_has_every_filtered_row_with_formulas_neutralized(pipeline, client_for):
    response = client_for(pipeline.channel_manager).get(
        reverse("vendor:pipeline_csv"), {"partner_name": "contoso"}
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="pipeline-')
    header, *rows = read_csv(response)
    assert header[:3] == ["Deal ID", "Deal", "Customer"]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Deal"] == '\'=HYPERLINK("http://evil.example")'
    assert (row["Stage"], row["Amount"], row["Weighted amount"], row["Currency"]) == (
        "Identification",
        "2500.50",
        "250.05",
        "USD",
    )


def test_the_page_links_the_csv_with_the_same_filters(pipeline, client_for):
    html = (
        client_for(pipeline.channel_manager)
        .get(reverse("vendor:pipeline"), {"partner_name": "contoso", "after": "5"})
        .content.decode()
    )
    assert f'href="{reverse("vendor:pipeline_csv")}?partner_name=contoso"' in html

"""GET /api/v1/pipeline-changes/ and the Changes pages (vendor and partner portals): who
sees which deals, bad input, the drill-down, the CSV, and query counts that do not grow
with the deals."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_context
from pipeline.services.opportunities import opportunity_update
from tests.api_clients import api_as
from tests.conftest import World
from tests.pages import assert_constant_queries, assert_login_redirect

API = "/api/v1/pipeline-changes/"
VENDOR_PAGE = reverse("vendor:pipeline_changes")
PARTNER_PAGE = reverse("partner:pipeline_changes")


@pytest.fixture
def deals(world: World, make_deal):
    """Three new deals this week: the rep's (1000), a colleague's at the same partner (200),
    another partner's (30); and one in the other tenant (5)."""
    return {
        "rep": make_deal("partner_rep", amount="1000.00", name="Rep deal"),
        "admin": make_deal("partner_admin", amount="200.00", name="Admin deal"),
        "other": make_deal("other_partner_rep", amount="30.00", name="Other deal"),
        "tenant": make_deal("other_tenant_partner_admin", amount="5.00", name="Globex deal"),
    }


def since() -> str:
    return (timezone.now() - timedelta(hours=1)).isoformat()


@pytest.mark.parametrize(
    ("actor", "new"),
    [
        ("vendor_admin", "1230.00"),
        ("channel_manager", "1230.00"),
        ("partner_admin", "1200.00"),
        ("partner_rep", "1000.00"),
        ("other_partner_admin", "30.00"),
        ("other_tenant_admin", "5.00"),
    ],
)
def test_api_scopes_the_deals_to_the_actor(world: World, deals, actor, new):
    response = api_as(world, actor).get(API, {"since": since()})

    assert response.status_code == 200
    body = response.json()
    assert body["start_total"] == "0.00"
    assert body["end_total"] == new
    assert body["parts"] == {
        "new": new,
        "pulled_in": "0.00",
        "pushed_out": "0.00",
        "amount_up": "0.00",
        "amount_down": "0.00",
        "won": "0.00",
        "lost": "0.00",
        "reopened": "0.00",
    }


def test_api_anonymous_is_401(world: World, deals):
    assert api_as(world, None).get(API).status_code == 401


def test_api_amount_changes_and_a_period(world: World, deals):
    middle = timezone.now()
    with tenant_context(world.tenant):
        opportunity_update(
            tenant=world.tenant,
            actor=world.vendor_admin,
            opportunity_id=deals["rep"].pk,
            amount="1500",
            expected_close_date=timezone.localdate() + timedelta(days=400),
        )
    body = api_as(world, "channel_manager").get(API, {"since": middle.isoformat()}).json()
    assert (body["start_total"], body["end_total"]) == ("1230.00", "1730.00")
    assert body["parts"]["amount_up"] == "500.00"

    period = f"{timezone.localdate():%Y-%m}"
    body = api_as(world, "channel_manager").get(API, {"since": since(), "period": period})
    assert body.json()["period"] == period


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-45"}, "until"),
        ({"since": "2026-11-02", "until": "2026-11-01"}, "until"),
        ({"period": "garbage"}, "period"),
        ({"period": "<b>2027-Q5</b>"}, "period"),
        ({"group_by": "partner"}, "group_by"),
    ],
)
def test_api_bad_input_is_a_clear_400(world: World, deals, query, field):
    response = api_as(world, "channel_manager").get(API, query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]


def test_api_query_count_does_not_grow_with_deals(
    world: World, deals, make_deal, django_assert_num_queries
):
    client = api_as(world, "channel_manager")
    assert_constant_queries(
        client,
        f"{API}?since=2020-01-01",
        lambda: [make_deal("partner_rep", amount="10") for _ in range(5)],
        django_assert_num_queries,
    )


@pytest.mark.parametrize(
    ("actor", "url", "status"),
    [
        ("vendor_admin", VENDOR_PAGE, 200),
        ("channel_manager", VENDOR_PAGE, 200),
        ("partner_admin", VENDOR_PAGE, 403),
        ("partner_admin", PARTNER_PAGE, 200),
        ("partner_rep", PARTNER_PAGE, 200),
        ("channel_manager", PARTNER_PAGE, 403),
    ],
)
def test_page_roles(world: World, deals, client_for, actor, url, status):
    assert client_for(world.member(actor)).get(url).status_code == status


def test_page_anonymous_goes_to_login(world: World, client_for):
    assert_login_redirect(client_for(None).get(VENDOR_PAGE), VENDOR_PAGE)


def test_vendor_page_shows_the_waterfall_and_a_parts_deals(world: World, deals, client_for):
    response = client_for(world.channel_manager).get(VENDOR_PAGE, {"part": "new"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-chart="pipeline-changes-data"' in html
    assert "Pipeline = the open deals" in html
    for name in ("Rep deal", "Admin deal", "Other deal"):
        assert name in html
    assert "Globex deal" not in html
    links = response.context["chart"].links
    assert "part=new" in links[1]
    assert links[0] == links[-1] == ""


def test_partner_page_shows_only_the_organizations_deals(world: World, deals, client_for):
    response = client_for(world.partner_admin).get(PARTNER_PAGE, {"part": "new"})

    html = response.content.decode()
    assert "Rep deal" in html
    assert "Admin deal" in html
    assert "Other deal" not in html
    assert "Globex deal" not in html
    assert response.context["changes"].end_total == Decimal("1200.00")


@pytest.mark.parametrize(
    "query",
    [{"period": "garbage"}, {"since": "2026-11-02", "until": "2026-11-01"}, {"part": "x"}],
)
def test_page_bad_input_is_a_form_error(world: World, deals, client_for, query):
    response = client_for(world.channel_manager).get(VENDOR_PAGE, query)

    assert response.status_code == 400
    assert 'data-testid="error-summary"' in response.content.decode()


def test_page_query_count_does_not_grow_with_deals(
    world: World, deals, make_deal, client_for, django_assert_num_queries
):
    assert_constant_queries(
        client_for(world.channel_manager),
        f"{VENDOR_PAGE}?since=2020-01-01&part=new",
        lambda: [make_deal("partner_rep", amount="10") for _ in range(5)],
        django_assert_num_queries,
    )


def test_csv_export_has_every_bar(world: World, deals, client_for):
    response = client_for(world.channel_manager).get(
        reverse("vendor:pipeline_changes_csv"), {"since": since()}
    )

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "part,label,amount (USD),deals"
    assert lines[1] == "start,Start,0.00,"
    assert lines[2] == "new,New,1230.00,3"
    assert lines[-1] == "end,End,1230.00,"

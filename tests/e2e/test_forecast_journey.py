"""The forecast in a real browser: a channel manager opens the forecast and switches the
grouping; a partner admin sees their forecast against the median; every forecast page
passes axe at 1280 and 390 px without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.analytics.conftest import generate
from tests.conftest import build_world
from tests.e2e.test_accessibility import check_pages
from tests.e2e.test_portal_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PERIOD = "period=2027-Q1"


@pytest.fixture
def forecast_world(transactional_db: None):  # type: ignore[no-untyped-def]
    world = build_world()
    generate(world, count=40)
    return world


def test_channel_manager_switches_the_grouping(forecast_world, live_server, new_page):
    page = new_page()
    log_in(page, live_server.url, forecast_world.channel_manager.user.email)
    page.get_by_role("link", name="Forecast", exact=True).first.click()
    page.goto(f"{live_server.url}/vendor/forecast/?{PERIOD}")
    table = page.get_by_test_id("forecast-table")
    expect(table).to_contain_text("Northwind Resellers")
    page.get_by_label("Group by").select_option("tier")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("forecast-table")).to_contain_text("Silver")
    expect(page.get_by_test_id("forecast-table")).not_to_contain_text("Northwind Resellers")
    expect(page.locator("canvas[data-chart='forecast-categories-data']")).to_be_visible()


def test_partner_admin_sees_the_median_not_the_others(forecast_world, live_server, new_page):
    page = new_page()
    log_in(page, live_server.url, forecast_world.partner_admin.user.email)
    page.goto(f"{live_server.url}/partner/forecast/?{PERIOD}")
    table = page.get_by_test_id("partner-forecast")
    expect(table).to_contain_text("Median partner")
    expect(table).to_contain_text("Northwind Resellers")
    body = page.content()
    assert "Contoso" not in body
    assert "Fabrikam" not in body


@pytest.mark.parametrize(
    ("actor", "paths"),
    [
        (
            "vendor_admin",
            [
                f"/vendor/forecast/?{PERIOD}",
                f"/vendor/forecast/targets/?{PERIOD}",
                "/vendor/forecast/quality/",
                f"/vendor/forecast/adjustments/?{PERIOD}",
            ],
        ),
        ("partner_admin", [f"/partner/forecast/?{PERIOD}"]),
        ("partner_rep", [f"/partner/forecast/?{PERIOD}"]),
    ],
)
def test_forecast_pages_pass_axe(forecast_world, live_server, browser, actor, paths):
    email = forecast_world.member(actor).user.email
    problems = check_pages(browser, live_server.url, email, paths)
    assert problems == [], "\n".join(problems)

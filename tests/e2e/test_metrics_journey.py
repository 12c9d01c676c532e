"""The Metrics pages in a real Chromium on generated history: the channel manager's page
(flags first, every grouping, charts with their tables) and the partner admin's (their
figures beside the partners' median, no other partner named) pass axe at 1280 and 390 px
without sideways scrolling or CSP errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.analytics.conftest import build_metrics_world
from tests.conftest import build_world
from tests.e2e.test_accessibility import check_pages
from tests.e2e.test_portal_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
Q2 = "?period=2026-Q2"


@pytest.fixture
def metrics_world(transactional_db: None):  # noqa: ANN201
    return build_metrics_world(build_world())


def test_the_metrics_pages_pass_axe_at_desktop_and_phone_width(metrics_world, live_server, browser):
    base, world = live_server.url, metrics_world.world
    problems = check_pages(
        browser, base, world.channel_manager.user.email, [f"/vendor/metrics/{Q2}"]
    )
    problems += check_pages(
        browser, base, world.partner_admin.user.email, [f"/partner/metrics/{Q2}"]
    )
    assert problems == []


def test_a_partner_admin_reads_their_win_rate_beside_the_median(
    metrics_world, live_server, new_page
):
    base, world = live_server.url, metrics_world.world
    page = new_page()
    log_in(page, base, world.partner_admin.user.email)
    page.get_by_role("link", name="Metrics").click()
    page.get_by_label("Period").fill("2026-Q2")
    page.get_by_role("button", name="Show").click()
    row = page.get_by_test_id("figure-win_rate")
    expect(row.get_by_test_id("yours")).to_contain_text("%")
    expect(row.get_by_test_id("median")).to_contain_text("%")
    expect(page.get_by_test_id("flags")).to_be_visible()
    for partner in metrics_world.partners[1:]:
        expect(page.locator("main")).not_to_contain_text(partner.name)


def test_a_channel_manager_opens_a_flagged_deal_from_the_metrics_page(
    metrics_world, live_server, new_page
):
    base, world = live_server.url, metrics_world.world
    page = new_page()
    log_in(page, base, world.channel_manager.user.email)
    page.goto(f"{base}/vendor/metrics/{Q2}")
    expect(page.get_by_role("img", name="Win rate by partner", exact=False)).to_be_visible()
    page.get_by_test_id("flagged-deals").get_by_role("link").first.click()
    expect(page.get_by_test_id("deal-flags")).to_be_visible()

"""Leads in a real Chromium, routed by a real Celery worker: a channel manager adds a lead,
the worker offers it to the partner that serves the territory and product line, a partner
rep sees it in the inbox with its countdown and why it came to them (never the other
candidate), accepts it and converts it into a registration; the channel manager's lead
page explains the routing. The pages pass axe-core at 1280 and 390 px with no CSP
violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World, build_world
from tests.e2e.test_accessibility import problems_on
from tests.e2e.test_portal_journeys import log_in
from tests.leads.conftest import with_lead_routing
from tests.worker.conftest import start_celery_worker, task_log  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db: None) -> World:
    return with_lead_routing(build_world())


def add_lead(page: Page, base: str) -> None:
    page.goto(f"{base}/vendor/")
    page.get_by_role("link", name="Leads").first.click()
    page.get_by_role("link", name="Add a lead").click()
    page.get_by_label("Company name").fill("Fabrikam Inc.")
    page.get_by_label("Company website").fill("https://fabrikam.com")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Cloud Suite").check()
    page.get_by_label("Estimated value").fill("25000")
    page.get_by_label("Source / campaign").fill("Webinar Q4")
    page.get_by_role("button", name="Create and route").click()


def reload_until(page: Page, test_id: str, text: str) -> None:
    for _ in range(40):
        if (
            page.get_by_test_id(test_id).count()
            and text in page.get_by_test_id(test_id).first.inner_text()
        ):
            return
        page.wait_for_timeout(250)
        page.reload()
    expect(page.get_by_test_id(test_id).first).to_contain_text(text)


def axe_problems(page: Page, url: str) -> list[str]:
    errors: list[str] = []
    page.on(
        "console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None
    )
    found = problems_on(page, url, errors)
    page.set_viewport_size({"width": 1280, "height": 900})
    return found


def test_a_partner_accepts_a_routed_lead_from_the_inbox(
    world,
    live_server,
    new_page,
    start_celery_worker,  # noqa: F811
):
    base = live_server.url
    with start_celery_worker():
        vendor = new_page()
        log_in(vendor, base, world.channel_manager.user.email)
        add_lead(vendor, base)
        reload_until(vendor, "lead-status", "Offered")
        lead_page = vendor.url

        partner = new_page()
        log_in(partner, base, world.partner_rep.user.email)
        partner.goto(f"{base}/partner/")
        partner.get_by_role("link", name="Leads").first.click()
        offer = partner.get_by_test_id("offer")
        expect(offer).to_contain_text("Fabrikam Inc.")
        expect(offer.get_by_test_id("countdown")).to_contain_text("left to answer")
        expect(offer).to_contain_text("25,000.00 USD")
        offer.get_by_text("Why this lead came to you").click()
        expect(offer.get_by_test_id("why")).to_contain_text(
            "Serves the lead's country or region: yes"
        )
        expect(partner.locator("main")).not_to_contain_text("Contoso")
        assert axe_problems(partner, partner.url) == []

        partner.get_by_role("button", name="Accept Fabrikam Inc.").click()
        expect(
            partner.get_by_text("You accepted the lead Fabrikam Inc.; it is yours to work.")
        ).to_be_visible()
        expect(partner.get_by_test_id("my-lead")).to_contain_text("Accepted")
        assert axe_problems(partner, partner.url) == []
        partner.get_by_role("button", name="Convert Fabrikam Inc. to a registration").click()
        expect(partner.get_by_text("converted into a registration")).to_be_visible()
        expect(partner.locator("h1")).to_contain_text("Fabrikam Inc.")

        vendor.goto(lead_page)
        expect(vendor.get_by_test_id("lead-status")).to_have_text("Converted")
        expect(vendor.get_by_test_id("routing")).to_contain_text("(chosen)")
        expect(vendor.get_by_test_id("candidate-row")).to_have_count(2)
        assert axe_problems(vendor, lead_page) == []
        assert axe_problems(vendor, f"{base}/vendor/leads/") == []

        admin = new_page()
        log_in(admin, base, world.vendor_admin.user.email)
        assert axe_problems(admin, f"{base}/vendor/settings/routing/") == []
        partner_admin = new_page()
        log_in(partner_admin, base, world.partner_admin.user.email)
        assert axe_problems(partner_admin, f"{base}/partner/lead-profile/") == []

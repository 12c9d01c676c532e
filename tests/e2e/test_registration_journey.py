"""Deal registration in a real Chromium, screened by a real Celery worker: a partner
registers a customer, a second partner registers the same customer, the channel manager
compares them side by side and decides, and both partners see their outcome — the second
one without ever seeing who the first partner is."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from accounts.tenancy import tenant_context
from deals.models import DealRegistration, ProductLine
from deals.services.configuration import registration_defaults_install
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World, build_world
from tests.e2e.test_portal_journeys import log_in
from tests.worker.conftest import start_celery_worker, task_log  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db: None) -> World:
    world = build_world()
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
        registration_defaults_install(tenant=world.tenant)
        ProductLine.objects.create(tenant=world.tenant, code="cloud", name="Cloud Suite")
    return world


def register(page: Page, base: str, *, name: str, website: str) -> None:
    page.goto(f"{base}/partner/")
    page.get_by_role("link", name="Registrations").first.click()
    page.get_by_role("link", name="Register a deal").click()
    page.get_by_label("Customer name").fill(name)
    page.get_by_label("Website").fill(website)
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Cloud Suite").check()
    page.get_by_label("Estimated amount").fill("48000")
    close = (timezone.localdate() + timedelta(days=45)).isoformat()
    page.get_by_label("Expected close date").fill(close)
    page.get_by_label("Budget confirmed").check()
    page.get_by_label("Decision maker identified").check()
    page.get_by_label("Need").fill("Consolidate three CRMs")
    page.get_by_label("Timeline").fill("This quarter")
    page.get_by_role("button", name="Submit registration").click()


def expect_status(page: Page, status: str) -> None:
    """The worker screens in the background: reload until the status shows."""
    for _ in range(40):
        if page.get_by_test_id("registration-status").inner_text().strip() == status:
            return
        page.wait_for_timeout(250)
        page.reload()
    expect(page.get_by_test_id("registration-status")).to_have_text(status)


def test_two_partners_register_one_customer_and_the_channel_manager_decides(
    world: World,
    live_server,
    new_page,
    start_celery_worker,  # noqa: F811
):
    base = live_server.url
    with start_celery_worker():
        first = new_page()
        log_in(first, base, world.partner_rep.user.email)
        register(first, base, name="Fabrikam Inc", website="https://www.fabrikam.com")
        expect_status(first, "In review")
        expect(first.get_by_test_id("findings")).to_have_count(0)
        expect(first.get_by_test_id("review-status")).to_contain_text(
            "Your vendor reviews every registration."
        )

        second = new_page()
        log_in(second, base, world.other_partner_rep.user.email)
        page = second
        page.goto(f"{base}/partner/registrations/new/")
        page.get_by_label("Customer name").fill("FABRIKAM, Incorporated")
        expect(page.locator("#similar-hint")).to_contain_text("Another partner")
        register(second, base, name="FABRIKAM, Incorporated", website="fabrikam.com")
        expect_status(second, "In review")
        finding = second.get_by_test_id("finding")
        expect(finding).to_contain_text("Another partner's registration")
        today = timezone.localdate().isoformat()
        expect(finding).to_contain_text(f"First registered on {today}")
        assert "Northwind" not in second.content()

    with tenant_context(world.tenant):
        earlier, later = DealRegistration.objects.order_by("first_submitted_at")

    manager = new_page()
    log_in(manager, base, world.channel_manager.user.email)
    manager.get_by_role("link", name="Registrations").first.click()
    queue = manager.get_by_role("table")
    expect(queue).to_contain_text("Fabrikam Inc")
    expect(queue).to_contain_text("FABRIKAM, Incorporated")
    manager.get_by_role("link", name="FABRIKAM, Incorporated").click()
    expect(manager.get_by_test_id("conflict-banner")).to_be_visible()
    # On a phone the comparison stacks: all of it readable, nothing scrolls sideways.
    manager.set_viewport_size({"width": 390, "height": 844})
    expect(manager.get_by_test_id("finding").get_by_text("fabrikam.com").first).to_be_visible()
    assert manager.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    manager.set_viewport_size({"width": 1280, "height": 900})
    findings = manager.get_by_test_id("findings")
    expect(findings).to_contain_text("Northwind Resellers")  # side by side: who came first
    expect(findings).to_contain_text("Fabrikam Inc")
    decide = manager.get_by_test_id("decisions")
    decide.get_by_label("Reason").select_option("duplicate")
    decide.get_by_label("Message to the partner").first.fill("Another partner registered it first.")
    decide.get_by_role("button", name="Reject", exact=True).click()
    expect(manager.get_by_test_id("registration-status")).to_have_text("Rejected")

    manager.get_by_test_id("next-in-queue").click()  # the earlier one of the pair
    expect(manager).to_have_url(f"{base}/vendor/registrations/{earlier.pk}/")
    manager.get_by_test_id("decisions").get_by_role("button", name="Approve").click()
    expect(manager.get_by_test_id("registration-status")).to_have_text("Approved")

    # The first partner's page, left open since it was in review, updates itself.
    expect(first.get_by_test_id("registration-status")).to_have_text("Approved")
    expect(first.get_by_test_id("protection")).to_contain_text(re.compile(r"\d+ days"))
    expect(first.get_by_test_id("opportunity-link")).to_be_visible()

    # That page may be reloading itself at this moment (its own status update): a goto that
    # this interrupts (net::ERR_ABORTED) is simply made again once the page has settled.
    for attempt in range(3):
        try:
            second.goto(f"{base}/partner/registrations/{later.pk}/")
            break
        except PlaywrightError as error:
            if "ERR_ABORTED" not in str(error) or attempt == 2:
                raise
            second.wait_for_load_state()
    expect(second.get_by_test_id("registration-status")).to_have_text("Rejected")
    expect(second.get_by_test_id("decision")).to_contain_text("Duplicate")
    expect(second.get_by_test_id("decision")).to_contain_text(
        "Another partner registered it first."
    )

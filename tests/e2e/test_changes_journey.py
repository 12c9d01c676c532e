"""A channel manager opens Changes in a real Chromium, follows a waterfall bar's table link
and lands on that part's deals; the page passes axe at desktop and phone widths without
sideways scroll (also with a part's deals open)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.tenancy import tenant_context
from pipeline.models import Opportunity
from pipeline.services.customers import customer_get_or_create
from pipeline.services.opportunities import opportunity_create
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World, build_world
from tests.e2e.test_accessibility import check_pages
from tests.e2e.test_portal_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db: None) -> World:
    world = build_world()
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
        for name, member, amount in (
            ("Fabrikam rollout", world.partner_rep, "48000"),
            ("Contoso renewal", world.other_partner_rep, "12500.50"),
        ):
            customer, _ = customer_get_or_create(tenant=world.tenant, name=f"{name} Inc")
            opportunity_create(
                tenant=world.tenant,
                actor=member,
                customer=customer,
                name=name,
                owner=member.user,
                partner_id=member.partner_id,
                amount=amount,
            )
    return world


def test_a_channel_manager_drills_from_a_bar_to_its_deals(world: World, live_server, new_page):
    base = live_server.url
    page = new_page()
    log_in(page, base, world.channel_manager.user.email)

    page.get_by_role("link", name="Changes", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What changed in the pipeline")
    expect(page.get_by_test_id("changes-summary")).to_contain_text("60,500.50")
    expect(page.locator("canvas[data-chart]")).to_be_visible()

    page.get_by_test_id("part-new").click()
    expect(page.get_by_role("heading", name="New: the deals")).to_be_visible()
    deals = page.get_by_test_id("part-deals")
    expect(deals).to_contain_text("Fabrikam rollout")
    expect(deals).to_contain_text("Contoso renewal")
    deals.get_by_role("link", name="Fabrikam rollout").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Fabrikam rollout")


def test_the_changes_pages_and_the_category_form_pass_axe(world: World, live_server, browser):
    with tenant_context(world.tenant):
        deal = Opportunity.objects.get(name="Fabrikam rollout").pk
    paths = [
        "/vendor/analytics/changes/",
        "/vendor/analytics/changes/?part=new",
        f"/vendor/pipeline/{deal}/",  # the forecast category form
    ]
    assert check_pages(browser, live_server.url, world.channel_manager.user.email, paths) == []
    partner = ["/partner/analytics/changes/?part=new", f"/partner/opportunities/{deal}/"]
    assert check_pages(browser, live_server.url, world.partner_rep.user.email, partner) == []

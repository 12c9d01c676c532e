"""Commissions in a real Chromium, attributed by a real Celery worker: a plan is in force; the
partner admin sees what a registered open deal would earn; the channel manager closes it
as won in the vendor portal; the worker attributes it; the partner admin finds the accrual
and its breakdown on the statement page, and the same figure the deal page promised."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PlanVersion, ProductBonus, TierRate
from deals.models import ProductLine
from deals.services.configuration import registration_defaults_install
from deals.services.decisions import registration_approve
from deals.services.registrations import registration_create
from deals.services.screening import registration_screen
from pipeline.models import Opportunity
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World, build_world
from tests.deals.conftest import registration_data
from tests.e2e.test_portal_journeys import log_in
from tests.worker.conftest import start_celery_worker, task_log, wait_until  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db: None) -> World:
    """Stages, registration rules, the "cloud" line, and a plan in force since 2020: Gold
    10 %, registered ×1.0, unregistered ×0.5, cloud +2 %."""
    world = build_world()
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
        registration_defaults_install(tenant=world.tenant)
        cloud = ProductLine.objects.create(tenant=world.tenant, code="cloud", name="Cloud Suite")
        plan = PlanVersion.objects.create(
            tenant=world.tenant, name="Standard", effective_from=date(2020, 1, 1)
        )
        TierRate.objects.create(tenant=world.tenant, version=plan, tier=world.tier, rate=10)
        ProductBonus.objects.create(tenant=world.tenant, version=plan, product_line=cloud, bonus=2)
    return world


def registered_deal(world: World) -> Opportunity:
    """The rep registers Fabrikam (48,000, cloud); the channel manager approves it."""
    tenant = world.tenant
    with tenant_context(tenant):
        registration = registration_create(
            tenant=tenant,
            actor=world.partner_rep,
            submit=True,
            **registration_data(amount=Decimal("48000"), product_lines=["cloud"]),
        )
    with tenant_context(tenant):
        registration_screen(tenant=tenant, registration_id=registration.pk)
    with tenant_context(tenant):
        registration = registration_approve(
            tenant=tenant, actor=world.channel_manager, registration_id=registration.pk
        )
        return Opportunity.objects.get(pk=registration.opportunity_id)


def squeezed(page: Page, test_id: str) -> str:
    return " ".join(page.get_by_test_id(test_id).first.inner_text().split())


def test_a_won_registered_deal_shows_up_on_the_partner_statement_with_its_breakdown(
    world: World,
    live_server,
    new_page,
    start_celery_worker,  # noqa: F811
):
    base = live_server.url
    deal = registered_deal(world)
    # 48,000 × 10 % × 1.0 (registered) + cloud 2 % of 48,000 = 4,800 + 960
    expected = "5,760.00 USD"

    partner = new_page()
    log_in(partner, base, world.partner_admin.user.email)
    partner.get_by_role("link", name="Opportunities").first.click()
    partner.get_by_role("link", name=deal.name).click()
    panel = partner.get_by_test_id("commission-panel")
    expect(panel).to_contain_text("What this deal would earn")
    expect(panel.get_by_test_id("breakdown-amount")).to_have_text(expected)
    expect(panel.get_by_test_id("breakdown-registered")).to_contain_text("Registered deal ×1")

    with start_celery_worker():
        manager = new_page()
        log_in(manager, base, world.channel_manager.user.email)
        manager.get_by_role("link", name="Pipeline").first.click()
        manager.get_by_role("link", name=deal.name).click()
        expect(manager.get_by_test_id("commission-panel")).to_contain_text(expected)
        # closing passes every later stage: what they need is asked for right there
        expect(manager.get_by_test_id("close-won")).to_contain_text(
            "Needs: Next step, Decision maker's name."
        )
        manager.locator("#id_won_next_step").fill("Countersign")
        manager.locator("#id_won_decision_maker_name").fill("Dana Ruiz")
        manager.locator("#id_won_close_date").fill(timezone.localdate().isoformat())
        manager.get_by_role("button", name="Save and close as won").click()
        expect(manager.get_by_test_id("deal-status")).to_have_text("Won")

        def attributed() -> bool:
            with tenant_context(world.tenant):
                return CommissionEntry.objects.filter(opportunity_id=deal.pk).exists()

        wait_until(attributed, what="the worker to attribute the won deal")

    partner.get_by_role("link", name="Statements").click()
    expect(partner.get_by_test_id("statement-period")).to_have_text(f"{timezone.localdate():%Y-%m}")
    row = partner.get_by_test_id("statement-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(deal.name)
    expect(row).to_contain_text(expected)
    expect(row).to_contain_text("Accrued")
    assert squeezed(partner, "breakdown-line") == (
        "10 % of 48,000.00 · registered ×1 · Cloud Suite +960.00"
    )
    expect(partner.get_by_test_id("total-accrued")).to_have_text(expected)
    expect(partner.get_by_test_id("total-net")).to_have_text(expected)

    row.get_by_role("link", name="Accrual").click()
    expect(partner.get_by_test_id("breakdown-base")).to_contain_text(
        "10 % (Gold tier) = 4,800.00 USD"
    )
    expect(partner.get_by_test_id("breakdown-bonuses")).to_contain_text("Cloud Suite +960.00 USD")
    expect(partner.get_by_test_id("breakdown-amount")).to_have_text(expected)

    partner.get_by_role("link", name=deal.name).click()  # the deal now shows what it accrued
    panel = partner.get_by_test_id("commission-panel")
    expect(panel).to_contain_text("Commission accrued")
    expect(panel.get_by_test_id("breakdown-amount")).to_have_text(expected)

"""Co-sell in a real Chromium: a partner rep asks for a pre-sales engineer on a deal in
Solution Development, the channel manager's queue shows it, it is assigned (to the least
loaded engineer: the channel manager), the assignee logs the first contact, the partner sees
who helps and wins the deal; the worker refreshes the deal's facts and the co-sell impact
report counts it among the deals won with co-sell."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.tenancy import tenant_context
from analytics.models import DealFact
from pipeline.models import CoSellRequest, CoSellResource, CoSellResourceType, Opportunity, Stage
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World, build_world
from tests.e2e.test_portal_journeys import log_in
from tests.pipeline.factories import OpportunityFactory
from tests.worker.conftest import start_celery_worker, task_log, wait_until  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db: None) -> World:
    world = build_world()
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
        engineer = CoSellResource.objects.create(
            tenant=world.tenant, person=world.channel_manager, weekly_capacity=2
        )
        engineer.types.set(
            CoSellResourceType.objects.filter(tenant=world.tenant, code="pre_sales_engineer"),
            through_defaults={"tenant": world.tenant},
        )
    return world


def test_a_partner_gets_an_engineer_on_a_deal_then_wins_it(
    world: World,
    live_server,
    new_page,
    start_celery_worker,  # noqa: F811
):
    with tenant_context(world.tenant):
        deal = OpportunityFactory(
            tenant=world.tenant,
            partner=world.partner,
            owner=world.partner_rep.user,
            name="Fabrikam rollout",
            stage=Stage.objects.get(tenant=world.tenant, name="Solution Development"),
            amount=Decimal("48000"),
            expected_close_date=timezone.localdate() + timedelta(days=30),
            next_step="Workshop with IT",
            decision_maker_name="Dana Scully",
            budget_confirmed=True,
            decision_maker=True,
            need="Replace three quoting tools",
            timeline="This quarter",
        )
    base = live_server.url
    cm_name = world.channel_manager.user.display_name

    partner = new_page()
    log_in(partner, base, world.partner_rep.user.email)
    partner.goto(f"{base}/partner/opportunities/{deal.pk}/")
    help_list = partner.get_by_test_id("cosell-help")
    expect(help_list.get_by_role("listitem").filter(has_text="Pre-sales engineer")).to_contain_text(
        "Qualifies"
    )
    form = partner.get_by_test_id("cosell-requests")
    form.get_by_label("Help needed").select_option(label="Pre-sales engineer")
    form.get_by_label("What you need").fill("A technical deep dive with their architects")
    form.get_by_label("Needed by").fill((timezone.localdate() + timedelta(days=5)).isoformat())
    form.get_by_label("Note").fill("They compare us with two others")
    form.get_by_role("button", name="Request co-sell help").click()
    expect(partner.locator(".message.success")).to_have_text(
        "Pre-sales engineer requested; the vendor is notified."
    )

    manager = new_page()
    log_in(manager, base, world.channel_manager.user.email)
    manager.get_by_role("link", name="Co-sell", exact=True).click()
    row = manager.get_by_test_id("queue-row").filter(has_text="Fabrikam rollout")
    expect(row).to_contain_text("48,000.00 USD")
    expect(row).to_contain_text("Pre-sales engineer")
    row.get_by_role("button", name="Assign").click()
    expect(manager.locator(".message.success")).to_have_text(
        f"{cm_name} is assigned; the partner is notified."
    )
    row = manager.get_by_test_id("queue-row").filter(has_text="Fabrikam rollout")
    expect(row).to_contain_text(cm_name)
    row.get_by_label("How you reached them").fill("Call with the partner rep")
    row.get_by_role("button", name="Log first contact").click()
    expect(manager.locator(".message.success")).to_have_text(
        "First contact logged; the clock stops."
    )
    expect(manager.get_by_test_id("queue-row")).to_have_count(0)

    partner.reload()
    expect(partner.get_by_test_id("cosell-assignee")).to_have_text(
        f"Assigned to {cm_name}, pre-sales engineer (channel manager)"
    )
    expect(partner.get_by_test_id("cosell-request")).to_contain_text("Engaged")
    with start_celery_worker():
        won_form = partner.get_by_test_id("close-won")
        won_form.get_by_label("Close date").fill(timezone.localdate().isoformat())
        won_form.get_by_role("button", name="Close as won").click()
        expect(partner.locator(".message.success")).to_be_visible()

        def counted() -> bool:
            with tenant_context(world.tenant):
                return DealFact.objects.filter(
                    opportunity_id=deal.pk, status="won", helped=True
                ).exists()

        wait_until(counted, what="the worker to refresh the won deal's facts")

    manager.goto(f"{base}/vendor/analytics/cosell-impact/")
    win_rate = manager.get_by_test_id("headline").locator(".card").first
    expect(win_rate).to_contain_text("Deals: 1 / 0")  # won with co-sell, none without

    with tenant_context(world.tenant):
        request = CoSellRequest.objects.select_related("assigned_resource", "stage_at_request").get(
            opportunity=deal
        )
        won = Opportunity.objects.get(pk=deal.pk)
    assert (request.status, request.assigned_resource.person_id) == (
        "engaged",
        world.channel_manager.pk,
    )
    assert request.engaged_at is not None
    assert request.stage_at_request.name == "Solution Development"
    assert won.status == "won"

"""A partner rep works a deal in a real Chromium: opens it, sees what a move needs, fills
it in right there (or on the edit page) and moves on."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.tenancy import tenant_context
from pipeline.models import Opportunity, Stage, StageMove
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World, build_world
from tests.e2e.test_portal_journeys import log_in
from tests.pipeline.factories import OpportunityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db: None) -> World:
    world = build_world()
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    return world


def stage_pk(world: World, name: str) -> int:
    with tenant_context(world.tenant):
        return Stage.objects.get(tenant=world.tenant, name=name).pk


def move_to(page: Page, stage: str) -> None:
    page.get_by_role("button", name=f"Move to {stage}").click()


def test_a_partner_rep_moves_a_deal_and_is_stopped_by_a_missing_criterion(
    world: World, live_server, new_page
):
    deal = OpportunityFactory(
        tenant=world.tenant,
        partner=world.partner,
        owner=world.partner_rep.user,
        name="Fabrikam rollout",
        customer__name="Fabrikam Inc",
    )
    base = live_server.url
    page = new_page()
    log_in(page, base, world.partner_rep.user.email)
    expect(page).to_have_url(f"{base}/partner/")

    page.get_by_role("link", name="Opportunities").click()
    page.get_by_role("link", name="Fabrikam rollout").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Fabrikam rollout")
    expect(page.get_by_test_id("current-stage")).to_have_text("Identification")

    # leaving the first stage needs the qualification: the move looks disabled, says
    # what it needs, and takes it right there (one POST saves it and moves)
    blocked = page.get_by_role("button", name="Move to Qualification")
    expect(blocked).to_have_attribute("aria-disabled", "true")
    expect(page.locator("#move-why-" + str(stage_pk(world, "Qualification")))).to_have_text(
        "Needs: Budget confirmed, Decision maker identified, Need described, Timeline known."
    )
    page.get_by_text("Fill in and move to Qualification").click()
    field = f"#id_move{stage_pk(world, 'Qualification')}_%s"
    page.locator(field % "budget_confirmed").check()
    page.locator(field % "decision_maker").check()
    page.locator(field % "need").fill("Replace three quoting tools")
    page.locator(field % "timeline").fill("Before the end of the quarter")
    page.get_by_role("button", name="Save and move to Qualification").click()
    expect(page.locator(".message.success")).to_have_text("Saved and moved to Qualification.")
    expect(page.get_by_test_id("current-stage")).to_have_text("Qualification")
    expect(page.locator('[aria-current="step"]')).to_contain_text("Qualification")

    # Solution Development needs an amount and a next step (filled in on the edit page)
    expect(page.locator("#move-why-" + str(stage_pk(world, "Solution Development")))).to_have_text(
        "Needs: Amount, Next step."
    )
    page.get_by_role("link", name="Edit details").click()
    page.get_by_label("Amount", exact=True).fill("48000")
    page.get_by_label("Next step", exact=True).fill("Workshop with IT")
    page.get_by_role("button", name="Save").click()
    move_to(page, "Solution Development")
    expect(page.get_by_test_id("current-stage")).to_have_text("Solution Development")
    expect(page.get_by_test_id("history")).to_contain_text("Solution Development")

    with tenant_context(world.tenant):
        moved = Opportunity.objects.select_related("stage").get(pk=deal.pk)
        moves = list(
            StageMove.objects.filter(opportunity=moved).values_list("to_stage__name", flat=True)
        )
    assert (moved.stage.name, moved.amount, moved.next_step) == (
        "Solution Development",
        48000,
        "Workshop with IT",
    )
    assert moves == ["Qualification", "Solution Development"]

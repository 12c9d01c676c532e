"""The deal page's moves: a blocked move looks disabled and says what it needs, the missing
fields are filled in right there (one POST saves them and moves), and only a vendor admin
forces a move, with a reason shown in the stage history. The same over the API."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, DomainEvent
from pipeline.models import Opportunity, Stage, StageMove
from tests.api_clients import api_as
from tests.conftest import World
from tests.pages import messages_of
from tests.pipeline.factories import OpportunityFactory

QUALIFIED = {"budget_confirmed": "on", "decision_maker": "on", "need": "Quotes", "timeline": "Q3"}


@pytest.fixture
def deal(world: World, stages) -> Opportunity:
    return OpportunityFactory(
        tenant=world.tenant, partner=world.partner, owner=world.partner_rep.user, name="Rep deal"
    )


def stage(stages, name: str) -> Stage:
    return next(s for s in stages if s.name == name)


def page_url(portal: str, name: str, deal: Opportunity) -> str:
    return reverse(f"{portal}:{name}", args=[deal.pk])


def state(world, in_tenant, deal) -> tuple:
    with in_tenant(world.tenant):
        row = Opportunity.objects.get(pk=deal.pk)
        return (
            row.stage_id,
            row.status,
            row.budget_confirmed,
            row.need,
            row.next_step,
            StageMove.objects.filter(opportunity=deal).count(),
            AuditEntry.objects.count(),
            DomainEvent.objects.count(),
        )


def move_item(html: str, target: Stage) -> str:
    match = re.search(rf'data-testid="move-{target.pk}">(.*?)</li>', html, re.S)
    assert match, f"no move to {target.name}"
    return match.group(1)


def test_a_blocked_move_looks_disabled_and_says_what_it_needs(world, stages, deal, client_for):
    html = client_for(world.partner_rep).get(page_url("partner", "opportunity_detail", deal))
    item = move_item(html.content.decode(), stage(stages, "Qualification"))

    assert 'aria-disabled="true"' in item
    assert (
        "Needs: Budget confirmed, Decision maker identified, Need described, Timeline known."
        in item
    )
    assert 'name="budget_confirmed"' in item  # fill it in right there
    assert "Save and move to Qualification" in item
    assert "Force" not in item  # partners never force


def test_filling_in_the_missing_fields_moves_in_one_post(
    world, stages, deal, client_for, in_tenant
):
    target = stage(stages, "Qualification")

    response = client_for(world.partner_rep).post(
        page_url("partner", "opportunity_move", deal), {"stage": target.pk, **QUALIFIED}
    )

    assert messages_of(response) == ["Saved and moved to Qualification."]
    assert state(world, in_tenant, deal)[:5] == (target.pk, "open", True, "Quotes", "")


def test_a_fill_in_that_is_still_short_changes_nothing(world, stages, deal, client_for, in_tenant):
    before = state(world, in_tenant, deal)

    response = client_for(world.partner_rep).post(
        page_url("partner", "opportunity_move", deal),
        {"stage": stage(stages, "Qualification").pk, "budget_confirmed": "on", "need": "Quotes"},
    )

    assert messages_of(response) == [
        "Complete the qualification before leaving Identification: "
        "Decision maker identified, Timeline known."
    ]
    assert state(world, in_tenant, deal) == before


def test_closing_won_shows_what_it_needs_and_fills_it_in(
    world, stages, deal, client_for, in_tenant
):
    client = client_for(world.partner_rep)
    html = client.get(page_url("partner", "opportunity_detail", deal)).content.decode()
    assert "Needs: Budget confirmed, Decision maker identified" in html
    assert "Save and close as won" in html

    response = client.post(
        page_url("partner", "opportunity_close_won", deal),
        {
            **QUALIFIED,
            "next_step": "Sign",
            "expected_close_date": timezone.localdate().isoformat(),
            "decision_maker_name": "Dana Ruiz",
            "amount": "1200",
            "close_date": timezone.localdate().isoformat(),
        },
    )

    assert messages_of(response) == ["Saved; the deal is closed as won."]
    assert state(world, in_tenant, deal)[1] == "won"


def test_a_close_won_with_missing_fields_is_refused_and_nothing_is_recorded(
    world, stages, deal, client_for, in_tenant
):
    before = state(world, in_tenant, deal)

    response = client_for(world.channel_manager).post(
        page_url("vendor", "opportunity_close_won", deal),
        {"amount": "1200", "close_date": timezone.localdate().isoformat()},
    )

    assert messages_of(response)[0].startswith("To close the deal as won, fill in: Budget")
    assert state(world, in_tenant, deal) == before


def test_a_vendor_admin_forces_a_move_and_the_history_shows_why(
    world, stages, deal, client_for, in_tenant
):
    client = client_for(world.vendor_admin)
    target = stage(stages, "Qualification")
    item = move_item(
        client.get(page_url("vendor", "opportunity_detail", deal)).content.decode(), target
    )
    assert "Force the move to Qualification" in item

    response = client.post(
        page_url("vendor", "opportunity_move", deal),
        {"stage": target.pk, "force": "on", "force_reason": "Qualified on the phone"},
    )

    assert messages_of(response) == ["Moved to Qualification (forced)."]
    html = client.get(page_url("vendor", "opportunity_detail", deal)).content.decode()
    assert 'data-testid="forced-move">Forced</span>' in html
    assert "Qualified on the phone" in html
    assert "(skipped: Budget confirmed, Decision maker identified" in html


def test_a_vendor_admin_forces_closing_as_won(world, stages, deal, client_for, in_tenant):
    response = client_for(world.vendor_admin).post(
        page_url("vendor", "opportunity_close_won", deal),
        {
            "amount": "1200",
            "close_date": timezone.localdate().isoformat(),
            "force": "on",
            "force_reason": "Signed on paper",
        },
    )

    assert messages_of(response) == ["The deal is closed as won (forced)."]
    with in_tenant(world.tenant):
        assert StageMove.objects.get(opportunity=deal).force_reason == "Signed on paper"


def test_forcing_without_a_reason_changes_nothing(world, stages, deal, client_for, in_tenant):
    before = state(world, in_tenant, deal)

    response = client_for(world.vendor_admin).post(
        page_url("vendor", "opportunity_move", deal),
        {"stage": stage(stages, "Qualification").pk, "force": "on", "force_reason": " "},
    )

    assert messages_of(response) == ["Why force it: Say why the move is forced."]
    assert state(world, in_tenant, deal) == before


@pytest.mark.parametrize(
    ("actor", "portal"),
    [("channel_manager", "vendor"), ("partner_admin", "partner"), ("partner_rep", "partner")],
)
@pytest.mark.parametrize("action", ["opportunity_move", "opportunity_close_won"])
def test_only_a_vendor_admin_may_force_on_the_pages(
    world, stages, deal, client_for, in_tenant, actor, portal, action
):
    before = state(world, in_tenant, deal)

    response = client_for(world.member(actor)).post(
        page_url(portal, action, deal),
        {
            "stage": stage(stages, "Qualification").pk,
            "amount": "5",
            "close_date": timezone.localdate().isoformat(),
            "force": "on",
            "force_reason": "Because",
        },
    )

    assert response.status_code == 403
    assert state(world, in_tenant, deal) == before


def test_the_channel_manager_sees_no_force_form(world, stages, deal, client_for):
    html = client_for(world.channel_manager).get(page_url("vendor", "opportunity_detail", deal))
    assert "Force" not in html.content.decode()


# --- API ----------------------------------------------------------------------------------


def api_url(deal: Opportunity, action: str) -> str:
    return f"/api/v1/opportunities/{deal.pk}/{action}/"


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("vendor_admin", 200),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 404),
        ("other_tenant_admin", 404),
    ],
)
@pytest.mark.parametrize("action", ["move-stage", "close-won"])
def test_forcing_over_the_api_role_matrix(world, stages, deal, in_tenant, actor, status, action):
    client = api_as(world, actor)  # (its token is audited: before the snapshot)
    before = state(world, in_tenant, deal)
    body = {
        "stage_id": stage(stages, "Qualification").pk,
        "force": True,
        "force_reason": "Signed on paper",
    }
    if action == "close-won":
        body = {
            "amount": "10",
            "close_date": timezone.localdate().isoformat(),
            "force": True,
            "force_reason": "Signed on paper",
        }

    response = client.post(api_url(deal, action), body, format="json")

    assert response.status_code == status
    if status == 200:
        with in_tenant(world.tenant):
            record = StageMove.objects.get(opportunity=deal)
        assert (record.forced, record.force_reason) == (True, "Signed on paper")
    else:
        assert state(world, in_tenant, deal) == before


@pytest.mark.parametrize("body", [{"force": True}, {"force": True, "force_reason": ""}])
def test_forcing_over_the_api_needs_a_reason(world, stages, deal, in_tenant, body):
    client = api_as(world, "vendor_admin")
    before = state(world, in_tenant, deal)

    response = client.post(
        api_url(deal, "move-stage"),
        {"stage_id": stage(stages, "Qualification").pk, **body},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["force_reason"]
    assert state(world, in_tenant, deal) == before


def test_a_refused_move_over_the_api_names_the_missing_fields(world, stages, deal, in_tenant):
    response = api_as(world, "partner_rep").post(
        api_url(deal, "close-won"),
        {"amount": "10", "close_date": timezone.localdate().isoformat()},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["error"]["fields"]["missing_fields"][:2] == [
        "budget_confirmed",
        "decision_maker",
    ]

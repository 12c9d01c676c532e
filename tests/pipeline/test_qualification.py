"""Qualification discipline: a forward move (skipping stages and closing as won included)
needs the entry criteria of every stage it passes; a vendor admin may force it, with a
reason that is recorded; filling in what is missing and moving is one atomic step."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.errors import PermissionDenied, ValidationFailed
from accounts.models import AuditEntry, DomainEvent
from pipeline.models import Opportunity, StageMove
from pipeline.services import opportunities as svc
from pipeline.services.criteria import move_requirements, pipeline_for
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory

QUALIFIED = {"budget_confirmed": True, "decision_maker": True, "need": "Quotes", "timeline": "Q3"}
READY_TO_WIN = {
    **QUALIFIED,
    "amount": Decimal("5000.00"),
    "next_step": "Sign",
    "expected_close_date": date(2030, 1, 1),
    "decision_maker_name": "Dana Ruiz",
}


@pytest.fixture
def deal(world: World, stages) -> Opportunity:
    return OpportunityFactory(
        tenant=world.tenant, partner=world.partner, owner=world.partner_rep.user
    )


def stage(stages, name: str):
    return next(s for s in stages if s.name == name)


def state(world, deal, in_tenant) -> tuple:
    with in_tenant(world.tenant):
        row = Opportunity.objects.get(pk=deal.pk)
        return (
            row.stage_id,
            row.status,
            row.amount,
            row.budget_confirmed,
            row.need,
            StageMove.objects.filter(opportunity=deal).count(),
            DomainEvent.objects.count(),
            AuditEntry.objects.count(),
        )


def set_fields(world, deal, in_tenant, **fields) -> None:
    with in_tenant(world.tenant):
        Opportunity.objects.filter(pk=deal.pk).update(**fields)


def close_won(world, actor, deal, in_tenant, **kwargs):
    with in_tenant(world.tenant):
        return svc.opportunity_close_won(
            tenant=world.tenant,
            actor=world.member(actor),
            opportunity_id=deal.pk,
            **{"amount": "5000", "close_date": timezone.localdate(), **kwargs},
        )


def move(world, actor, deal, target, in_tenant, **kwargs):
    with in_tenant(world.tenant):
        return svc.opportunity_move_stage(
            tenant=world.tenant,
            actor=world.member(actor),
            opportunity_id=deal.pk,
            stage_id=target.pk,
            **kwargs,
        )


def test_close_won_from_the_first_stage_needs_every_stage_it_passes(
    world, stages, deal, in_tenant, django_capture_on_commit_callbacks, sent_tasks
):
    before = state(world, deal, in_tenant)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(svc.TransitionRefused) as refused,
    ):
        close_won(world, "channel_manager", deal, in_tenant)

    assert refused.value.message == (
        "To close the deal as won, fill in: Budget confirmed, Decision maker identified, "
        "Need described, Timeline known, Next step, Expected close date, "
        "Decision maker's name."
    )
    assert refused.value.fields["missing_fields"] == [
        "budget_confirmed",
        "decision_maker",
        "need",
        "timeline",
        "next_step",
        "expected_close_date",
        "decision_maker_name",
    ]
    assert state(world, deal, in_tenant) == before  # no move, no outbox event, no audit
    assert sent_tasks == []


def test_close_won_from_qualification_needs_the_later_stages(world, stages, deal, in_tenant):
    set_fields(world, deal, in_tenant, **QUALIFIED)
    move(world, "partner_rep", deal, stage(stages, "Qualification"), in_tenant)

    with pytest.raises(svc.TransitionRefused) as refused:
        close_won(world, "partner_rep", deal, in_tenant)

    assert refused.value.fields["missing"] == [
        "Next step",
        "Expected close date",
        "Decision maker's name",
    ]


def test_a_deal_that_meets_every_stage_closes_won(world, stages, deal, in_tenant):
    set_fields(world, deal, in_tenant, **READY_TO_WIN)

    won = close_won(world, "partner_rep", deal, in_tenant, amount="7000")

    assert (won.status, won.amount) == ("won", Decimal("7000.00"))
    with in_tenant(world.tenant):
        assert DomainEvent.objects.filter(name="opportunity.won").count() == 1
        assert StageMove.objects.get(opportunity=deal).forced is False


def test_skipping_stages_needs_the_criteria_of_the_stages_skipped(world, stages, deal, in_tenant):
    set_fields(world, deal, in_tenant, **QUALIFIED, expected_close_date=date(2030, 1, 1))
    before = state(world, deal, in_tenant)

    with pytest.raises(svc.TransitionRefused) as refused:
        move(world, "partner_rep", deal, stage(stages, "Proposal / Evaluation"), in_tenant)

    # Solution Development (skipped) needs a next step; Proposal an amount.
    assert refused.value.message == "To enter Proposal / Evaluation, fill in: Amount, Next step."
    assert state(world, deal, in_tenant) == before


def test_one_function_answers_what_a_move_needs(world, stages, deal, in_tenant):
    set_fields(world, deal, in_tenant, budget_confirmed=True, amount=Decimal(10))
    with in_tenant(world.tenant):
        loaded = Opportunity.objects.select_related("stage").get(pk=deal.pk)
        pipeline = pipeline_for(world.tenant)
        back = move_requirements(loaded, stage(stages, "Identification"), pipeline)
        forward = move_requirements(loaded, stage(stages, "Negotiation / Closing"), pipeline)
    assert back.missing == []
    assert forward.needed == [
        "budget_confirmed",
        "decision_maker",
        "need",
        "timeline",
        "amount",
        "next_step",
        "expected_close_date",
        "decision_maker_name",
    ]
    assert forward.missing == forward.needed[1:4] + forward.needed[5:]


# --- Forcing ------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["channel_manager", "partner_admin", "partner_rep"])
def test_only_a_vendor_admin_may_force(world, stages, deal, in_tenant, actor):
    before = state(world, deal, in_tenant)

    with pytest.raises(PermissionDenied):
        close_won(world, actor, deal, in_tenant, force=True, force_reason="Signed on paper")
    with pytest.raises(PermissionDenied):
        move(
            world,
            actor,
            deal,
            stage(stages, "Qualification"),
            in_tenant,
            force=True,
            force_reason="x",
        )

    assert state(world, deal, in_tenant) == before


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_forcing_needs_a_reason(world, stages, deal, in_tenant, reason):
    before = state(world, deal, in_tenant)

    with pytest.raises(ValidationFailed) as refused:
        close_won(world, "vendor_admin", deal, in_tenant, force=True, force_reason=reason)

    assert list(refused.value.fields) == ["force_reason"]
    assert state(world, deal, in_tenant) == before


def test_a_forced_close_is_recorded_with_its_reason(world, stages, deal, in_tenant):
    won = close_won(
        world, "vendor_admin", deal, in_tenant, force=True, force_reason="Signed on paper"
    )

    assert won.status == "won"
    with in_tenant(world.tenant):
        record = StageMove.objects.get(opportunity=deal)
        assert (record.forced, record.force_reason, record.skipped_criteria) == (
            True,
            "Signed on paper",
            [
                "budget_confirmed",
                "decision_maker",
                "need",
                "timeline",
                "next_step",
                "expected_close_date",
                "decision_maker_name",
            ],
        )
        audit = AuditEntry.objects.get(verb="opportunity_won_forced")
        assert audit.after["force_reason"] == "Signed on paper"
        assert audit.after["skipped"][:2] == ["Budget confirmed", "Decision maker identified"]


def test_a_forced_move_is_recorded_and_an_unneeded_force_is_a_plain_move(
    world, stages, deal, in_tenant
):
    move(
        world,
        "vendor_admin",
        deal,
        stage(stages, "Qualification"),
        in_tenant,
        force=True,
        force_reason="Qualified by phone",
    )
    set_fields(world, deal, in_tenant, **QUALIFIED)
    move(
        world,
        "vendor_admin",
        deal,
        stage(stages, "Identification"),
        in_tenant,
        force=True,
        force_reason="Back",
    )
    with in_tenant(world.tenant):
        first, second = StageMove.objects.filter(opportunity=deal).order_by("id")
        assert (first.forced, first.force_reason) == (True, "Qualified by phone")
        assert (second.forced, second.force_reason) == (False, "")
        assert AuditEntry.objects.filter(verb="opportunity_stage_forced").count() == 1


def test_forcing_never_skips_the_amount_and_close_date(world, stages, deal, in_tenant):
    with pytest.raises(svc.TransitionRefused) as refused:
        close_won(
            world,
            "vendor_admin",
            deal,
            in_tenant,
            amount=None,
            close_date=None,
            force=True,
            force_reason="Paper",
        )
    assert refused.value.fields["missing"] == ["Amount", "Close date"]


# --- Fill in and move ---------------------------------------------------------------------


def test_filling_in_and_moving_is_one_step(world, stages, deal, in_tenant):
    with in_tenant(world.tenant):
        moved = svc.opportunity_fill_and_move(
            tenant=world.tenant,
            actor=world.partner_rep,
            opportunity_id=deal.pk,
            stage_id=stage(stages, "Qualification").pk,
            changes=QUALIFIED,
        )
    assert (moved.stage.name, moved.budget_confirmed, moved.need) == (
        "Qualification",
        True,
        "Quotes",
    )


def test_a_refused_fill_and_move_changes_nothing(world, stages, deal, in_tenant):
    before = state(world, deal, in_tenant)

    with in_tenant(world.tenant), pytest.raises(svc.TransitionRefused):
        svc.opportunity_fill_and_move(
            tenant=world.tenant,
            actor=world.partner_rep,
            opportunity_id=deal.pk,
            stage_id=stage(stages, "Qualification").pk,
            changes={"budget_confirmed": True, "need": "Quotes"},
        )

    assert state(world, deal, in_tenant) == before


def test_filling_in_and_closing_won_is_one_step(world, stages, deal, in_tenant):
    fields = {k: v for k, v in READY_TO_WIN.items() if k != "amount"}
    with in_tenant(world.tenant):
        won = svc.opportunity_fill_and_close_won(
            tenant=world.tenant,
            actor=world.partner_rep,
            opportunity_id=deal.pk,
            changes=fields,
            amount="900",
            close_date=timezone.localdate() - timedelta(days=1),
        )
    assert (won.status, won.amount, won.decision_maker_name) == (
        "won",
        Decimal("900.00"),
        "Dana Ruiz",
    )

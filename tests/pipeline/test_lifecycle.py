"""Every allowed and refused move of an opportunity, with the message a person reads."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.errors import NotFound, PermissionDenied, ValidationFailed
from accounts.models import AuditEntry, DomainEvent
from pipeline.models import Opportunity, StageMove
from pipeline.services import opportunities as svc
from pipeline.services.stages import pipeline_rules_update
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory

QUALIFIED = {
    "budget_confirmed": True,
    "decision_maker": True,
    "need": "Faster quoting",
    "timeline": "This quarter",
}


@pytest.fixture
def deal(world: World, stages) -> Opportunity:
    return OpportunityFactory(
        tenant=world.tenant, partner=world.partner, owner=world.partner_rep.user
    )


def stage(stages, name: str):
    return next(s for s in stages if s.name == name)


def move(world, actor, deal, target, in_tenant, note=""):
    with in_tenant(world.tenant):
        return svc.opportunity_move_stage(
            tenant=world.tenant,
            actor=world.member(actor),
            opportunity_id=deal.pk,
            stage_id=target.pk,
            note=note,
        )


def edit(world, deal, in_tenant, **changes):
    with in_tenant(world.tenant):
        return svc.opportunity_update(
            tenant=world.tenant, actor=world.partner_rep, opportunity_id=deal.pk, **changes
        )


def reload(world, deal, in_tenant) -> Opportunity:
    with in_tenant(world.tenant):
        return Opportunity.objects.select_related("stage").get(pk=deal.pk)


def test_leaving_the_first_stage_needs_the_qualification(world, stages, deal, in_tenant):
    edit(world, deal, in_tenant, budget_confirmed=True, need="Faster quoting")
    with pytest.raises(svc.TransitionRefused) as refused:
        move(world, "partner_rep", deal, stage(stages, "Qualification"), in_tenant)
    assert refused.value.message == (
        "Complete the qualification before leaving Identification: "
        "Decision maker identified, Timeline known."
    )
    assert refused.value.fields == {
        "missing": ["Decision maker identified", "Timeline known"],
        "missing_fields": ["decision_maker", "timeline"],
    }
    assert reload(world, deal, in_tenant).stage.name == "Identification"
    with in_tenant(world.tenant):
        assert StageMove.objects.filter(opportunity=deal).count() == 0


def test_a_qualified_deal_moves_and_the_move_is_recorded(world, stages, deal, in_tenant):
    edit(world, deal, in_tenant, **QUALIFIED)
    move(world, "partner_rep", deal, stage(stages, "Qualification"), in_tenant, note="Call done")
    moved = reload(world, deal, in_tenant)
    assert (moved.stage.name, moved.status) == ("Qualification", "open")
    with in_tenant(world.tenant):
        record = StageMove.objects.get(opportunity=deal)
        assert (record.from_stage.name, record.to_stage.name, record.actor, record.note) == (
            "Identification",
            "Qualification",
            world.partner_rep.user,
            "Call done",
        )
        assert DomainEvent.objects.filter(name="opportunity.stage_changed").count() == 1
        assert AuditEntry.objects.filter(verb="opportunity_stage_changed").count() == 1


def test_entry_criteria_of_the_target_stage_are_named(world, stages, deal, in_tenant):
    edit(world, deal, in_tenant, **QUALIFIED)
    with pytest.raises(svc.TransitionRefused) as refused:
        move(world, "partner_rep", deal, stage(stages, "Solution Development"), in_tenant)
    assert refused.value.message == "To enter Solution Development, fill in: Amount, Next step."
    edit(world, deal, in_tenant, amount="12500", next_step="Demo")
    move(world, "partner_rep", deal, stage(stages, "Solution Development"), in_tenant)
    assert reload(world, deal, in_tenant).stage.name == "Solution Development"


def test_skipping_forward_follows_the_tenant_rule(world, stages, deal, in_tenant):
    edit(
        world,
        deal,
        in_tenant,
        **QUALIFIED,
        amount="100",
        next_step="Demo",
        expected_close_date=date(2030, 1, 1),
    )
    with in_tenant(world.tenant):
        pipeline_rules_update(
            tenant=world.tenant,
            actor=world.vendor_admin,
            allow_skip_forward=False,
            allow_backward=True,
        )
    with pytest.raises(
        svc.TransitionRefused, match="one stage at a time: the next stage is Qualification"
    ):
        move(world, "partner_rep", deal, stage(stages, "Proposal / Evaluation"), in_tenant)
    with in_tenant(world.tenant):
        pipeline_rules_update(
            tenant=world.tenant,
            actor=world.vendor_admin,
            allow_skip_forward=True,
            allow_backward=True,
        )
    move(world, "partner_rep", deal, stage(stages, "Proposal / Evaluation"), in_tenant)
    assert reload(world, deal, in_tenant).stage.name == "Proposal / Evaluation"


def test_moving_backward_follows_the_tenant_rule(world, stages, deal, in_tenant):
    edit(world, deal, in_tenant, **QUALIFIED)
    move(world, "partner_rep", deal, stage(stages, "Qualification"), in_tenant)
    with in_tenant(world.tenant):
        pipeline_rules_update(
            tenant=world.tenant,
            actor=world.vendor_admin,
            allow_skip_forward=True,
            allow_backward=False,
        )
    with pytest.raises(svc.TransitionRefused, match="cannot move back"):
        move(world, "partner_rep", deal, stage(stages, "Identification"), in_tenant)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("Identification", "already in Identification"),
        ("Closed Won", "close won"),
    ],
)
def test_pointless_moves_are_refused(world, stages, deal, in_tenant, target, message):
    with pytest.raises(svc.TransitionRefused, match=message):
        move(world, "partner_rep", deal, stage(stages, target), in_tenant)


def test_closing_won_needs_amount_and_close_date(world, stages, deal, in_tenant):
    edit(
        world,
        deal,
        in_tenant,
        **QUALIFIED,
        next_step="Sign",
        expected_close_date=date(2030, 1, 1),
        decision_maker_name="Dana Ruiz",
    )
    with in_tenant(world.tenant):
        with pytest.raises(svc.TransitionRefused) as refused:
            svc.opportunity_close_won(
                tenant=world.tenant, actor=world.channel_manager, opportunity_id=deal.pk
            )
        assert refused.value.fields == {"missing": ["Amount", "Close date"]}
        won = svc.opportunity_close_won(
            tenant=world.tenant,
            actor=world.channel_manager,
            opportunity_id=deal.pk,
            amount="25000.50",
            close_date=timezone.localdate(),
        )
    assert (won.status, won.stage.name, won.amount) == ("won", "Closed Won", Decimal("25000.50"))
    with in_tenant(world.tenant):
        assert DomainEvent.objects.get(name="opportunity.won").payload["amount"] == "25000.50"


def test_a_future_close_date_is_refused(world, stages, deal, in_tenant):
    with in_tenant(world.tenant), pytest.raises(ValidationFailed):
        svc.opportunity_close_won(
            tenant=world.tenant,
            actor=world.partner_rep,
            opportunity_id=deal.pk,
            amount="1",
            close_date=timezone.localdate() + timedelta(days=1),
        )


def test_closing_lost_needs_a_reason(world, stages, deal, in_tenant):
    with in_tenant(world.tenant):
        with pytest.raises(svc.TransitionRefused, match="choose a lost reason"):
            svc.opportunity_close_lost(
                tenant=world.tenant,
                actor=world.partner_rep,
                opportunity_id=deal.pk,
                reason_code="nope",
            )
        lost = svc.opportunity_close_lost(
            tenant=world.tenant,
            actor=world.partner_rep,
            opportunity_id=deal.pk,
            reason_code="price",
            note="Too expensive",
        )
    assert (lost.status, lost.stage.name, lost.lost_reason.code) == ("lost", "Closed Lost", "price")


def test_only_vendor_roles_reopen_and_the_deal_returns_to_its_stage(world, stages, deal, in_tenant):
    edit(world, deal, in_tenant, **QUALIFIED)
    move(world, "partner_rep", deal, stage(stages, "Qualification"), in_tenant)
    with in_tenant(world.tenant):
        svc.opportunity_close_lost(
            tenant=world.tenant,
            actor=world.partner_rep,
            opportunity_id=deal.pk,
            reason_code="timing",
        )
        with pytest.raises(PermissionDenied):
            svc.opportunity_reopen(
                tenant=world.tenant, actor=world.partner_admin, opportunity_id=deal.pk
            )
        reopened = svc.opportunity_reopen(
            tenant=world.tenant, actor=world.channel_manager, opportunity_id=deal.pk
        )
    assert (reopened.status, reopened.stage.name, reopened.lost_reason) == (
        "open",
        "Qualification",
        None,
    )


def test_a_closed_deal_refuses_moves_and_edits(world, stages, deal, in_tenant):
    with in_tenant(world.tenant):
        svc.opportunity_close_lost(
            tenant=world.tenant,
            actor=world.partner_rep,
            opportunity_id=deal.pk,
            reason_code="price",
        )
    with pytest.raises(svc.TransitionRefused, match="reopen it first"):
        move(world, "partner_rep", deal, stage(stages, "Qualification"), in_tenant)
    with pytest.raises(svc.TransitionRefused, match="reopen it first"):
        edit(world, deal, in_tenant, name="Renamed")


def test_stage_and_status_cannot_be_assigned(world, stages, deal, in_tenant):
    loaded = reload(world, deal, in_tenant)
    with pytest.raises(AttributeError, match="Direct stage modification"):
        loaded.stage = stage(stages, "Negotiation / Closing")
    with pytest.raises(AttributeError, match="Direct status modification"):
        loaded.status = "won"
    with pytest.raises(ValidationFailed, match="only through the lifecycle"):
        edit(world, deal, in_tenant, stage_id=stages[3].pk)


@pytest.mark.parametrize(
    "actor", ["other_partner_admin", "other_partner_rep", "other_tenant_admin"]
)
def test_others_cannot_touch_the_deal(world, stages, deal, in_tenant, actor):
    member = world.member(actor)
    with in_tenant(member.tenant), pytest.raises(NotFound):
        svc.opportunity_move_stage(
            tenant=member.tenant, actor=member, opportunity_id=deal.pk, stage_id=stages[1].pk
        )
    assert reload(world, deal, in_tenant).stage.name == "Identification"


def test_a_partner_rep_sees_only_their_own_deals(world, stages, deal, in_tenant):
    colleague = OpportunityFactory(
        tenant=world.tenant, partner=world.partner, owner=world.partner_admin.user
    )
    with in_tenant(world.tenant):
        rep_sees = set(
            Opportunity.objects.visible_to(world.partner_rep).values_list("pk", flat=True)
        )
        admin_sees = set(
            Opportunity.objects.visible_to(world.partner_admin).values_list("pk", flat=True)
        )
    assert rep_sees == {deal.pk}
    assert admin_sees == {deal.pk, colleague.pk}


def test_a_later_close_date_counts_as_a_slip(world, stages, deal, in_tenant):
    edit(world, deal, in_tenant, expected_close_date=date(2030, 1, 1))
    edit(world, deal, in_tenant, expected_close_date=date(2030, 2, 1))
    edit(world, deal, in_tenant, expected_close_date=date(2029, 12, 1))
    assert reload(world, deal, in_tenant).close_date_slips == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"amount": "1e13"}, "amount"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"owner_id": 3}, "owner_id"),
    ],
)
def test_bad_edits_change_nothing(world, stages, deal, in_tenant, changes, field):
    with pytest.raises(ValidationFailed) as refused:
        edit(world, deal, in_tenant, **changes)
    assert field in refused.value.fields
    assert reload(world, deal, in_tenant).name == deal.name


def test_aging_comes_from_the_history(world, stages, deal, in_tenant):
    from datetime import timedelta as td

    from pipeline.selectors import history_with_aging

    edit(world, deal, in_tenant, **QUALIFIED)
    move(world, "partner_rep", deal, stage(stages, "Qualification"), in_tenant)
    move(world, "partner_rep", deal, stage(stages, "Identification"), in_tenant)
    with in_tenant(world.tenant):
        moves = list(StageMove.objects.filter(opportunity=deal).order_by("created_at", "id"))
    moves[0].created_at = moves[1].created_at - td(days=3)
    rows = history_with_aging(moves, now=moves[1].created_at + td(hours=36))
    assert [(r.move.to_stage.name, r.days_in_stage) for r in rows] == [
        ("Qualification", 3.0),
        ("Identification", 1.5),
    ]
    assert history_with_aging([]) == []

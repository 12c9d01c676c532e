"""The lifecycle of an opportunity: move, close won/lost, reopen, and fill in what a move
needs then move (one step).

Each transition: lock the row in the actor's scope, check the rules and name exactly what
is missing (pipeline/services/criteria.py), transition (fields only), save, record the
StageMove, audit, and record a domain event for the apps above (commissions, deals).
A vendor admin may force a move past missing criteria, with a reason that is recorded.
Creating and editing a deal's fields live in opportunity_edits.py (re-exported here).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.errors import PermissionDenied, ValidationFailed
from accounts.models import Membership, Role, Tenant, User
from accounts.services.audit import audit_record, snapshot
from accounts.services.events import event_record
from pipeline.deal_rules import money_clean
from pipeline.models import LostReason, Opportunity, Stage, StageMove
from pipeline.services.criteria import (
    Requirements,
    TransitionRefused,
    missing_refusal,
    move_refusal,
    move_requirements,
    pipeline_for,
    refuse,
)
from pipeline.services.history import history_record, history_state
from pipeline.services.opportunity_edits import (
    AUDITED,
    lock_opportunity,
    opportunity_create,
    opportunity_create_direct,
    opportunity_set_forecast_category,
    opportunity_update,
)

__all__ = [  # what callers have always imported from here
    "TransitionRefused",
    "money_clean",
    "opportunity_create",
    "opportunity_create_direct",
    "opportunity_set_forecast_category",
    "opportunity_update",
]

FORCE_REASON_MAX = 1000
HISTORY_SOURCES = {
    "opportunity_stage_changed": "move",
    "opportunity_won": "won",
    "opportunity_lost": "lost",
    "opportunity_reopened": "reopen",
}
FORCED_VERBS = {
    "opportunity_stage_changed": "opportunity_stage_forced",
    "opportunity_won": "opportunity_won_forced",
}


def force_reason_clean(actor: Membership, force: bool, force_reason: str) -> str:
    """The reason of a forced move ("" when not forcing). Only vendor admins force."""
    if not force:
        return ""
    if actor.role != Role.VENDOR_ADMIN:
        raise PermissionDenied("Only a vendor admin can force a move past missing criteria.")
    reason = (force_reason or "").strip()
    if not reason or len(reason) > FORCE_REASON_MAX:
        raise ValidationFailed(
            "Say why the move is forced (at most 1000 characters).",
            fields={"force_reason": ["Say why the move is forced (1 to 1000 characters)."]},
        )
    return reason


def _record(
    opportunity: Opportunity,
    *,
    actor: User,
    before: dict[str, Any],
    history: dict[str, str],
    verb: str,
    from_stage: Stage,
    from_status: str,
    note: str,
    forced: Requirements | None = None,
    force_reason: str = "",
) -> None:
    """Save the moved deal, its StageMove, its field history and its audit row (a forced
    move says what it skipped and why, in both)."""
    opportunity.updated_at = timezone.now()
    opportunity.save()
    history_record(opportunity, before=history, actor=actor, source=HISTORY_SOURCES[verb])
    skipped = forced.missing if forced else []
    StageMove.objects.create(
        tenant_id=opportunity.tenant_id,
        opportunity=opportunity,
        from_stage=from_stage,
        to_stage=opportunity.stage,
        from_status=from_status,
        to_status=opportunity.status,
        actor=actor,
        note=note[:1000],
        forced=bool(skipped),
        force_reason=force_reason if skipped else "",
        skipped_criteria=skipped,
    )
    after = snapshot(opportunity, ["stage", "status", "amount"])
    if forced is not None and skipped:
        after |= {"force_reason": force_reason, "skipped": forced.missing_labels}
    audit_record(
        tenant=opportunity.tenant,
        actor=actor,
        verb=FORCED_VERBS[verb] if skipped else verb,
        subject=opportunity,
        before=before,
        after=after,
    )


def _requirements_met(
    requirements: Requirements, *, force_reason: str, action: str, leaving: Stage
) -> Requirements | None:
    """Refuse when something is missing, unless the move is forced; the forced
    requirements (to record) or None."""
    if not requirements.missing:
        return None
    if not force_reason:
        raise missing_refusal(requirements, action, leaving)
    return requirements


@transaction.atomic
def opportunity_move_stage(
    *,
    tenant: Tenant,
    actor: Membership,
    opportunity_id: int,
    stage_id: int,
    note: str = "",
    force: bool = False,
    force_reason: str = "",
) -> Opportunity:
    """Move an open deal to another open stage. What the move needs is checked over every
    stage it passes; a vendor admin may force it past missing criteria with a reason."""
    force_reason = force_reason_clean(actor, force, force_reason)
    opportunity = lock_opportunity(tenant, actor, opportunity_id)
    if opportunity.status != Opportunity.Status.OPEN:
        raise refuse(f"The deal is {opportunity.get_status_display().lower()}; reopen it first.")
    pipeline = pipeline_for(tenant)
    target = next((s for s in pipeline.stages if s.pk == stage_id), None)
    if target is None:
        raise ValidationFailed("Unknown or inactive stage.", fields={"stage_id": ["Not found."]})
    if reason := move_refusal(opportunity, target, pipeline):
        raise refuse(reason)
    forced = _requirements_met(
        move_requirements(opportunity, target, pipeline),
        force_reason=force_reason,
        action=f"enter {target.name}",
        leaving=opportunity.stage,
    )
    before, from_stage = snapshot(opportunity, ["stage", "status"]), opportunity.stage
    history = history_state(opportunity)
    opportunity.move(target)
    _record(
        opportunity,
        actor=actor.user,
        before=before,
        history=history,
        verb="opportunity_stage_changed",
        from_stage=from_stage,
        from_status=Opportunity.Status.OPEN,
        note=note,
        forced=forced,
        force_reason=force_reason,
    )
    event_record(
        tenant=tenant,
        name="opportunity.stage_changed",
        subject=opportunity,
        payload={"from_stage_id": from_stage.pk, "to_stage_id": target.pk},
    )
    return opportunity


def _close_won_inputs(
    opportunity: Opportunity, amount: Any, close_date: date | None
) -> tuple[Decimal | None, date | None]:
    amount = money_clean(amount) if amount not in (None, "") else opportunity.amount
    if close_date is not None and close_date > timezone.localdate():
        raise ValidationFailed(
            "A deal cannot close in the future.", fields={"close_date": ["Today or earlier."]}
        )
    return amount, close_date


@transaction.atomic
def opportunity_close_won(
    *,
    tenant: Tenant,
    actor: Membership,
    opportunity_id: int,
    amount: Any = None,
    close_date: date | None = None,
    note: str = "",
    force: bool = False,
    force_reason: str = "",
) -> Opportunity:
    """Close as won. It passes every stage after the deal's, so it needs their entry
    criteria and the won stage's (the amount given counts), and a close date; a vendor
    admin may force it past missing criteria (never without an amount and close date)."""
    force_reason = force_reason_clean(actor, force, force_reason)
    opportunity = lock_opportunity(tenant, actor, opportunity_id)
    if opportunity.status != Opportunity.Status.OPEN:
        raise refuse(f"The deal is already {opportunity.get_status_display().lower()}.")
    amount, close_date = _close_won_inputs(opportunity, amount, close_date)
    pipeline = pipeline_for(tenant)
    won = pipeline.closing(Stage.Kind.WON)
    requirements = move_requirements(opportunity, won, pipeline, {"amount": amount})
    if amount is None or close_date is None:
        missing = [] if force_reason else requirements.missing_labels
        missing += [
            label
            for label, value in (("Amount", amount), ("Close date", close_date))
            if value is None and label not in missing
        ]
        raise refuse(f"To close the deal as won, fill in: {', '.join(missing)}.", missing)
    forced = _requirements_met(
        requirements,
        force_reason=force_reason,
        action="close the deal as won",
        leaving=opportunity.stage,
    )
    before, from_stage = snapshot(opportunity, AUDITED), opportunity.stage
    history = history_state(opportunity)
    opportunity.close_won(won, amount, close_date)
    _record(
        opportunity,
        actor=actor.user,
        before=before,
        history=history,
        verb="opportunity_won",
        from_stage=from_stage,
        from_status=Opportunity.Status.OPEN,
        note=note,
        forced=forced,
        force_reason=force_reason,
    )
    event_record(
        tenant=tenant,
        name="opportunity.won",
        subject=opportunity,
        payload={
            "amount": str(amount),
            "close_date": close_date.isoformat(),
            "partner_id": opportunity.partner_id,
        },
    )
    return opportunity


@transaction.atomic
def opportunity_close_lost(
    *, tenant: Tenant, actor: Membership, opportunity_id: int, reason_code: str, note: str = ""
) -> Opportunity:
    opportunity = lock_opportunity(tenant, actor, opportunity_id)
    if opportunity.status != Opportunity.Status.OPEN:
        raise refuse(f"The deal is already {opportunity.get_status_display().lower()}.")
    reason = LostReason.objects.for_tenant(tenant).filter(code=reason_code, is_active=True).first()
    if reason is None:
        raise refuse("To close the deal as lost, choose a lost reason.", ["Lost reason"])
    lost = pipeline_for(tenant).closing(Stage.Kind.LOST)
    before, from_stage = snapshot(opportunity, AUDITED), opportunity.stage
    history = history_state(opportunity)
    opportunity.close_lost(lost, reason, note[:2000])
    _record(
        opportunity,
        actor=actor.user,
        before=before,
        history=history,
        verb="opportunity_lost",
        from_stage=from_stage,
        from_status=Opportunity.Status.OPEN,
        note=note,
    )
    event_record(
        tenant=tenant,
        name="opportunity.lost",
        subject=opportunity,
        payload={"reason_code": reason.code, "partner_id": opportunity.partner_id},
    )
    return opportunity


@transaction.atomic
def opportunity_reopen(
    *, tenant: Tenant, actor: Membership, opportunity_id: int, note: str = ""
) -> Opportunity:
    """Back to the open stage it was closed from (vendor roles only)."""
    if not actor.is_vendor:
        raise PermissionDenied("Only the vendor's people can reopen a closed deal.")
    opportunity = lock_opportunity(tenant, actor, opportunity_id)
    if opportunity.status == Opportunity.Status.OPEN:
        raise refuse("The deal is already open.")
    pipeline = pipeline_for(tenant)
    last_open = (
        StageMove.objects.filter(opportunity=opportunity, to_status__in=["won", "lost"])
        .order_by("-created_at", "-id")
        .values_list("from_stage_id", flat=True)
        .first()
    )
    target = next((s for s in pipeline.open_stages if s.pk == last_open), pipeline.open_stages[-1])
    before, from_stage, from_status = (
        snapshot(opportunity, AUDITED),
        opportunity.stage,
        opportunity.status,
    )
    history = history_state(opportunity)
    opportunity.reopen(target)
    _record(
        opportunity,
        actor=actor.user,
        before=before,
        history=history,
        verb="opportunity_reopened",
        from_stage=from_stage,
        from_status=from_status,
        note=note,
    )
    event_record(
        tenant=tenant,
        name="opportunity.reopened",
        subject=opportunity,
        payload={"from_status": from_status, "partner_id": opportunity.partner_id},
    )
    return opportunity


@transaction.atomic
def opportunity_fill_and_move(
    *,
    tenant: Tenant,
    actor: Membership,
    opportunity_id: int,
    stage_id: int,
    changes: Mapping[str, Any],
    note: str = "",
) -> Opportunity:
    """Save the fields a blocked move is missing, then move: both or neither."""
    if changes:
        opportunity_update(tenant=tenant, actor=actor, opportunity_id=opportunity_id, **changes)
    return opportunity_move_stage(
        tenant=tenant, actor=actor, opportunity_id=opportunity_id, stage_id=stage_id, note=note
    )


@transaction.atomic
def opportunity_fill_and_close_won(
    *,
    tenant: Tenant,
    actor: Membership,
    opportunity_id: int,
    changes: Mapping[str, Any],
    amount: Any = None,
    close_date: date | None = None,
    note: str = "",
) -> Opportunity:
    """Save the fields closing as won is missing, then close: both or neither."""
    if changes:
        opportunity_update(tenant=tenant, actor=actor, opportunity_id=opportunity_id, **changes)
    return opportunity_close_won(
        tenant=tenant,
        actor=actor,
        opportunity_id=opportunity_id,
        amount=amount,
        close_date=close_date,
        note=note,
    )

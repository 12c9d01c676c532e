"""Writes of opportunities: create, edit, and the lifecycle (move, close won/lost, reopen).

Each transition: lock the row in the actor's scope, check the rules and name exactly what
is missing, transition (fields only), save, record the StageMove, audit, and record a
domain event for the apps above (commissions, deals).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accounts.models import Membership, Tenant, User
from accounts.permissions import require_vendor
from accounts.services.audit import audit_record, snapshot
from accounts.services.events import event_record
from pipeline.models import (
    Customer,
    EntryCriterion,
    LostReason,
    Opportunity,
    PipelineRules,
    Stage,
    StageMove,
)

EDITABLE = {
    "name",
    "amount",
    "expected_close_date",
    "budget_confirmed",
    "decision_maker",
    "need",
    "timeline",
    "decision_maker_name",
    "next_step",
    "next_step_date",
    "competitor",
    "purchase_order_number",
}
AUDITED = sorted(EDITABLE | {"stage", "status"})
CRITERION_LABELS = dict(EntryCriterion.choices)


class TransitionRefused(Conflict):
    """A lifecycle move the rules refuse; `fields["missing"]` names what is missing."""

    code = "transition_refused"


def refuse(message: str, missing: list[str] | None = None) -> TransitionRefused:
    return TransitionRefused(message, fields={"missing": missing} if missing else {})


def criterion_met(opportunity: Opportunity, criterion: str) -> bool:
    value = getattr(opportunity, criterion)
    return bool(value.strip()) if isinstance(value, str) else value not in (None, False)


def missing_criteria(opportunity: Opportunity, stage: Stage) -> list[str]:
    return [CRITERION_LABELS[c] for c in stage.entry_criteria if not criterion_met(opportunity, c)]


QUALIFICATION = ("budget_confirmed", "decision_maker", "need", "timeline")


def missing_qualification(opportunity: Opportunity) -> list[str]:
    return [CRITERION_LABELS[c] for c in QUALIFICATION if not criterion_met(opportunity, c)]


@dataclass(frozen=True)
class Pipeline:
    """A tenant's active stages in order and its movement rules."""

    stages: list[Stage]
    rules: PipelineRules

    @property
    def open_stages(self) -> list[Stage]:
        return [s for s in self.stages if s.kind == Stage.Kind.OPEN]

    def closing(self, kind: str) -> Stage:
        return next(s for s in self.stages if s.kind == kind)

    def next_open_after(self, stage: Stage) -> Stage | None:
        return next((s for s in self.open_stages if s.position > stage.position), None)


def pipeline_for(tenant: Tenant) -> Pipeline:
    stages = list(Stage.objects.for_tenant(tenant).filter(is_active=True).order_by("position"))
    rules, _ = PipelineRules.objects.get_or_create(tenant=tenant)
    if not stages:
        raise Conflict("This tenant has no stages yet.")
    return Pipeline(stages, rules)


def move_refusal(opportunity: Opportunity, target: Stage, pipeline: Pipeline) -> str | None:
    """Why a move to `target` is refused, or None. Missing fields are listed by name."""
    current = opportunity.stage
    if target.kind != Stage.Kind.OPEN:
        return "Use “close won” or “close lost” to close a deal."
    if target.pk == current.pk:
        return f"The deal is already in {target.name}."
    if target.position < current.position and not pipeline.rules.allow_backward:
        return "Deals cannot move back to an earlier stage."
    following = pipeline.next_open_after(current)
    if (
        following is not None
        and target.position > following.position
        and not pipeline.rules.allow_skip_forward
    ):
        return f"Deals move one stage at a time: the next stage is {following.name}."
    return None


def _lock(tenant: Tenant, actor: Membership, opportunity_id: int) -> Opportunity:
    opportunity = (
        Opportunity.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("stage")
        .filter(tenant=tenant, pk=opportunity_id)
        .first()
    )
    if opportunity is None:
        raise NotFound
    return opportunity


def _record(
    opportunity: Opportunity,
    *,
    actor: User,
    before: dict[str, Any],
    verb: str,
    from_stage: Stage,
    from_status: str,
    note: str,
) -> None:
    opportunity.updated_at = timezone.now()
    opportunity.save()
    StageMove.objects.create(
        tenant_id=opportunity.tenant_id,
        opportunity=opportunity,
        from_stage=from_stage,
        to_stage=opportunity.stage,
        from_status=from_status,
        to_status=opportunity.status,
        actor=actor,
        note=note[:1000],
    )
    audit_record(
        tenant=opportunity.tenant,
        actor=actor,
        verb=verb,
        subject=opportunity,
        before=before,
        after=snapshot(opportunity, ["stage", "status", "amount"]),
    )


@transaction.atomic
def opportunity_move_stage(
    *, tenant: Tenant, actor: Membership, opportunity_id: int, stage_id: int, note: str = ""
) -> Opportunity:
    opportunity = _lock(tenant, actor, opportunity_id)
    if opportunity.status != Opportunity.Status.OPEN:
        raise refuse(f"The deal is {opportunity.get_status_display().lower()}; reopen it first.")
    pipeline = pipeline_for(tenant)
    target = next((s for s in pipeline.stages if s.pk == stage_id), None)
    if target is None:
        raise ValidationFailed("Unknown or inactive stage.", fields={"stage_id": ["Not found."]})
    if reason := move_refusal(opportunity, target, pipeline):
        raise refuse(reason)
    leaving_first = opportunity.stage_id == pipeline.open_stages[0].pk
    if leaving_first and (missing := missing_qualification(opportunity)):
        raise refuse(
            f"Complete the qualification before leaving {opportunity.stage.name}: "
            f"{', '.join(missing)}.",
            missing,
        )
    if missing := missing_criteria(opportunity, target):
        raise refuse(f"To enter {target.name}, fill in: {', '.join(missing)}.", missing)
    before, from_stage = snapshot(opportunity, ["stage", "status"]), opportunity.stage
    opportunity.move(target)
    _record(
        opportunity,
        actor=actor.user,
        before=before,
        verb="opportunity_stage_changed",
        from_stage=from_stage,
        from_status=Opportunity.Status.OPEN,
        note=note,
    )
    event_record(
        tenant=tenant,
        name="opportunity.stage_changed",
        subject=opportunity,
        payload={"from_stage_id": from_stage.pk, "to_stage_id": target.pk},
    )
    return opportunity


def money_clean(value: Any, field: str = "amount") -> Decimal:
    """A non-negative amount below a trillion, in cents; ValidationFailed otherwise."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise ValidationFailed(
            "The amount is not a number.", fields={field: ["A number."]}
        ) from error
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise ValidationFailed(
            "The amount must be between 0 and 999,999,999,999.99.",
            fields={field: ["Between 0 and 999,999,999,999.99."]},
        )
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def opportunity_close_won(
    *,
    tenant: Tenant,
    actor: Membership,
    opportunity_id: int,
    amount: Any = None,
    close_date: date | None = None,
    note: str = "",
) -> Opportunity:
    opportunity = _lock(tenant, actor, opportunity_id)
    if opportunity.status != Opportunity.Status.OPEN:
        raise refuse(f"The deal is already {opportunity.get_status_display().lower()}.")
    amount = money_clean(amount) if amount not in (None, "") else opportunity.amount
    missing = [
        label
        for label, value in (("Amount", amount), ("Close date", close_date))
        if value in (None, "")
    ]
    if missing:
        raise refuse(f"To close the deal as won, fill in: {', '.join(missing)}.", missing)
    if close_date > timezone.localdate():  # type: ignore[operator]
        raise ValidationFailed(
            "A deal cannot close in the future.", fields={"close_date": ["Today or earlier."]}
        )
    won = pipeline_for(tenant).closing(Stage.Kind.WON)
    before, from_stage = snapshot(opportunity, AUDITED), opportunity.stage
    opportunity.close_won(won, amount, close_date)
    _record(
        opportunity,
        actor=actor.user,
        before=before,
        verb="opportunity_won",
        from_stage=from_stage,
        from_status=Opportunity.Status.OPEN,
        note=note,
    )
    event_record(
        tenant=tenant,
        name="opportunity.won",
        subject=opportunity,
        payload={
            "amount": str(amount),
            "close_date": close_date.isoformat(),  # type: ignore[union-attr]
            "partner_id": opportunity.partner_id,
        },
    )
    return opportunity


@transaction.atomic
def opportunity_close_lost(
    *, tenant: Tenant, actor: Membership, opportunity_id: int, reason_code: str, note: str = ""
) -> Opportunity:
    opportunity = _lock(tenant, actor, opportunity_id)
    if opportunity.status != Opportunity.Status.OPEN:
        raise refuse(f"The deal is already {opportunity.get_status_display().lower()}.")
    reason = LostReason.objects.for_tenant(tenant).filter(code=reason_code, is_active=True).first()
    if reason is None:
        raise refuse("To close the deal as lost, choose a lost reason.", ["Lost reason"])
    lost = pipeline_for(tenant).closing(Stage.Kind.LOST)
    before, from_stage = snapshot(opportunity, AUDITED), opportunity.stage
    opportunity.close_lost(lost, reason, note[:2000])
    _record(
        opportunity,
        actor=actor.user,
        before=before,
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
    opportunity = _lock(tenant, actor, opportunity_id)
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
    opportunity.reopen(target)
    _record(
        opportunity,
        actor=actor.user,
        before=before,
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


def _clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    forbidden = set(changes) - EDITABLE
    if forbidden & {"stage", "stage_id", "status"}:
        raise ValidationFailed(
            "Stage and status change only through the lifecycle actions.",
            fields={
                f: ["Use move-stage, close-won, close-lost or reopen."]
                for f in forbidden & {"stage", "stage_id", "status"}
            },
        )
    if forbidden:
        raise ValidationFailed("Unknown fields.", fields={f: ["Unknown field."] for f in forbidden})
    cleaned = dict(changes)
    if cleaned.get("amount") not in (None, ""):
        cleaned["amount"] = money_clean(cleaned["amount"])
    elif "amount" in cleaned:
        cleaned["amount"] = None
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"]).strip()
        if not cleaned["name"] or len(cleaned["name"]) > 200:
            raise ValidationFailed(
                "A deal needs a name of at most 200 characters.",
                fields={"name": ["1 to 200 characters."]},
            )
    return cleaned


@transaction.atomic
def opportunity_update(
    *, tenant: Tenant, actor: Membership, opportunity_id: int, **changes: Any
) -> Opportunity:
    """Change non-lifecycle fields. A later expected close date counts as a slip."""
    cleaned = _clean_changes(changes)
    opportunity = _lock(tenant, actor, opportunity_id)
    if opportunity.status != Opportunity.Status.OPEN:
        raise refuse("A closed deal cannot be edited; reopen it first.")
    before = snapshot(opportunity, AUDITED)
    new_close = cleaned.get("expected_close_date")
    if (
        new_close
        and opportunity.expected_close_date
        and new_close > opportunity.expected_close_date
    ):
        opportunity.close_date_slips += 1
    for field, value in cleaned.items():
        setattr(opportunity, field, value)
    opportunity.updated_at = timezone.now()
    opportunity.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="opportunity_updated",
        subject=opportunity,
        before=before,
        after=snapshot(opportunity, AUDITED),
    )
    return opportunity


@transaction.atomic
def opportunity_create(
    *,
    tenant: Tenant,
    actor: Membership,
    customer: Customer,
    name: str,
    owner: User,
    partner_id: int | None = None,
    currency: str = "",
    **fields: Any,
) -> Opportunity:
    """A new open deal in the first stage (direct when `partner_id` is None)."""
    cleaned = _clean_changes({"name": name, **fields})
    first = pipeline_for(tenant).open_stages[0]
    opportunity = Opportunity(
        tenant=tenant,
        partner_id=partner_id,
        owner=owner,
        customer=customer,
        stage=first,
        currency=currency or tenant.currency,
        **cleaned,
    )
    opportunity.save()
    StageMove.objects.create(
        tenant=tenant,
        opportunity=opportunity,
        from_stage=None,
        to_stage=first,
        from_status="",
        to_status=opportunity.status,
        actor=actor.user,
        note="Created",
    )
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="opportunity_created",
        subject=opportunity,
        after=snapshot(opportunity, AUDITED),
    )
    event_record(
        tenant=tenant,
        name="opportunity.created",
        subject=opportunity,
        payload={"partner_id": partner_id},
    )
    return opportunity


def opportunity_create_direct(
    *,
    tenant: Tenant,
    actor: Membership,
    customer: Customer,
    name: str,
    owner: User | None = None,
    **fields: Any,
) -> Opportunity:
    """The vendor's own deal, with no partner (vendor roles)."""
    require_vendor(actor)
    if (
        owner is not None
        and not Membership.objects.for_tenant(tenant)
        .filter(user=owner, is_active=True, partner__isnull=True)
        .exists()
    ):
        raise ValidationFailed(
            "The owner must be one of the vendor's people.", fields={"owner_id": ["Not found."]}
        )
    return opportunity_create(
        tenant=tenant,
        actor=actor,
        customer=customer,
        name=name,
        owner=owner or actor.user,
        partner_id=None,
        **fields,
    )

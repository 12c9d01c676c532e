"""Reads of the pipeline: scoped opportunity lists with their staleness, one deal's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import Membership, Tenant
from pipeline.models import Activity, CoSellRequest, Opportunity, Stage, StageMove
from pipeline.services.opportunities import (
    Pipeline,
    missing_criteria,
    missing_qualification,
    move_refusal,
    pipeline_for,
)

ONE_DAY = Value(timedelta(days=1), output_field=DurationField())


def stale_after(now: datetime | None = None) -> dict[str, ExpressionWrapper | Case]:
    """Annotations: `stale_at` (when the idle limit of the stage is reached) and `stale`.

    A deal is stale when it is open and either nothing (stage change or activity) happened
    for longer than its stage's stale-after days, or its expected close date has passed.
    """
    now = now or timezone.now()
    stale_at = ExpressionWrapper(
        Greatest(F("stage_entered_at"), F("last_activity_at"))
        + F("stage__stale_after_days") * ONE_DAY,
        output_field=DateTimeField(),
    )
    return {
        "stale_at": stale_at,
        "stale": Case(
            When(
                Q(status=Opportunity.Status.OPEN)
                & (Q(stale_at__lt=now) | Q(expected_close_date__lt=timezone.localdate(now))),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        ),
    }


def opportunity_list_for(*, membership: Membership, now: datetime | None = None) -> QuerySet:
    """The deals a member may see, with what list pages show, newest first."""
    annotations = stale_after(now)
    return (
        Opportunity.objects.visible_to(membership)
        .select_related("stage", "customer", "owner", "partner", "partner__tier")
        .annotate(stale_at=annotations["stale_at"])
        .annotate(stale=annotations["stale"])
        .order_by("-id")
    )


@dataclass(frozen=True)
class HistoryRow:
    """One recorded move and how long the deal then stayed (aging, from the history)."""

    move: StageMove
    days_in_stage: float  # until the next move, or until now for the current stage


def history_with_aging(moves: list[StageMove], now: datetime | None = None) -> list[HistoryRow]:
    if not moves:
        return []
    now = now or timezone.now()
    ends = [later.created_at for later in moves[1:]] + [now]
    return [
        HistoryRow(move, round((end - move.created_at).total_seconds() / 86400, 1))
        for move, end in zip(moves, ends, strict=True)
    ]


@dataclass(frozen=True)
class MoveOption:
    stage: Stage
    allowed: bool
    reason: str  # why not, in words; empty when allowed


@dataclass(frozen=True)
class OpportunityPage:
    opportunity: Opportunity
    pipeline: Pipeline
    next_stage: Stage | None
    next_stage_missing: list[str]
    moves: list[MoveOption]
    history: list[HistoryRow]
    activities: list[Activity]
    cosell_requests: list[CoSellRequest]


def _why_not(opportunity: Opportunity, target: Stage, pipeline: Pipeline) -> str:
    if reason := move_refusal(opportunity, target, pipeline):
        return reason
    if opportunity.stage_id == pipeline.open_stages[0].pk and (
        missing := missing_qualification(opportunity)
    ):
        return f"Complete the qualification first: {', '.join(missing)}."
    if missing := missing_criteria(opportunity, target):
        return f"Fill in: {', '.join(missing)}."
    return ""


def opportunity_page(
    *, tenant: Tenant, membership: Membership, opportunity: Opportunity
) -> OpportunityPage:
    """Everything a deal's page shows, for this member (internal notes for vendors only)."""
    pipeline = pipeline_for(tenant)
    next_stage = (
        pipeline.next_open_after(opportunity.stage)
        if opportunity.status == Opportunity.Status.OPEN
        else None
    )
    moves = []
    if opportunity.status == Opportunity.Status.OPEN:
        for target in pipeline.open_stages:
            if target.pk != opportunity.stage_id:
                reason = _why_not(opportunity, target, pipeline)
                moves.append(MoveOption(target, not reason, reason))
    activities = Activity.objects.filter(opportunity=opportunity).select_related("author")
    if membership.is_partner:
        activities = activities.filter(vendor_internal=False)
    return OpportunityPage(
        opportunity=opportunity,
        pipeline=pipeline,
        next_stage=next_stage,
        next_stage_missing=missing_criteria(opportunity, next_stage) if next_stage else [],
        moves=moves,
        history=history_with_aging(
            list(
                StageMove.objects.filter(opportunity=opportunity).select_related(
                    "from_stage", "to_stage", "actor"
                )
            )
        ),
        activities=list(activities[:100]),
        cosell_requests=list(
            CoSellRequest.objects.filter(opportunity=opportunity).select_related(
                "assignee", "requested_by"
            )
        ),
    )

"""Reads of the pipeline: scoped opportunity lists with their staleness, one deal's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import Membership, Tenant
from pipeline.models import Activity, CoSellRequest, Opportunity, Stage, StageMove
from pipeline.selectors.cosell import Eligibility, cosell_eligibility, deal_cosell_requests
from pipeline.services.criteria import (
    CRITERION_LABELS,
    Pipeline,
    Requirements,
    move_refusal,
    move_requirements,
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


def with_staleness(queryset: QuerySet, now: datetime | None = None) -> QuerySet:
    """Deals annotated with `stale_at` and `stale` (see stale_after)."""
    annotations = stale_after(now)
    return queryset.annotate(stale_at=annotations["stale_at"]).annotate(stale=annotations["stale"])


def opportunity_list_for(*, membership: Membership, now: datetime | None = None) -> QuerySet:
    """The deals a member may see, with what list pages show, newest first."""
    return with_staleness(
        Opportunity.objects.visible_to(membership).select_related(
            "stage", "customer", "owner", "partner", "partner__tier"
        ),
        now,
    ).order_by("-id")


MONEY = DecimalField(max_digits=16, decimal_places=2)


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    count: int
    amount: Decimal
    weighted: Decimal  # each amount × its stage's win probability


@dataclass(frozen=True)
class PipelineTotals:
    """Count, total and weighted total of a filtered list (every row, not one page),
    per currency: amounts in different currencies are never added up."""

    count: int
    by_currency: list[CurrencyTotal]


def weighted_amount() -> ExpressionWrapper:
    return ExpressionWrapper(F("amount") * F("stage__probability") / Value(100), output_field=MONEY)


def opportunity_totals(queryset: QuerySet) -> PipelineTotals:
    """One aggregate query over the filtered rows (their order and paging do not matter)."""
    rows = (
        queryset.order_by()
        .values("currency")
        .annotate(n=Count("id"), total=Sum("amount"), weighted_total=Sum(weighted_amount()))
        .order_by("currency")
    )
    totals = [
        CurrencyTotal(
            row["currency"],
            row["n"],
            row["total"] or Decimal(0),
            (row["weighted_total"] or Decimal(0)).quantize(Decimal("0.01")),
        )
        for row in rows
    ]
    return PipelineTotals(sum(t.count for t in totals), totals)


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
    """A move the page offers: allowed, or blocked by the tenant's rules (`reason`) or by
    missing fields (`missing`, criterion codes: the person can fill them in right there)."""

    stage: Stage
    allowed: bool
    reason: str  # why not, in words; empty when allowed
    missing: tuple[str, ...] = ()

    @property
    def needs(self) -> str:
        """ "Needs: Amount, Next step" (empty when nothing is missing)."""
        if not self.missing:
            return ""
        return "Needs: " + ", ".join(CRITERION_LABELS[c] for c in self.missing) + "."

    @property
    def fillable(self) -> bool:
        """Blocked only by missing fields (filling them in makes the move possible)."""
        return bool(self.missing) and not self.reason


@dataclass(frozen=True)
class OpportunityPage:
    opportunity: Opportunity
    pipeline: Pipeline
    next_stage: Stage | None
    next_requirements: Requirements | None
    moves: list[MoveOption]
    close_won: MoveOption | None
    history: list[HistoryRow]
    activities: list[Activity]
    cosell_requests: list[CoSellRequest]
    cosell_help: list[Eligibility]

    @property
    def next_stage_missing(self) -> list[str]:
        return self.next_requirements.missing_labels if self.next_requirements else []


def move_option(opportunity: Opportunity, target: Stage, pipeline: Pipeline) -> MoveOption:
    """What the page says about a move to `target` (the services decide the same way)."""
    if target.kind == Stage.Kind.OPEN and (reason := move_refusal(opportunity, target, pipeline)):
        return MoveOption(target, False, reason)
    missing = move_requirements(opportunity, target, pipeline).missing
    return MoveOption(target, not missing, "", tuple(missing))


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
    is_open = opportunity.status == Opportunity.Status.OPEN
    moves = [
        move_option(opportunity, target, pipeline)
        for target in (pipeline.open_stages if is_open else [])
        if target.pk != opportunity.stage_id
    ]
    activities = Activity.objects.filter(opportunity=opportunity).select_related("author")
    if membership.is_partner:
        activities = activities.filter(vendor_internal=False)
    return OpportunityPage(
        opportunity=opportunity,
        pipeline=pipeline,
        next_stage=next_stage,
        next_requirements=(
            move_requirements(opportunity, next_stage, pipeline) if next_stage else None
        ),
        moves=moves,
        close_won=(
            move_option(opportunity, pipeline.closing(Stage.Kind.WON), pipeline)
            if is_open
            else None
        ),
        history=history_with_aging(
            list(
                StageMove.objects.filter(opportunity=opportunity).select_related(
                    "from_stage", "to_stage", "actor"
                )
            )
        ),
        activities=list(activities[:100]),
        cosell_requests=deal_cosell_requests(opportunity=opportunity),
        cosell_help=(
            cosell_eligibility(tenant=tenant, opportunity=opportunity)
            if is_open and opportunity.partner_id is not None
            else []
        ),
    )

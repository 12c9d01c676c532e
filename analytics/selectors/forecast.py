"""The forecast rollup of a period: every figure defined here, once.

Deals in the period: open deals whose expected close date falls in it, and deals won in
it (`closed_on`). Lost deals never count. Categories are cumulative as in Salesforce:

- closed_won = Σ amount of deals won in the period
- commit = closed_won + open deals in commit (an open deal whose stage is "closed" counts
  as commit)
- best_case = commit + open deals in best case
- pipeline = best_case + open deals in pipeline; omitted deals never count anywhere
- weighted = closed_won + Σ amount × the stage's configured probability (open, not omitted)
- calibrated_weighted = closed_won + Σ amount × calibrated probability (calibration.py)
- target: the period's target of the partner or tier the row is (of the tenant for the
  total); none for other groupings
- coverage = open pipeline / (target − closed_won), where open pipeline = pipeline −
  closed_won; none (shown as "—") without a target or when closed won already meets it
- adjustment: the sum of the channel managers' adjustments of the row's partner or tier
  (every adjustment for the total); adjusted commit = commit + adjustment. The raw
  figures are never changed.

The deals are summed per partner × stage × category: for the vendor's forecast read from
the rollup the database keeps per month (pipeline.OpportunityRollup), for a partner's own
deals in SQL over the deals (forecast_groups.py, index-only scans); Python maps those few
thousand groups to rows and folds them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from accounts.models import Tenant
from analytics.models import ForecastAdjustment, ForecastTarget, Scope
from analytics.periods import Period
from analytics.selectors.calibration import Calibration
from analytics.selectors.calibration_cache import calibration_now
from analytics.selectors.dimensions import DIMENSIONS
from analytics.selectors.forecast_groups import Group, aggregate_kept, keyed_groups
from pipeline.models import ForecastCategory, Opportunity

ZERO = Decimal("0.00")
CENTS = Decimal("0.01")
FIGURES = ("closed_won", "commit", "best_case", "pipeline", "weighted", "calibrated_weighted")
# What an open deal's effective category adds to: cumulative categories.
ADDS_TO = {
    ForecastCategory.CLOSED: ("commit", "best_case", "pipeline"),
    ForecastCategory.COMMIT: ("commit", "best_case", "pipeline"),
    ForecastCategory.BEST_CASE: ("best_case", "pipeline"),
    ForecastCategory.PIPELINE: ("pipeline",),
    ForecastCategory.OMITTED: (),
}


@dataclass
class ForecastRow:
    key: int | str | None
    label: str
    closed_won: Decimal = ZERO
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO
    weighted: Decimal = ZERO
    calibrated_weighted: Decimal = ZERO
    target: Decimal | None = None
    adjustment: Decimal | None = None

    @property
    def open_pipeline(self) -> Decimal:
        return self.pipeline - self.closed_won

    @property
    def coverage(self) -> Decimal | None:
        if self.target is None or self.target <= self.closed_won:
            return None
        return (self.open_pipeline / (self.target - self.closed_won)).quantize(CENTS)

    @property
    def adjusted_commit(self) -> Decimal:
        return self.commit + (self.adjustment or ZERO)

    def add(self, *, amount: Decimal, status: str, category: str, probability: Decimal) -> None:
        """Fold one aggregated group (a partner × stage × category sum) into the row."""
        if status == Opportunity.Status.WON:
            for name in FIGURES:
                setattr(self, name, getattr(self, name) + amount)
            return
        if category == ForecastCategory.OMITTED:
            return
        for name in ADDS_TO[ForecastCategory(category)]:
            setattr(self, name, getattr(self, name) + amount)
        self.weighted += amount * probability

    def rounded(self) -> ForecastRow:
        self.weighted = self.weighted.quantize(CENTS)
        self.calibrated_weighted = self.calibrated_weighted.quantize(CENTS)
        return self

    def figures(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIGURES}


@dataclass
class Forecast:
    period: Period
    group_by: str
    currency: str
    rows: list[ForecastRow]
    total: ForecastRow
    adjustments: list[ForecastAdjustment] = field(default_factory=list)


def _fold(row: ForecastRow, group: Group, calibration: Calibration) -> None:
    row.add(
        amount=group.amount,
        status=group.status,
        category=group.category,
        probability=calibration.configured.get(group.stage_id, Decimal(0)),
    )
    if group.status == Opportunity.Status.OPEN and group.category != "omitted":
        probability = calibration.probability(group.partner_id, group.stage_id)
        row.calibrated_weighted += group.amount * probability


def rollup(
    deals: QuerySet,
    period: Period,
    group_by: str,
    calibration: Calibration,
    total_row: ForecastRow | None = None,
    base: list[Group] | None = None,
) -> list[ForecastRow]:
    """The rows of one grouping, largest pipeline first (without targets). `total_row`, if
    given, is folded from the same aggregate (for groupings where each deal is in one row:
    every grouping but product line)."""
    none_label = DIMENSIONS[group_by].none_label
    rows: dict[Any, ForecastRow] = {}
    for key, label, group in keyed_groups(deals, period.start, period.end, group_by, base):
        if total_row is not None:
            _fold(total_row, group, calibration)
        row = rows.get(key) or rows.setdefault(key, ForecastRow(key=key, label=label or none_label))
        _fold(row, group, calibration)
    return sorted(
        (row.rounded() for row in rows.values()), key=lambda r: (-r.pipeline, r.label, str(r.key))
    )


def total(
    deals: QuerySet,
    period: Period,
    calibration: Calibration,
    label: str,
    base: list[Group] | None = None,
) -> ForecastRow:
    row = ForecastRow(key=None, label=label)
    for _, _, group in keyed_groups(deals, period.start, period.end, None, base):
        _fold(row, group, calibration)
    return row.rounded()


def targets_of(tenant: Tenant, period: Period) -> dict[tuple[str, int | None], Decimal]:
    """(scope, tier or partner id) → target; the tenant's under ("tenant", None)."""
    rows = ForecastTarget.objects.for_tenant(tenant).filter(period=period.label)
    return {
        (scope, tier_id or partner_id): amount
        for scope, tier_id, partner_id, amount in rows.values_list(
            "scope", "tier_id", "partner_id", "amount"
        )
    }


def adjustments_of(tenant: Tenant, period: Period) -> list[ForecastAdjustment]:
    return list(
        ForecastAdjustment.objects.for_tenant(tenant)
        .filter(period=period.label)
        .select_related("partner", "tier", "created_by")
    )


def _attach(
    rows: list[ForecastRow],
    scope: str,
    targets: dict[tuple[str, int | None], Decimal],
    adjustments: list[ForecastAdjustment],
) -> None:
    summed: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for adjustment in adjustments:
        if adjustment.scope == scope:
            summed[adjustment.tier_id or adjustment.partner_id] += adjustment.amount
    for row in rows:
        if isinstance(row.key, int):
            row.target = targets.get((scope, row.key))
            row.adjustment = summed.get(row.key, ZERO)


def forecast_for_tenant(*, tenant: Tenant, period: Period, group_by: str) -> Forecast:
    """The vendor's forecast: every deal of the tenant, with targets and adjustments."""
    deals = Opportunity.objects.for_tenant(tenant)
    calibration = calibration_now(tenant=tenant)
    base = aggregate_kept(tenant.pk, period.start, period.end)  # the kept rollup's groups
    if group_by == "product_line":  # a deal may be in two rows: the total needs its own sum
        rows = rollup(deals, period, group_by, calibration, base=base)
        summary = total(deals, period, calibration, "Total", base)
    else:
        summary = ForecastRow(key=None, label="Total")
        rows = rollup(deals, period, group_by, calibration, summary, base)
        summary.rounded()
    targets, adjustments = targets_of(tenant, period), adjustments_of(tenant, period)
    if group_by in (Scope.PARTNER, Scope.TIER):
        _attach(rows, group_by, targets, adjustments)
    summary.target = targets.get((Scope.TENANT, None))
    summary.adjustment = sum((a.amount for a in adjustments), ZERO)
    return Forecast(period, group_by, tenant.currency, rows, summary, adjustments)


# The short help text shown next to each figure on the pages (the definitions above).
FORMULAS = {
    "closed_won": "Σ amount of deals won in the period.",
    "commit": "Closed won + open deals in commit.",
    "best_case": "Commit + open deals in best case.",
    "pipeline": "Best case + open deals in pipeline (omitted never counts).",
    "weighted": "Closed won + Σ open amount × the stage's configured probability.",
    "calibrated_weighted": "Closed won + Σ open amount × the partner's calibrated probability.",
    "target": "The period's target of the partner or tier (the tenant's for the total).",
    "coverage": "Open pipeline ÷ (target − closed won); — without a target or once met.",
    "adjustment": "Σ channel managers' adjustments; adjusted commit = commit + adjustment.",
}

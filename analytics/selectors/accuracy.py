"""Forecast accuracy of an ended period: the commit figure of the snapshot taken in week N
of the period (week 1 = the week the period starts in) against what actually closed won.

Per partner and for the tenant's total (direct deals included):
- WAPE = |actual − forecast| / actual
- bias = (forecast − actual) / actual: above zero the forecast was too high
Across partners: WAPE = Σ|actual − forecast| / Σ actual and bias = Σ(forecast − actual) /
Σ actual. A partner with nothing won has no WAPE or bias of its own (none, "—"). A partner
without a snapshot row forecast zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from accounts.models import Tenant
from analytics.models import ForecastSnapshot
from analytics.periods import Period
from analytics.selectors.dimensions import deals_in_period
from partners.models import PartnerOrganization
from pipeline.models import Opportunity

ZERO = Decimal("0.00")
PLACES = Decimal("0.0001")


def _ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return (numerator / denominator).quantize(PLACES) if denominator else None


@dataclass
class AccuracyRow:
    label: str
    forecast: Decimal
    actual: Decimal

    @property
    def wape(self) -> Decimal | None:
        return _ratio(abs(self.actual - self.forecast), self.actual)

    @property
    def bias(self) -> Decimal | None:
        return _ratio(self.forecast - self.actual, self.actual)


@dataclass
class ForecastAccuracy:
    period: Period
    week_number: int
    week: date
    total: AccuracyRow
    partners: list[AccuracyRow]

    @property
    def partners_wape(self) -> Decimal | None:
        actual = sum((r.actual for r in self.partners), ZERO)
        return _ratio(sum((abs(r.actual - r.forecast) for r in self.partners), ZERO), actual)

    @property
    def partners_bias(self) -> Decimal | None:
        actual = sum((r.actual for r in self.partners), ZERO)
        return _ratio(sum((r.forecast - r.actual for r in self.partners), ZERO), actual)


def snapshot_week(period: Period, week_number: int) -> date:
    first = period.start - timedelta(days=period.start.weekday())
    return first + timedelta(weeks=week_number - 1)


def forecast_accuracy(
    *, tenant: Tenant, period: Period, week_number: int, today: date
) -> ForecastAccuracy | None:
    """None until the period has ended, or when week N has no snapshot."""
    if period.end > today:
        return None
    week = snapshot_week(period, week_number)
    snapshots: dict[int | None, Decimal] = {
        partner_id: commit
        for partner_id, commit in ForecastSnapshot.objects.for_tenant(tenant)
        .filter(period=period.label, week=week)
        .values_list("partner_id", "commit")
    }
    if None not in snapshots:
        return None
    won = (
        Opportunity.objects.for_tenant(tenant)
        .filter(deals_in_period(period.start, period.end), status="won")
        .values("partner_id")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    actual = {row["partner_id"]: row["amount"] or ZERO for row in won}
    ids = {key for key in (*snapshots, *actual) if key is not None}
    names = dict(
        PartnerOrganization.objects.for_tenant(tenant).filter(pk__in=ids).values_list("id", "name")
    )
    partners = sorted(
        (AccuracyRow(names.get(i, ""), snapshots.get(i, ZERO), actual.get(i, ZERO)) for i in ids),
        key=lambda row: (-row.actual, row.label),
    )
    total = AccuracyRow("Tenant total", snapshots[None], sum(actual.values(), ZERO))
    return ForecastAccuracy(period, week_number, week, total, partners)

"""The weekly forecast snapshot: per period (this fiscal quarter and the next), one row per
partner with deals or a target in it and one tenant-total row (`partner` empty), holding
the forecast's figures as they stand. Once per week: a second run in the same week stores
nothing (the unique constraint and ON CONFLICT DO NOTHING)."""

from __future__ import annotations

from datetime import date, timedelta

from accounts.models import Tenant
from analytics.models import ForecastSnapshot, Scope
from analytics.periods import Period, current_quarter
from analytics.selectors.calibration import Calibration
from analytics.selectors.calibration_cache import calibration_current
from analytics.selectors.forecast import ForecastRow, rollup, targets_of
from analytics.selectors.forecast_groups import aggregate_kept
from pipeline.models import Opportunity


def week_of(day: date) -> date:
    """The Monday of the day's week: what a snapshot is stored under."""
    return day - timedelta(days=day.weekday())


def _snapshot(
    tenant: Tenant, period: Period, week: date, row: ForecastRow, partner_id: int | None
) -> ForecastSnapshot:
    return ForecastSnapshot(
        tenant=tenant,
        period=period.label,
        week=week,
        partner_id=partner_id,
        target=row.target,
        **row.figures(),
    )


def _period_rows(
    tenant: Tenant, period: Period, week: date, calibration: Calibration
) -> list[ForecastSnapshot]:
    deals = Opportunity.objects.for_tenant(tenant)
    targets = targets_of(tenant, period)
    summary = ForecastRow(key=None, label="Total")
    base = aggregate_kept(tenant.pk, period.start, period.end)
    rows = {row.key: row for row in rollup(deals, period, "partner", calibration, summary, base)}
    for (scope, partner_id), _ in targets.items():
        if scope == Scope.PARTNER and partner_id not in rows:
            rows[partner_id] = ForecastRow(key=partner_id, label="")
    snapshots = []
    for key, row in rows.items():
        if not isinstance(key, int):
            continue  # direct deals are in the tenant total only
        row.target = targets.get((Scope.PARTNER.value, key))
        snapshots.append(_snapshot(tenant, period, week, row, key))
    summary.rounded().target = targets.get((Scope.TENANT, None))
    snapshots.append(_snapshot(tenant, period, week, summary, None))
    return snapshots


def forecast_snapshot_take(*, tenant: Tenant, today: date) -> int:
    """Store this week's snapshot of this quarter and the next; the rows written (0 when
    this week's snapshot exists already)."""
    week = week_of(today)
    quarter = current_quarter(tenant, today)
    calibration = calibration_current(tenant=tenant)
    rows = [
        snapshot
        for period in (quarter, quarter.shifted(1))
        for snapshot in _period_rows(tenant, period, week, calibration)
    ]
    before = ForecastSnapshot.objects.for_tenant(tenant).filter(week=week).count()
    ForecastSnapshot.objects.bulk_create(rows, ignore_conflicts=True)
    return ForecastSnapshot.objects.for_tenant(tenant).filter(week=week).count() - before

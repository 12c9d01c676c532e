"""Weekly snapshots (idempotent per week) and forecast accuracy (WAPE and bias)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounts.tenancy import tenant_context
from analytics.models import ForecastSnapshot
from analytics.periods import parse_period
from analytics.selectors.accuracy import AccuracyRow, forecast_accuracy
from analytics.selectors.forecast import forecast_for_tenant
from analytics.services.snapshots import forecast_snapshot_take, week_of
from analytics.tasks import forecast_snapshot
from tests.analytics.conftest import generate

pytestmark = pytest.mark.django_db
TODAY = date(2027, 1, 6)  # a Wednesday of 2027-Q1


def test_a_snapshot_per_partner_and_total_once_per_week(world):
    generated = generate(world, count=50)
    with tenant_context(world.tenant):
        written = forecast_snapshot_take(tenant=world.tenant, today=TODAY)
        again = forecast_snapshot_take(tenant=world.tenant, today=date(2027, 1, 8))
        rows = list(ForecastSnapshot.objects.filter(period="2027-Q1"))
        forecast = forecast_for_tenant(
            tenant=world.tenant, period=generated.period, group_by="partner"
        )
    assert written > 0
    assert again == 0
    assert {r.week for r in rows} == {week_of(TODAY)} == {date(2027, 1, 4)}
    total = next(r for r in rows if r.partner_id is None)
    assert total.commit == forecast.total.commit
    assert total.calibrated_weighted == forecast.total.calibrated_weighted
    by_partner = {r.partner_id: r.pipeline for r in rows if r.partner_id}
    assert by_partner == {r.key: r.pipeline for r in forecast.rows if r.key is not None}


def test_the_beat_task_snapshots_every_tenant(world):
    generate(world, count=10)
    assert forecast_snapshot() > 0
    assert forecast_snapshot() == 0


def snapshot(world, partner, commit):
    ForecastSnapshot.objects.create(
        tenant=world.tenant,
        period="2026-Q3",
        week=date(2026, 6, 29),
        partner=partner,
        closed_won=0,
        commit=Decimal(commit),
        best_case=0,
        pipeline=0,
        weighted=0,
        calibrated_weighted=0,
    )


def test_accuracy_wape_and_bias(world):
    from pipeline.services.stages import stages_install_defaults
    from tests.pipeline.factories import OpportunityFactory

    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    for partner, amount in ((world.partner, "1000"), (world.other_partner, "500")):
        deal = OpportunityFactory(tenant=world.tenant, partner=partner, amount=Decimal(amount))
        with tenant_context(world.tenant):
            type(deal).objects.filter(pk=deal.pk).update(status="won", closed_on=date(2026, 8, 1))
    with tenant_context(world.tenant):
        snapshot(world, world.partner, "800")
        snapshot(world, world.other_partner, "900")
        snapshot(world, None, "1600")
        period = parse_period("2026-Q3")
        accuracy = forecast_accuracy(
            tenant=world.tenant, period=period, week_number=1, today=date(2026, 12, 1)
        )
        unfinished = forecast_accuracy(
            tenant=world.tenant, period=period, week_number=1, today=date(2026, 9, 1)
        )
        missing = forecast_accuracy(
            tenant=world.tenant, period=period, week_number=2, today=date(2026, 12, 1)
        )
    assert unfinished is None
    assert missing is None
    rows = {row.label: row for row in accuracy.partners}
    assert rows[world.partner.name].wape == Decimal("0.2000")  # |1000 − 800| / 1000
    assert rows[world.partner.name].bias == Decimal("-0.2000")
    assert rows[world.other_partner.name].wape == Decimal("0.8000")  # |500 − 900| / 500
    assert accuracy.partners_wape == Decimal("0.4000")  # (200 + 400) / 1500
    assert accuracy.partners_bias == Decimal("0.1333")  # (−200 + 400) / 1500
    assert accuracy.total.wape == Decimal("0.0667")  # |1500 − 1600| / 1500
    assert AccuracyRow("none won", Decimal(10), Decimal(0)).wape is None

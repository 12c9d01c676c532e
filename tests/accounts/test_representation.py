"""The row writers' values are written exactly as the DRF fields of the output serializers
write them (accounts/representation.py), in any active time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone as django_timezone
from rest_framework import serializers

from accounts.representation import day, moments, money

MOMENTS = [
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
    datetime(2026, 6, 2, 3, 4, 5, 7, tzinfo=ZoneInfo("Europe/Berlin")),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-3))),
    None,
]


@pytest.mark.parametrize("zone", [None, "Europe/Berlin", "America/New_York"])
def test_moments_write_what_datetimefield_writes(zone):
    field = serializers.DateTimeField()
    if zone:
        django_timezone.activate(ZoneInfo(zone))
    try:
        moment = moments()
        for value in MOMENTS:
            assert moment(value) == (None if value is None else field.to_representation(value))
    finally:
        django_timezone.deactivate()


@pytest.mark.parametrize(
    "value", [Decimal("12500.5"), Decimal("0"), Decimal("-500.00"), Decimal("1E+2"), None]
)
def test_money_writes_what_decimalfield_writes(value):
    field = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    assert money(value) == (None if value is None else field.to_representation(value))


def test_day_writes_what_datefield_writes():
    assert day(date(2030, 3, 31)) == serializers.DateField().to_representation(date(2030, 3, 31))
    assert day(None) is None

"""How the API writes a value, for the hot lists that read rows rather than model instances.

A list page read as values (dicts straight from the database) is written by a plain
function per row instead of a serializer instance per row and field: on a page of 50
deals the serializer cost more than the query. These write each value exactly as the DRF
field of the endpoint's output serializer would; the serializers stay the documented
contract (the schema is generated from them) and tests compare both writers row by row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from django.utils import timezone

CENT = Decimal("0.01")


def money(value: Decimal | None) -> str | None:
    """DecimalField(max_digits=14, decimal_places=2): "1200.50"."""
    return None if value is None else f"{value.quantize(CENT):f}"


def day(value: date | None) -> str | None:
    """DateField: ISO 8601."""
    return None if value is None else value.isoformat()


Moment = Callable[[datetime | None], str | None]


def moments() -> Moment:
    """DateTimeField: ISO 8601 in the current time zone, UTC written as `Z` (the writer is
    bound to the zone once per page: looking the zone up costs more than writing a value)."""
    zone = timezone.get_current_timezone()
    if getattr(zone, "key", None) == "UTC":  # the database's own zone: nothing to convert
        return _utc_moment

    def moment(value: datetime | None) -> str | None:
        if value is None:
            return None
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return moment


def _utc_moment(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:  # not read from the database: convert as DRF would
        value = value.astimezone(UTC)
    return value.isoformat()[:-6] + "Z"

"""Forecast periods: calendar months and the quarters of a tenant's fiscal year.

A fiscal year is named by the calendar year it ends in: with a fiscal year starting in
February, FY2027 runs from 1 February 2026 to 31 January 2027 and its Q1 is
February–April 2026. Months are calendar months, labelled `2027-03`; quarters are
labelled `2027-Q1`. Every period is half-open: `start <= day < end`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone

from accounts.errors import ValidationFailed

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: str  # "month" or "quarter"
    label: str
    start: date
    end: date  # exclusive
    fiscal_start_month: int = 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end.toordinal() - 1)

    def shifted(self, steps: int) -> Period:
        """The period `steps` periods later (earlier when negative), of the same kind."""
        months = 3 if self.kind == "quarter" else 1
        start = _add_months(self.start, steps * months)
        if self.kind == "month":
            return month_of(start)
        return quarter_of(start, self.fiscal_start_month)

    def months(self) -> list[Period]:
        """The calendar months the period covers, in order."""
        if self.kind == "month":
            return [self]
        return [month_of(_add_months(self.start, step)) for step in range(3)]


def fiscal_year_of(day: date, fiscal_start_month: int = 1) -> int:
    """The fiscal year `day` falls in, named by the calendar year the fiscal year ends in."""
    if fiscal_start_month == 1 or day.month < fiscal_start_month:
        return day.year
    return day.year + 1


def month_of(day: date) -> Period:
    start = date(day.year, day.month, 1)
    return Period("month", f"{start:%Y-%m}", start, _add_months(start, 1))


def quarter_of(day: date, fiscal_start_month: int = 1) -> Period:
    year = fiscal_year_of(day, fiscal_start_month)
    months_in = (day.month - fiscal_start_month) % 12
    quarter = months_in // 3 + 1
    start = _add_months(date(day.year, day.month, 1), -(months_in % 3))
    return Period("quarter", f"{year}-Q{quarter}", start, _add_months(start, 3), fiscal_start_month)


def parse_period(label: str, fiscal_start_month: int = 1) -> Period:
    """`2027-Q1` or `2027-03` → the period; a clear ValueError for anything else."""
    label = (label or "").strip().upper()
    if match := _QUARTER.match(label):
        year, quarter = int(match.group(1)), int(match.group(2))
        first_month_of_year = (
            date(year, 1, 1) if fiscal_start_month == 1 else date(year - 1, fiscal_start_month, 1)
        )
        return quarter_of(_add_months(first_month_of_year, (quarter - 1) * 3), fiscal_start_month)
    if match := _MONTH.match(label):
        return month_of(date(int(match.group(1)), int(match.group(2)), 1))
    raise ValueError(
        f"“{label[:20]}” is not a period: use a fiscal quarter such as 2027-Q1 "
        "or a month such as 2027-03."
    )


def period_of_tenant(tenant: Any, label: str, field: str = "period") -> Period:
    """The tenant's period named `label`; a ValidationFailed naming `field` otherwise."""
    try:
        return parse_period(label, tenant.fiscal_year_start_month)
    except ValueError as error:
        raise ValidationFailed(str(error), fields={field: [str(error)]}) from error


def current_quarter(tenant: Any, today: date | None = None) -> Period:
    return quarter_of(today or timezone.localdate(), tenant.fiscal_year_start_month)

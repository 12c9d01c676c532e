"""Charts for pages where people would rather look than read, drawn by the vendored
Chart.js from data the page carries as JSON (no inline script: the CSP forbids it).

Every chart comes with its data table (the same numbers, formatted the one way) and may
link a CSV export. Build one with `Chart(...)`, pass it to the template as `chart` and
`{% include "partials/chart.html" %}`; the page adds `{% block scripts %}` with
`partials/chart_scripts.html`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from accounts.numbers import format_money, format_number, format_percent

Number = int | float | Decimal | None


@dataclass
class Series:
    label: str
    values: Sequence[Number | tuple[Number, Number]]  # a pair is a floating bar (from, to)
    kind: str = ""  # "line" inside a bar chart, else the chart's kind
    color: str = ""  # one of PALETTE's names; empty picks the next


@dataclass
class Chart:
    """`kind`: bar, line or scatter-like line; `unit`: money, percent or number."""

    id: str
    title: str
    labels: Sequence[str]
    series: Sequence[Series]
    kind: str = "bar"
    unit: str = "money"
    currency: str = ""
    stacked: bool = False
    horizontal: bool = False
    csv_url: str = ""
    label_heading: str = ""  # the data table's first column heading
    summary: str = ""  # one sentence for screen readers: what the chart shows
    links: Sequence[str] = field(default_factory=tuple)  # per label: where its bar leads

    @property
    def data_id(self) -> str:
        return f"{self.id}-data"

    def spec(self) -> dict[str, Any]:
        """What static/js/prm-charts.js turns into a Chart.js configuration."""
        return {
            "kind": self.kind,
            "unit": self.unit,
            "currency": self.currency,
            "stacked": self.stacked,
            "horizontal": self.horizontal,
            "labels": list(self.labels),
            "links": list(self.links),
            "series": [
                {
                    "label": series.label,
                    "kind": series.kind,
                    "color": series.color,
                    "values": [_plain(value) for value in series.values],
                }
                for series in self.series
            ],
        }

    def formatted(self, value: Number | tuple[Number, Number]) -> str:
        if isinstance(value, tuple):
            return self.formatted(_difference(value))
        if self.unit == "percent":
            return format_percent(value)
        if self.unit == "number":
            return format_number(value)
        return format_money(value, self.currency)

    def rows(self) -> list[dict[str, Any]]:
        """The data table: one row per label, one formatted cell per series."""
        return [
            {
                "label": label,
                "link": self.links[index] if index < len(self.links) else "",
                "cells": [self.formatted(series.values[index]) for series in self.series],
            }
            for index, label in enumerate(self.labels)
        ]


def _difference(pair: tuple[Number, Number]) -> Number:
    start, end = pair
    if start is None or end is None:
        return None
    return Decimal(str(end)) - Decimal(str(start))


def _plain(value: Number | tuple[Number, Number]) -> Any:
    if isinstance(value, tuple):
        return [_plain(part) for part in value]
    if value is None:
        return None
    return float(value)

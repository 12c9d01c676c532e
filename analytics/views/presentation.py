"""What the forecast pages show beside the figures: the chart, the table's columns with
their formulas, and the CSV rows (shared by the vendor and partner pages)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounts.charts import Chart, Series
from analytics.selectors.forecast import FIGURES, FORMULAS, ForecastRow

CHART_GROUPS = 15
FIGURE_LABELS = {
    "closed_won": "Closed won",
    "commit": "Commit",
    "best_case": "Best case",
    "pipeline": "Pipeline",
    "weighted": "Weighted",
    "calibrated_weighted": "Calibrated weighted",
    "target": "Target",
    "coverage": "Coverage",
    "adjustment": "Adjustment",
}
CSV_COLUMNS = ("key", "label", *FIGURES, "target", "coverage", "adjustment")


def columns(
    names: tuple[str, ...] = (*FIGURES, "target", "coverage", "adjustment"),
) -> list[dict[str, str]]:
    return [{"name": n, "label": FIGURE_LABELS[n], "formula": FORMULAS[n]} for n in names]


def categories_chart(rows: list[ForecastRow], currency: str, heading: str, csv_url: str) -> Chart:
    shown = rows[:CHART_GROUPS]
    return Chart(
        id="forecast-categories",
        title=f"Forecast categories by {heading.lower()}"
        + (f" (the {CHART_GROUPS} largest)" if len(rows) > CHART_GROUPS else ""),
        labels=[row.label for row in shown],
        series=[
            Series(FIGURE_LABELS[name], [getattr(row, name) for row in shown])
            for name in ("closed_won", "commit", "best_case", "pipeline")
        ],
        currency=currency,
        csv_url=csv_url,
        label_heading=heading,
        summary="closed won, commit, best case and pipeline (each includes the one before)",
    )


def csv_row(row: ForecastRow) -> list[Any]:
    values: list[Any] = [row.key if row.key is not None else "", row.label]
    values += [getattr(row, name) for name in FIGURES]
    values += [row.target, row.coverage, row.adjustment]
    return [
        "" if value is None else f"{value:.2f}" if isinstance(value, Decimal) else value
        for value in values
    ]

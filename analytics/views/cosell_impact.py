"""The vendor's co-sell impact report (analytics/selectors/cosell_impact.py) and its CSV.
A malformed query (a date that is none, a window backwards, another tenant's tier) is a
400 with the form's message; nothing is computed."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path, reverse
from django.views import View

from accounts.charts import Chart, Series
from accounts.exports import csv_response
from accounts.numbers import format_money, format_number, format_percent
from accounts.portals import VendorPortalMixin
from analytics.impact_forms import CosellImpactQueryForm
from analytics.selectors.cosell_impact import (
    CAPACITY_FORMULA,
    CORRELATION_NOTE,
    FIRST_CONTACT_FORMULA,
    FRESHNESS_NOTE,
    MEASURES,
    MIN_DEALS,
    Comparison,
    Dimension,
    Impact,
    Side,
    Stratum,
    cosell_impact,
)

TEMPLATE = "analytics/vendor_cosell_impact.html"


def value_text(unit: str, value: Any, currency: str) -> str:
    if unit == "percent":
        return format_percent(value)
    if unit == "money":
        return format_money(value, currency)
    return f"{format_number(value)} days"


def side_text(comparison: Comparison, side: Side, currency: str) -> dict[str, str]:
    unit = comparison.measure.unit
    if comparison.too_few or side.interval is None:
        return {"value": "Too few deals", "interval": "", "n": format_number(side.n)}
    low = value_text(unit, side.interval.low, currency)
    high = value_text(unit, side.interval.high, currency)
    return {
        "value": value_text(unit, side.value, currency),
        "interval": f"{low} to {high}",
        "n": format_number(side.n),
    }


def stratum_rows(stratum: Stratum, currency: str) -> list[dict[str, Any]]:
    return [
        {
            "measure": c.measure,
            "too_few": c.too_few,
            "with": side_text(c, c.with_, currency),
            "without": side_text(c, c.without, currency),
        }
        for c in stratum.comparisons
    ]


def win_rate_chart(dimension: Dimension, csv_url: str) -> Chart:
    rates = [s.get("win_rate") for s in dimension.strata]
    return Chart(
        id=f"win-rate-{dimension.code.replace('_', '-')}",
        title=f"Win rate with and without co-sell engagement, by {dimension.label.lower()}",
        labels=[s.label for s in dimension.strata],
        series=[
            Series("With co-sell", [c.with_.value for c in rates]),
            Series("Without co-sell", [c.without.value for c in rates]),
        ],
        unit="percent",
        csv_url=csv_url,
        label_heading=dimension.label,
        summary=f"won ÷ closed of each {dimension.label.lower()}; empty where too few deals",
    )


class VendorCosellImpactView(VendorPortalMixin, View):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CosellImpactQueryForm(request.GET, tenant=self.tenant)
        if not form.is_valid():
            return render(request, TEMPLATE, {"form": form, "measures": MEASURES}, status=400)
        data = form.cleaned_data
        impact = cosell_impact(
            tenant=self.tenant, since=data["since"], until=data["until"], tier=data.get("tier_id")
        )
        currency = self.tenant.currency
        csv_url = f"{reverse('vendor:cosell_impact_csv')}?{form.query_string()}"
        context = {
            "form": form,
            "impact": impact,
            "measures": MEASURES,
            "min_deals": MIN_DEALS,
            "note": CORRELATION_NOTE,
            "freshness": FRESHNESS_NOTE,
            "first_contact_formula": FIRST_CONTACT_FORMULA,
            "capacity_formula": CAPACITY_FORMULA,
            "overall": stratum_rows(impact.overall, currency),
            "overall_strata": [(impact.overall, stratum_rows(impact.overall, currency))],
            "dimensions": [
                (d, [(s, stratum_rows(s, currency)) for s in d.strata]) for d in impact.dimensions
            ],
            "charts": [win_rate_chart(d, csv_url) for d in impact.dimensions if d.strata],
            "csv_url": csv_url,
            "workload_url": reverse("vendor:cosell_workload"),
        }
        return render(request, TEMPLATE, context)


CSV_HEADER = [
    "Grouping",
    "Group",
    "Measure",
    "With co-sell",
    "With: 95 % low",
    "With: 95 % high",
    "Deals with",
    "Without co-sell",
    "Without: 95 % low",
    "Without: 95 % high",
    "Deals without",
    "Too few deals",
]


def _cells(side: Side) -> list[Any]:
    interval = side.interval
    return [
        "" if side.value is None else side.value,
        "" if interval is None else interval.low,
        "" if interval is None else interval.high,
        side.n,
    ]


def impact_csv_rows(impact: Impact) -> list[list[Any]]:
    strata = [("All deals", impact.overall)] + [
        (d.label, s) for d in impact.dimensions for s in d.strata
    ]
    return [
        [grouping, stratum.label, c.measure.label, *_cells(c.with_), *_cells(c.without)]
        + ["yes" if c.too_few else "no"]
        for grouping, stratum in strata
        for c in stratum.comparisons
    ]


class VendorCosellImpactCsvView(VendorPortalMixin, View):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        form = CosellImpactQueryForm(request.GET, tenant=self.tenant)
        if not form.is_valid():
            message = next(iter(form.errors.values()))[0]
            return HttpResponse(message, status=400, content_type="text/plain")
        data = form.cleaned_data
        impact = cosell_impact(
            tenant=self.tenant, since=data["since"], until=data["until"], tier=data.get("tier_id")
        )
        name = f"cosell-impact-{impact.since.isoformat()}-{impact.until.isoformat()}.csv"
        return csv_response(name, CSV_HEADER, impact_csv_rows(impact))


vendor_urlpatterns = [
    path("analytics/cosell-impact/", VendorCosellImpactView.as_view(), name="cosell_impact"),
    path(
        "analytics/cosell-impact/export.csv",
        VendorCosellImpactCsvView.as_view(),
        name="cosell_impact_csv",
    ),
]

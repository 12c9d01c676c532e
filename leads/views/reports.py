"""The vendor's lead reports page (funnel by partner, tier and source; lead response;
fairness with the capacity-adjusted Gini) and its CSV exports. Every figure is defined in
leads/reports.py. A malformed query (a date that is none, another tenant's tier or
partner) is a 400 with the form's message; nothing is computed."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path, reverse
from django.views import View

from accounts.charts import Chart, Series
from accounts.exports import csv_response
from accounts.portals import VendorPortalMixin
from leads.report_forms import LeadReportForm
from leads.reports import (
    GINI_FORMULA,
    GROUPINGS,
    STEP_TIMES,
    STEPS,
    FairnessRow,
    FunnelRow,
    LeadReport,
    lead_report,
)
from leads.services.policy import calendar_of, routing_policy_for

CSV_TABLES = (*(name for name, _ in GROUPINGS), "fairness")
CHART_PARTNERS = 20
ROWS_SHOWN = 50


def percent(rate: float | None) -> float | None:
    """A rate (0..1) in percent, to one decimal, for the `percent` filter."""
    return None if rate is None else round(rate * 100, 1)


def hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def funnel_cells(row: FunnelRow) -> list[dict[str, Any]]:
    """Per step: its count, its rate from the step before and the median hours it took."""
    return [
        {
            "code": code,
            "count": row.counts[code],
            "rate": percent(row.rates.get(code)),
            "hours": hours(row.hours.get(code)),
        }
        for code, _ in STEPS
    ]


def funnel_chart(report: LeadReport, csv_url: str) -> Chart:
    total = report.total
    return Chart(
        id="lead-funnel",
        title="Lead funnel: offers in the period and how far they got",
        labels=[label for _, label in STEPS],
        series=[Series("Offers", [total.counts[code] for code, _ in STEPS])],
        unit="number",
        csv_url=csv_url,
        label_heading="Step",
        summary="offers made in the period, then how many reached each later step",
    )


def _busiest(rows: list[FairnessRow]) -> list[FairnessRow]:
    busiest = sorted(rows, key=lambda r: (-r.expected, r.partner_id))[:CHART_PARTNERS]
    return sorted(busiest, key=lambda r: r.label.lower())


def fairness_chart(report: LeadReport, csv_url: str) -> Chart:
    rows = _busiest(report.fairness)
    return Chart(
        id="lead-fairness",
        title=f"Share of leads against share of eligible capacity "
        f"(the {CHART_PARTNERS} partners eligible most)",
        labels=[row.label for row in rows],
        series=[
            Series("Share of leads", [percent(row.lead_share) for row in rows]),
            Series("Share of eligible capacity", [percent(row.capacity_share) for row in rows]),
        ],
        unit="percent",
        horizontal=True,
        csv_url=csv_url,
        label_heading="Partner",
        summary="each partner's share of the offers beside its share of eligible capacity",
    )


def response_chart(report: LeadReport, csv_url: str) -> Chart:
    rows = sorted(
        (row for row in report.groups["partner"] if row.response_median is not None),
        key=lambda row: -row.counts["accepted"],
    )[:CHART_PARTNERS]
    rows.sort(key=lambda row: row.label.lower())
    return Chart(
        id="lead-response",
        title=f"Business hours to accept (the {CHART_PARTNERS} partners accepting most)",
        labels=[row.label for row in rows],
        series=[
            Series("Median", [hours(row.response_median) for row in rows]),
            Series("90th percentile", [hours(row.response_p90) for row in rows]),
        ],
        unit="number",
        horizontal=True,
        csv_url=csv_url,
        label_heading="Partner",
        summary="median and 90th percentile business hours from offer to acceptance",
    )


def bad_query(request: HttpRequest, form: LeadReportForm) -> HttpResponse:
    return render(request, LeadReportView.template_name, {"form": form}, status=400)


def report_for(form: LeadReportForm, membership: Any) -> LeadReport:
    calendar = calendar_of(routing_policy_for(membership.tenant))
    return lead_report(form.report_query(calendar))


class LeadReportView(VendorPortalMixin, View):
    template_name = "leads/vendor_reports.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = LeadReportForm(request.GET, membership=self.membership)
        if not form.is_valid():
            return bad_query(request, form)
        report = report_for(form, self.membership)
        csv_base = f"{reverse('vendor:lead_reports_csv')}?{form.query_string()}"
        calendar = report.query.calendar
        context = {
            "form": form,
            "report": report,
            "steps": STEPS,
            "timed_steps": [step for step, _, _ in STEP_TIMES],
            "total_cells": funnel_cells(report.total),
            "total": report.total,
            "groups": [
                (
                    name,
                    label,
                    len(report.groups[name]),
                    [
                        (
                            row,
                            funnel_cells(row),
                            hours(row.response_median),
                            hours(row.response_p90),
                        )
                        for row in report.groups[name][:ROWS_SHOWN]
                    ],
                )
                for name, label in GROUPINGS
            ],
            "fairness": [
                (row, percent(row.lead_share), percent(row.capacity_share), ratio(row.ratio))
                for row in report.fairness[:ROWS_SHOWN]
            ],
            "fairness_count": len(report.fairness),
            "gini": ratio(report.gini),
            "gini_formula": GINI_FORMULA,
            "response_median": hours(report.total.response_median),
            "response_p90": hours(report.total.response_p90),
            "calendar": calendar,
            "working_days": ", ".join(DAY_NAMES[d] for d in calendar.working_days),
            "rows_shown": ROWS_SHOWN,
            "csv_base": csv_base,
            "charts": [
                funnel_chart(report, f"{csv_base}&table=partner"),
                fairness_chart(report, f"{csv_base}&table=fairness"),
                response_chart(report, f"{csv_base}&table=partner"),
            ],
            "without_partner": form.query_string(partner_id=""),
        }
        return render(request, self.template_name, context)


DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# --- CSV ----------------------------------------------------------------------------------------


def funnel_csv(report: LeadReport, table: str) -> tuple[list[str], list[list[Any]]]:
    header = ["Key", table.capitalize()]
    for code, label in STEPS:
        header.append(label)
        if code != "offered":
            header += [f"{label}: rate %", f"{label}: median hours"]
    header += ["Business hours to accept: median", "Business hours to accept: p90"]
    rows = []
    for row in [report.total, *report.groups[table]]:
        line: list[Any] = [row.key, row.label]
        for cell in funnel_cells(row):
            line.append(cell["count"])
            if cell["code"] != "offered":
                line += [_plain(cell["rate"]), _plain(cell["hours"])]
        line += [_plain(hours(row.response_median)), _plain(hours(row.response_p90))]
        rows.append(line)
    return header, rows


def fairness_csv(report: LeadReport) -> tuple[list[str], list[list[Any]]]:
    header = [
        "Partner ID",
        "Partner",
        "Offers",
        "Expected offers",
        "Share of leads %",
        "Share of eligible capacity %",
        "Ratio",
    ]
    rows: list[list[Any]] = [
        [
            row.partner_id,
            row.label,
            row.offers,
            f"{row.expected:.2f}",
            _plain(percent(row.lead_share)),
            _plain(percent(row.capacity_share)),
            _plain(ratio(row.ratio)),
        ]
        for row in report.fairness
    ]
    rows.append(["", "Capacity-adjusted Gini", "", "", "", "", _plain(ratio(report.gini))])
    return header, rows


def _plain(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


class LeadReportCsvView(VendorPortalMixin, View):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        form = LeadReportForm(request.GET, membership=self.membership)
        table = request.GET.get("table", "")
        if not form.is_valid():
            return HttpResponse(form.first_error()[1], status=400, content_type="text/plain")
        if table not in CSV_TABLES:
            message = f"Choose a table: {', '.join(CSV_TABLES)}."
            return HttpResponse(message, status=400, content_type="text/plain")
        report = report_for(form, self.membership)
        if table == "fairness":
            header, rows = fairness_csv(report)
        else:
            header, rows = funnel_csv(report, table)
        day = form.cleaned_data["until"].date().isoformat()
        return csv_response(f"lead-report-{table}-{day}.csv", header, rows)


urlpatterns = [
    path("leads/reports/", LeadReportView.as_view(), name="lead_reports"),
    path("leads/reports/export.csv", LeadReportCsvView.as_view(), name="lead_reports_csv"),
]

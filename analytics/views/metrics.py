"""The Metrics pages: vendor (every partner, by grouping, with flags first) and partner
(the organization's figures beside the partners' median; a rep's own deals), and their
CSV exports. A malformed query (a period that is none, another tenant's partner, a tier
that is not a number) is a 400 with the form's message; nothing is computed."""

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
from accounts.portals import PartnerPortalMixin, VendorPortalMixin
from analytics.metrics_forms import MetricsQueryForm
from analytics.selectors.flags import FLAG_REASONS, Flags, flags_for
from analytics.selectors.metrics import (
    FIGURES,
    GROUPINGS,
    MetricRow,
    Metrics,
    metrics_for_partner,
    metrics_for_tenant,
)

CSV_TABLES = ("total", *(name for name, _ in GROUPINGS), "stages", "flags")


def figure_text(unit: str, value: Any, currency: str) -> str:
    if unit == "percent":
        return format_percent(value)
    if unit == "money":
        return format_money(value, currency)
    return format_number(value)


def row_cells(row: MetricRow, currency: str) -> list[str]:
    return [figure_text(f.unit, row.values[f.code], currency) for f in FIGURES]


CHART_PARTNERS = 20  # the chart shows the partners with the most closed deals; CSV has all


def win_rate_chart(metrics: Metrics, csv_url: str) -> Chart:
    busiest = sorted(metrics.groups["partner"], key=lambda row: -row.basis["win_rate"])
    rows = sorted(
        (row for row in busiest[:CHART_PARTNERS] if row.basis["win_rate"]),
        key=lambda row: row.label.lower(),
    )
    return Chart(
        id="win-rate-by-partner",
        title=f"Win rate by partner (the {CHART_PARTNERS} with the most closed deals)",
        labels=[row.label for row in rows],
        series=[Series("Win rate", [row.values["win_rate"] for row in rows])],
        unit="percent",
        horizontal=True,
        csv_url=csv_url,
        label_heading="Partner",
        summary="won ÷ (won + lost) of each partner's deals closed in the period",
    )


def velocity_chart(metrics: Metrics, csv_url: str, *, with_median: bool = False) -> Chart:
    stages = metrics.stages
    series = [Series("Median days", [row.stage_days for row in stages])]
    if with_median:
        series.append(Series("Partners' median", [row.median_stage_days for row in stages]))
    series.append(
        Series("Stale after (days)", [row.stage.stale_after_days for row in stages], kind="line")
    )
    return Chart(
        id="stage-velocity",
        title="Median days in stage against the stage's threshold",
        labels=[row.stage.name for row in stages],
        series=series,
        unit="number",
        csv_url=csv_url,
        label_heading="Stage",
        summary="median days deals spent in each stage, and the days after which it is stale",
    )


def without_partner(form: MetricsQueryForm) -> str:
    """The page's query with the partner filter cleared (and, for the partner links, to
    append `&partner_id=`)."""
    query = form.data.copy()
    query.pop("partner_id", None)
    return query.urlencode()


GROUP_ROWS_SHOWN = 50  # per grouping on the page: the busiest; the CSV has every row


def shown_rows(rows: list[MetricRow], currency: str) -> list[tuple[MetricRow, list[str]]]:
    """The page's rows of a grouping: all when few, else the ones with the most deals open
    during the period (in name order)."""
    if len(rows) > GROUP_ROWS_SHOWN:
        busiest = sorted(rows, key=lambda row: -row.basis["push_rate"])[:GROUP_ROWS_SHOWN]
        rows = sorted(busiest, key=lambda row: row.label.lower())
    return [(row, row_cells(row, currency)) for row in rows]


def bad_query(request: HttpRequest, template: str, form: MetricsQueryForm) -> HttpResponse:
    return render(request, template, {"form": form, "figures": FIGURES}, status=400)


class VendorMetricsView(VendorPortalMixin, View):
    template_name = "analytics/vendor_metrics.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = MetricsQueryForm(request.GET, membership=self.membership)
        if not form.is_valid():
            return bad_query(request, self.template_name, form)
        period = form.cleaned_data["period"]
        metrics = metrics_for_tenant(tenant=self.tenant, period=period, filters=form.filters())
        flags = flags_for(scope=form.scope())
        csv_base = f"{reverse('vendor:metrics_csv')}?{form.query_string()}"
        currency = self.tenant.currency
        context = {
            "form": form,
            "period": period,
            "metrics": metrics,
            "flags": flags,
            "flag_reasons": FLAG_REASONS,
            "watched": flags.flagged_partners[:GROUP_ROWS_SHOWN],
            "watched_count": len(flags.flagged_partners),
            "figures": FIGURES,
            "currency": currency,
            "totals": list(zip(FIGURES, row_cells(metrics.total, currency), strict=True)),
            "groups": [
                (name, label, len(metrics.groups[name]), shown_rows(metrics.groups[name], currency))
                for name, label in GROUPINGS
            ],
            "group_rows_shown": GROUP_ROWS_SHOWN,
            "partner_filter": form.cleaned_data.get("partner_id"),
            "without_partner": without_partner(form),
            "csv_base": csv_base,
            "charts": [
                win_rate_chart(metrics, f"{csv_base}&table=partner"),
                velocity_chart(metrics, f"{csv_base}&table=stages"),
            ],
        }
        return render(request, self.template_name, context)


class PartnerMetricsView(PartnerPortalMixin, View):
    template_name = "analytics/partner_metrics.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = MetricsQueryForm(request.GET, membership=self.membership)
        if not form.is_valid():
            return bad_query(request, self.template_name, form)
        period = form.cleaned_data["period"]
        metrics = metrics_for_partner(
            membership=self.membership, period=period, filters=form.filters()
        )
        flags = flags_for(scope=form.scope(), per_partner=False)
        currency = self.tenant.currency
        medians = metrics.medians
        csv_base = f"{reverse('partner:metrics_csv')}?{form.query_string()}"
        comparison = [
            (
                figure,
                figure_text(figure.unit, metrics.total.values[figure.code], currency),
                figure_text(figure.unit, medians[figure.code], currency) if medians else None,
            )
            for figure in FIGURES
        ]
        context = {
            "form": form,
            "period": period,
            "metrics": metrics,
            "flags": flags,
            "flag_reasons": FLAG_REASONS,
            "figures": FIGURES,
            "comparison": comparison,
            "currency": currency,
            "csv_base": csv_base,
            "chart": velocity_chart(
                metrics, f"{csv_base}&table=stages", with_median=medians is not None
            ),
        }
        return render(request, self.template_name, context)


# --- CSV ----------------------------------------------------------------------------------------


def grouping_csv(metrics: Metrics, table: str, currency: str) -> tuple[list[str], list[list[Any]]]:
    header = ["Key", "Group", *(f.label for f in FIGURES)]
    rows = [metrics.total] if table == "total" else metrics.groups[table]
    return header, [[row.key, row.label, *row_cells(row, currency)] for row in rows]


def stages_csv(metrics: Metrics, with_median: bool) -> tuple[list[str], list[list[Any]]]:
    header = ["Stage", "Median days", "Stale after (days)", "Visits", "Conversion", "Entered"]
    if with_median:
        header += ["Partners' median days", "Partners' median conversion"]
    rows = []
    for row in metrics.stages:
        line = [
            row.stage.name,
            format_number(row.stage_days),
            format_number(row.stage.stale_after_days),
            row.visits,
            format_percent(row.conversion_rate),
            row.entered,
        ]
        if with_median:
            line += [
                format_number(row.median_stage_days),
                format_percent(row.median_conversion_rate),
            ]
        rows.append(line)
    return header, rows


def flags_csv(flags: Flags) -> tuple[list[str], list[list[Any]]]:
    header = ["Deal ID", "Deal", "Partner", "Stage", "Amount", "Currency", "Reasons"]
    rows = [
        [
            deal.id,
            deal.name,
            deal.partner_name,
            deal.stage_name,
            "" if deal.amount is None else f"{deal.amount:.2f}",
            deal.currency,
            "; ".join(reason.label for reason in deal.reasons),
        ]
        for deal in flags.deals
    ]
    return header, rows


def csv_table_bad(form: MetricsQueryForm, table: str, tables: tuple[str, ...]) -> str:
    if not form.is_valid():
        return next(iter(form.errors.values()))[0]
    if table not in tables:
        return f"Choose a table: {', '.join(tables)}."
    return ""


class VendorMetricsCsvView(VendorPortalMixin, View):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        form = MetricsQueryForm(request.GET, membership=self.membership)
        table = request.GET.get("table", "")
        if message := csv_table_bad(form, table, CSV_TABLES):
            return HttpResponse(message, status=400, content_type="text/plain")
        period = form.cleaned_data["period"]
        if table == "flags":
            header, rows = flags_csv(flags_for(scope=form.scope()))
        else:
            metrics = metrics_for_tenant(tenant=self.tenant, period=period, filters=form.filters())
            if table == "stages":
                header, rows = stages_csv(metrics, with_median=False)
            else:
                header, rows = grouping_csv(metrics, table, self.tenant.currency)
        return csv_response(f"metrics-{table}-{period.label}.csv", header, rows)


class PartnerMetricsCsvView(PartnerPortalMixin, View):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        form = MetricsQueryForm(request.GET, membership=self.membership)
        table = request.GET.get("table", "")
        if message := csv_table_bad(form, table, ("total", "stages")):
            return HttpResponse(message, status=400, content_type="text/plain")
        period = form.cleaned_data["period"]
        metrics = metrics_for_partner(
            membership=self.membership, period=period, filters=form.filters()
        )
        medians = metrics.medians
        if table == "stages":
            header, rows = stages_csv(metrics, with_median=medians is not None)
        else:
            currency = self.tenant.currency
            header = ["Figure", "Yours", "Partners' median"]
            rows = [
                [
                    f.label,
                    figure_text(f.unit, metrics.total.values[f.code], currency),
                    figure_text(f.unit, medians[f.code], currency) if medians else "",
                ]
                for f in FIGURES
            ]
        return csv_response(f"metrics-{table}-{period.label}.csv", header, rows)


vendor_urlpatterns = [
    path("metrics/", VendorMetricsView.as_view(), name="metrics"),
    path("metrics/export.csv", VendorMetricsCsvView.as_view(), name="metrics_csv"),
]
partner_urlpatterns = [
    path("metrics/", PartnerMetricsView.as_view(), name="metrics"),
    path("metrics/export.csv", PartnerMetricsCsvView.as_view(), name="metrics_csv"),
]

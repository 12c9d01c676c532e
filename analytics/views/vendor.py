"""Vendor portal pages of the forecast: the rollup (with adjustments), targets (form and
CSV import) and forecast quality (calibration and accuracy).

Vendor roles read; vendor admins set targets; channel managers and vendor admins record
adjustments. Every figure comes from analytics/selectors; each POST is one service call.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.generic import TemplateView

from accounts.errors import ApplicationError, NotFound, PermissionDenied
from accounts.exports import csv_response
from accounts.portals import (
    VENDOR,
    VENDOR_ADMIN,
    VendorPortalMixin,
    error_page,
    form_add_application_error,
)
from analytics.forms import (
    AdjustmentForm,
    ForecastFilterForm,
    PeriodFilterForm,
    TargetForm,
    TargetImportForm,
)
from analytics.models import ForecastTarget
from analytics.periods import Period, current_quarter, period_of_tenant
from analytics.selectors.accuracy import forecast_accuracy
from analytics.selectors.dimensions import GROUP_BY_CHOICES
from analytics.selectors.forecast import forecast_for_tenant
from analytics.selectors.quality import forecast_quality
from analytics.services.adjustments import adjustment_record
from analytics.services.targets import TargetImportRejected, target_set, targets_import
from analytics.views.presentation import CSV_COLUMNS, categories_chart, columns, csv_row
from analytics.views.quality_charts import reliability_chart


class PeriodPageMixin(VendorPortalMixin):
    """Reads `period` (and the page's other filters) from the query string; a wrong value
    is shown as a form error with a 400 and no figures."""

    filter_form_class: type = PeriodFilterForm

    def filters(self) -> tuple[Any, Period | None]:
        form = self.filter_form_class(self.request.GET or None)
        if form.is_bound and not form.is_valid():
            return form, None
        label = form.cleaned_data.get("period") if form.is_bound else ""
        if not label:
            return form, current_quarter(self.tenant)
        try:
            return form, period_of_tenant(self.tenant, label)
        except ApplicationError as error:
            form_add_application_error(form, error)
            return form, None

    def render_page(self, context: dict[str, Any], period: Period | None) -> HttpResponse:
        response = self.render_to_response(self.get_context_data(**context))  # type: ignore[attr-defined]
        if period is None:
            response.status_code = 400
        return response


# Rows the forecast table shows before "Show all" (largest pipeline first): by partner a
# big tenant has thousands (5,000 rows were ~900 KB of HTML and most of the page's time).
ROWS_SHOWN = 100


class ForecastView(PeriodPageMixin, TemplateView):
    template_name = "analytics/vendor_forecast.html"
    filter_form_class = ForecastFilterForm
    allowed_roles = VENDOR

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form, period = self.filters()
        if period is None:
            return self.render_page({"filter_form": form}, None)
        group_by = (form.cleaned_data.get("group_by") if form.is_bound else "") or "partner"
        forecast = forecast_for_tenant(tenant=self.tenant, period=period, group_by=group_by)
        if request.GET.get("format") == "csv":
            rows = [csv_row(row) for row in [*forecast.rows, forecast.total]]
            return csv_response(f"forecast-{period.label}-{group_by}.csv", CSV_COLUMNS, rows)
        heading = dict(GROUP_BY_CHOICES)[group_by]
        query = f"period={period.label}&group_by={group_by}"
        csv_url = f"{request.path}?{query}&format=csv"
        show_all = request.GET.get("rows") == "all"
        context = {
            "filter_form": form,
            "forecast": forecast,
            "shown_rows": forecast.rows if show_all else forecast.rows[:ROWS_SHOWN],
            "hidden_rows": 0 if show_all else max(len(forecast.rows) - ROWS_SHOWN, 0),
            "all_rows_url": f"{request.path}?{query}&rows=all",
            "heading": heading,
            "columns": columns(),
            "csv_url": csv_url,
            # The CSV link sits in the toolbar: inside the chart's <summary> it would nest
            # a link in a control (axe: nested-interactive).
            "chart": categories_chart(forecast.rows, forecast.currency, heading, ""),
            "previous_period": period.shifted(-1).label,
            "next_period": period.shifted(1).label,
        }
        return self.render_page(context, period)


class AdjustmentCreateView(VendorPortalMixin, TemplateView):
    """The adjustment form (its own page: a tenant's thousands of partners make a select
    too heavy to render on every forecast page) and its POST."""

    allowed_roles = VENDOR
    template_name = "analytics/vendor_adjustment_form.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        period = request.GET.get("period", "")[:40] or current_quarter(self.tenant).label
        form = AdjustmentForm(
            tenant=self.tenant, initial={"period": period, "scope": "partner"}, auto_id="adjust_%s"
        )
        return self.render_to_response(self.get_context_data(adjustment_form=form))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = AdjustmentForm(request.POST, tenant=self.tenant, auto_id="adjust_%s")
        if form.is_valid():
            try:
                adjustment = adjustment_record(
                    tenant=self.tenant, actor=self.membership, **form.service_kwargs()
                )
            except (PermissionDenied, NotFound) as error:
                return error_page(request, error)
            except ApplicationError as error:
                form_add_application_error(form, error)
            else:
                messages.success(request, "Adjustment recorded.")
                url = reverse("vendor:forecast")
                return redirect(f"{url}?period={adjustment.period}&group_by={adjustment.scope}")
        context = self.get_context_data(adjustment_form=form)
        return self.render_to_response(context, status=400)


class TargetListView(PeriodPageMixin, TemplateView):
    template_name = "analytics/vendor_targets.html"
    allowed_roles = VENDOR
    write_roles = VENDOR_ADMIN

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form, period = self.filters()
        return self.render_page(self.context(form, period), period)

    def context(self, form: Any, period: Period | None, **extra: Any) -> dict[str, Any]:
        targets = []
        if period is not None:
            targets = list(
                ForecastTarget.objects.for_tenant(self.tenant)
                .filter(period=period.label)
                .select_related("tier", "partner", "updated_by")
                .order_by("scope", "tier__name", "partner__name")
            )
        label = period.label if period else ""
        return {
            "filter_form": form,
            "period": period,
            "targets": targets,
            "target_form": extra.get("target_form")
            or TargetForm(
                tenant=self.tenant,
                initial={"period": label, "scope": "tenant"},
                auto_id="target_%s",
            ),
            "import_form": extra.get("import_form") or TargetImportForm(),
            "import_rows": extra.get("import_rows", []),
        }

    def post(self, request: HttpRequest) -> HttpResponse:
        if "file" in request.FILES or request.POST.get("action") == "import":
            return self.import_targets(request)
        form = TargetForm(request.POST, tenant=self.tenant, auto_id="target_%s")
        if form.is_valid():
            try:
                target = target_set(
                    tenant=self.tenant, actor=self.membership, **form.service_kwargs()
                )
            except ApplicationError as error:
                form_add_application_error(form, error)
            else:
                messages.success(request, "Target saved.")
                return redirect(f"{reverse('vendor:forecast_targets')}?period={target.period}")
        period = current_quarter(self.tenant)
        context = self.context(PeriodFilterForm(), period, target_form=form)
        return render(request, self.template_name, self.get_context_data(**context), status=400)

    def import_targets(self, request: HttpRequest) -> HttpResponse:
        form = TargetImportForm(request.POST, request.FILES)
        rows: list[Any] = []
        if form.is_valid():
            try:
                text = form.cleaned_data["file"].read(600 * 1024).decode("utf-8-sig")
                stored = targets_import(tenant=self.tenant, actor=self.membership, text=text)
            except UnicodeDecodeError:
                form.add_error("file", "The file is not UTF-8 text.")
            except TargetImportRejected as error:
                form.add_error(None, error.message)
                rows = error.rows
            except ApplicationError as error:
                form_add_application_error(form, error)
            else:
                messages.success(request, f"{stored} targets imported.")
                return redirect(reverse("vendor:forecast_targets"))
        period = current_quarter(self.tenant)
        context = self.context(PeriodFilterForm(), period, import_form=form, import_rows=rows)
        return render(request, self.template_name, self.get_context_data(**context), status=400)


class ForecastQualityView(PeriodPageMixin, TemplateView):
    template_name = "analytics/vendor_forecast_quality.html"
    allowed_roles = VENDOR

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        quality = forecast_quality(tenant=self.tenant)
        week = request.GET.get("week", "1")
        week_number = int(week) if week.isdigit() and 1 <= int(week) <= 13 else 1
        default = current_quarter(self.tenant).shifted(-1).label
        form = PeriodFilterForm(request.GET or {"period": default})
        form.is_valid()
        label = form.cleaned_data.get("period") or default
        try:
            period = period_of_tenant(self.tenant, label)
        except ApplicationError as error:
            form_add_application_error(form, error)
            return self.render_page({"filter_form": form, "quality": quality}, None)
        accuracy = forecast_accuracy(
            tenant=self.tenant, period=period, week_number=week_number, today=timezone.localdate()
        )
        context = {
            "filter_form": form,
            "quality": quality,
            "accuracy": accuracy,
            "accuracy_period": period,
            "week_number": week_number,
            "weeks": range(1, 14),
            "chart": reliability_chart(quality),
        }
        return self.render_page(context, period)


urlpatterns = [
    path("forecast/", ForecastView.as_view(), name="forecast"),
    path("forecast/adjustments/", AdjustmentCreateView.as_view(), name="forecast_adjust"),
    path("forecast/targets/", TargetListView.as_view(), name="forecast_targets"),
    path("forecast/quality/", ForecastQualityView.as_view(), name="forecast_quality"),
]

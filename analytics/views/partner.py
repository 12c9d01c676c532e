"""The partner portal's Forecast page: a partner admin's organization beside the tenant's
median partner (never another partner's figure, name or count); a rep's own deals."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.generic import TemplateView

from accounts.errors import ApplicationError
from accounts.portals import PartnerPortalMixin, form_add_application_error
from analytics.forms import PeriodFilterForm
from analytics.periods import current_quarter, period_of_tenant
from analytics.selectors.forecast import FIGURES
from analytics.selectors.partner_forecast import partner_forecast
from analytics.views.presentation import columns


class PartnerForecastView(PartnerPortalMixin, TemplateView):
    template_name = "analytics/partner_forecast.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = PeriodFilterForm(request.GET or None)
        label = form.cleaned_data.get("period") if form.is_bound and form.is_valid() else ""
        try:
            period = period_of_tenant(self.tenant, label) if label else current_quarter(self.tenant)
        except ApplicationError as error:
            form_add_application_error(form, error)
            context = self.get_context_data(filter_form=form)
            return self.render_to_response(context, status=400)
        forecast = partner_forecast(membership=self.membership, period=period)
        own, median = forecast.own, forecast.median
        rows = [
            {
                **column,
                "own": getattr(own, column["name"]),
                "median": getattr(median, column["name"]) if median else None,
            }
            for column in columns(FIGURES)
        ]
        context = self.get_context_data(
            filter_form=form,
            forecast=forecast,
            figure_rows=rows,
            coverage_column=columns(("target", "coverage")),
            previous_period=period.shifted(-1).label,
            next_period=period.shifted(1).label,
        )
        return self.render_to_response(context)


urlpatterns = [path("forecast/", PartnerForecastView.as_view(), name="forecast")]

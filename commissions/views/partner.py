"""Partner portal pages of commissions: what my won deals earned, one entry with its
breakdown, and the organization's statement per month or quarter (with its CSV).

A partner rep sees the entries of the deals they own; a partner admin the whole
organization's (`CommissionEntry.owner_scope_field`). The statement is the partner
admin's: a partner rep gets a 403 there. The partner always comes from the membership,
never from the request, and another partner's or tenant's entry is a 404.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Sum
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from accounts.errors import ValidationFailed
from accounts.exports import csv_response
from accounts.portals import PARTNER_ADMIN, PartnerPortalMixin, error_page
from accounts.scoping import ScopedQuerysetMixin
from commissions.models import CommissionEntry
from commissions.selectors import (
    Period,
    Statement,
    entry_list_for,
    period_current,
    period_parse,
    statement_get,
)

CSV_HEADER = (
    "entry_id",
    "created_at",
    "opportunity_id",
    "deal",
    "kind",
    "status",
    "amount",
    "currency",
    "closed_on",
    "payout_reference",
)


# --- Periods: previous, next, month <-> quarter ----------------------------------------------


def period_is_quarter(period: Period) -> bool:
    return "Q" in period.label


def period_containing(day: date, *, quarter: bool) -> Period:
    if quarter:
        return period_parse(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    return period_parse(f"{day:%Y-%m}")


def period_step(period: Period, step: int) -> Period | None:
    """The period before (-1) or after (+1), of the same kind; None past year 9999."""
    try:
        day = period.start - timedelta(days=1) if step < 0 else period.end + timedelta(days=1)
        return period_containing(day, quarter=period_is_quarter(period))
    except (OverflowError, ValidationFailed):
        return None


def period_switched(period: Period) -> Period | None:
    """A month's quarter, or a quarter's first month (None for 9999-Q4)."""
    try:
        return period_containing(period.start, quarter=not period_is_quarter(period))
    except ValidationFailed:
        return None


# --- My commissions --------------------------------------------------------------------------


class CommissionListView(PartnerPortalMixin, ListView):
    """Every entry of the deals I may see, newest first, with its breakdown."""

    template_name = "commissions/partner_commission_list.html"
    context_object_name = "entries"
    paginate_by = 25

    period_error = ""

    def get_queryset(self) -> Any:
        """`?period=2026-Q4` (or a month) narrows to entries of that period (the home's
        "earned this quarter" link); an invalid period shows nothing and says why."""
        entries = entry_list_for(membership=self.membership)
        value = self.request.GET.get("period", "").strip()
        if not value:
            return entries
        try:
            return entries.filter(period_parse(value).contains())
        except ValidationFailed as error:
            self.period_error = error.message
            return entries.none()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        net = self.object_list.aggregate(net=Sum("amount"))["net"]
        return super().get_context_data(
            net=net,
            currency=self.tenant.currency,
            period=self.request.GET.get("period", "").strip(),
            period_error=self.period_error,
            **kwargs,
        )


class CommissionDetailView(ScopedQuerysetMixin, PartnerPortalMixin, DetailView):
    model = CommissionEntry
    template_name = "commissions/partner_commission_detail.html"
    context_object_name = "entry"

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("opportunity", "payout", "owner", "reverses")


# --- The statement ---------------------------------------------------------------------------


class StatementMixin(PartnerPortalMixin):
    allowed_roles = PARTNER_ADMIN

    def requested_period(self) -> Period:
        value = self.request.GET.get("period", "")
        return period_parse(value) if value else period_current("month")

    def statement(self, period: Period) -> Statement:
        return statement_get(
            membership=self.membership,
            partner=self.membership.partner,  # type: ignore[arg-type]  # partner admins have one
            period=period,
        )


def statement_url(name: str, period: Period | None) -> str | None:
    if period is None:
        return None
    return f"{reverse(f'partner:{name}')}?{urlencode({'period': period.label})}"


class StatementView(StatementMixin, TemplateView):
    template_name = "commissions/partner_statement.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        try:
            period = self.requested_period()
        except ValidationFailed as error:
            return super().get_context_data(
                statement=None,
                period_value=self.request.GET.get("period", ""),
                period_error=error.message,
                current_url=statement_url("commission_statement", period_current("month")),
                **kwargs,
            )
        return super().get_context_data(
            statement=self.statement(period),
            period_value=period.label,
            is_quarter=period_is_quarter(period),
            previous_url=statement_url("commission_statement", period_step(period, -1)),
            next_url=statement_url("commission_statement", period_step(period, 1)),
            switch_url=statement_url("commission_statement", period_switched(period)),
            csv_url=statement_url("commission_statement_csv", period),
            **kwargs,
        )


def statement_rows(statement: Statement) -> list[list[Any]]:
    return [
        [
            entry.pk,
            entry.created_at.isoformat(),
            entry.opportunity_id,
            entry.opportunity.name,
            entry.kind,
            entry.status,
            f"{entry.amount:.2f}",
            entry.currency,
            entry.closed_on.isoformat(),
            entry.payout.reference if entry.payout else "",
        ]
        for entry in statement.entries
    ]


class StatementCsvView(StatementMixin, View):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            period = self.requested_period()
        except ValidationFailed as error:
            return error_page(request, error)
        statement = self.statement(period)  # read now, inside the request's transaction
        filename = f"commissions-{statement.partner.pk}-{period.label}.csv"
        return csv_response(filename, CSV_HEADER, statement_rows(statement))


urlpatterns = [
    path("commissions/", CommissionListView.as_view(), name="commission_list"),
    path("commissions/<int:pk>/", CommissionDetailView.as_view(), name="commission_detail"),
    path("commissions/statements/", StatementView.as_view(), name="commission_statement"),
    path(
        "commissions/statements/csv/",
        StatementCsvView.as_view(),
        name="commission_statement_csv",
    ),
]

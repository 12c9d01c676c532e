"""Vendor portal pages of commissions: the ledger (accruals to approve first, then payouts),
payout batches, totals by partner and period, and CSV exports. The plan pages live in
commissions/views/plans.py; their routes are collected here.

Channel managers and vendor admins see their tenant's ledger; another tenant's entry or
batch is a 404 (a bulk POST naming one changes nothing). Each POST is one service call from
commissions/services/ledger.py; a refusal becomes a message and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from accounts.errors import ApplicationError, NotFound, PermissionDenied
from accounts.exports import csv_response
from accounts.numbers import format_money, format_multiplier, format_percent
from accounts.portals import (
    VendorPortalMixin,
    error_page,
    first_error,
)
from accounts.scoping import ScopedQuerysetMixin
from commissions.forms import ApproveEntriesForm, LedgerFilterForm, PayoutForm, PeriodForm
from commissions.models import CommissionEntry, PayoutBatch
from commissions.selectors import (
    Period,
    entry_list_for,
    period_current,
    totals_by_partner,
    unattributed_list,
)
from commissions.services.ledger import commission_approve_many, payout_create
from commissions.views import plans

Status = CommissionEntry.Status
LEDGER_ORDER = Case(
    When(status=Status.ACCRUED, then=Value(0)),
    When(status=Status.APPROVED, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def money(amount: Decimal) -> str:
    """For CSV cells: plain digits a spreadsheet reads as a number."""
    return f"{amount:.2f}"


def plural(count: int, word: str, words: str) -> str:
    return f"{count} {word if count == 1 else words}"


# --- Ledger ------------------------------------------------------------------------------------


def breakdown_lines(entry: CommissionEntry) -> list[tuple[str, str]]:
    """How the entry's amount came about, as (label, value) lines."""
    data, currency = entry.breakdown, entry.currency
    if entry.kind == CommissionEntry.Kind.CLAWBACK:
        return [
            ("Reverses", f"entry #{data.get('reverses', entry.reverses_id)}"),
            ("Reason", data.get("reason", "")),
        ]
    if not data:
        return []
    registered = "Registered" if data.get("registered") else "Not registered"
    lines = [
        ("Plan version", entry.version.name if entry.version else f"#{data.get('version_id')}"),
        ("Deal amount", format_money(data["deal_amount"], currency)),
        (
            "Base",
            f"{format_percent(data['base_rate'])} ({data['tier']}) = "
            f"{format_money(data['base'], currency)}",
        ),
        ("Registration", f"{registered} {format_multiplier(data['multiplier'])}"),
    ]
    lines += [
        (f"Bonus {code}", format_money(amount, currency))
        for code, amount in data.get("product_bonuses", {}).items()
    ]
    lines += [
        ("Quarter attainment", format_money(data["quarter_attainment"], currency)),
        ("Accelerator", format_money(data["accelerator"], currency)),
        ("Before cap", format_money(data["before_cap"], currency)),
        ("Cap", "None" if data.get("cap") is None else format_money(data["cap"], currency)),
        ("Capped", "Yes" if data.get("capped") else "No"),
        ("Amount", format_money(data["amount"], currency)),
    ]
    return lines


def ledger_entries(membership: Any, form: LedgerFilterForm) -> QuerySet[CommissionEntry]:
    """The ledger narrowed by the filter form (an invalid filter shows nothing)."""
    entries = entry_list_for(membership=membership).select_related("version")
    if not form.is_bound:
        return entries
    if not form.is_valid():
        return entries.none()
    data = form.cleaned_data
    if data["status"]:
        entries = entries.filter(status=data["status"])
    if data["partner"]:
        entries = entries.filter(partner=data["partner"])
    if data["period"]:
        entries = entries.filter(data["period"].contains())
    return entries


def with_breakdowns(entries: Iterable[CommissionEntry]) -> list[CommissionEntry]:
    rows = list(entries)
    for entry in rows:
        entry.lines = breakdown_lines(entry)
    return rows


class CommissionListView(VendorPortalMixin, ListView):
    """Accrued entries first (to approve), then approved (to pay), then paid."""

    template_name = "commissions/vendor_commission_list.html"
    context_object_name = "entries"
    paginate_by = 50

    @cached_property
    def filter_form(self) -> LedgerFilterForm:
        return LedgerFilterForm(self.request.GET or None, tenant=self.tenant)

    def get_queryset(self) -> Any:
        entries = ledger_entries(self.membership, self.filter_form)
        return entries.order_by(LEDGER_ORDER, "-id")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["entries"] = with_breakdowns(context["entries"])
        waiting = CommissionEntry.objects.visible_to(self.membership).filter(status=Status.ACCRUED)
        context.update(
            filter_form=self.filter_form,
            waiting=waiting.count(),
            filters=self.request.GET.urlencode(),
            payout_form=PayoutForm(),
            unattributed=unattributed_list(membership=self.membership),
        )
        return context


class LedgerAction(VendorPortalMixin, View):
    """A POST on the selected entries: every ID must be the tenant's, else a 404."""

    http_method_names = ["post"]
    form_class: Any = None

    def back(self) -> HttpResponse:
        query = QueryDict(self.request.POST.get("filters", "")).urlencode()
        url = reverse("vendor:commission_list")
        return redirect(f"{url}?{query}" if query else url)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self.form_class(request.POST)
        if not form.is_valid():
            messages.error(request, first_error(form))
            return self.back()
        ids = form.cleaned_data["entry"]
        labels = self.labels(ids)
        if set(ids) - set(labels):
            return error_page(request, NotFound())
        try:
            return self.act(form.cleaned_data, labels)
        except (PermissionDenied, NotFound) as error:
            return error_page(request, error)
        except ApplicationError as error:
            messages.error(request, error.message)
            return self.back()

    def labels(self, ids: list[int]) -> dict[int, str]:
        entries = CommissionEntry.objects.visible_to(self.membership).filter(pk__in=ids)
        return {
            entry.pk: f"#{entry.pk} {entry.opportunity.name} ({entry.partner.name}, "
            f"{format_money(entry.amount, entry.currency)})"
            for entry in entries.select_related("opportunity", "partner").order_by("pk")
        }

    def act(self, data: dict[str, Any], labels: dict[int, str]) -> HttpResponse:
        raise NotImplementedError


class ApproveEntriesView(LedgerAction):
    form_class = ApproveEntriesForm

    def act(self, data: dict[str, Any], labels: dict[int, str]) -> HttpResponse:
        approved, refused = commission_approve_many(
            tenant=self.tenant, actor=self.membership, entry_ids=data["entry"]
        )
        if approved:
            listed = "; ".join(labels[pk] for pk in approved)
            count = plural(len(approved), "entry", "entries")
            messages.success(self.request, f"Approved {count}: {listed}.")
        for pk, reason in refused.items():
            messages.warning(self.request, f"Not approved: {labels[pk]}: {reason}")
        return self.back()


class PayoutCreateView(LedgerAction):
    form_class = PayoutForm

    def act(self, data: dict[str, Any], labels: dict[int, str]) -> HttpResponse:
        batch = payout_create(
            tenant=self.tenant,
            actor=self.membership,
            entry_ids=data["entry"],
            reference=data["reference"],
            paid_on=data["paid_on"],
        )
        messages.success(
            self.request,
            f"Payout “{batch.reference}” recorded: {plural(len(labels), 'entry', 'entries')}, "
            f"{format_money(batch.total, batch.currency)}, paid on {batch.paid_on}.",
        )
        return redirect("vendor:payout_detail", pk=batch.pk)


# --- Payouts -----------------------------------------------------------------------------------


class PayoutListView(ScopedQuerysetMixin, VendorPortalMixin, ListView):
    model = PayoutBatch
    template_name = "commissions/vendor_payout_list.html"
    context_object_name = "batches"
    paginate_by = 50

    def refine_queryset(self, queryset: Any) -> Any:
        return (
            queryset.annotate(entry_count=Count("entries"))
            .select_related("created_by")
            .order_by("-paid_on", "-id")
        )


class PayoutDetailView(ScopedQuerysetMixin, VendorPortalMixin, DetailView):
    model = PayoutBatch
    template_name = "commissions/vendor_payout_detail.html"
    context_object_name = "batch"

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("created_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        entries = entry_list_for(membership=self.membership).select_related("version")
        rows = with_breakdowns(entries.filter(payout=self.object).order_by("id"))
        return super().get_context_data(entries=rows, **kwargs)


# --- Totals and CSV ----------------------------------------------------------------------------


def period_neighbour(period: Period, step: int) -> str | None:
    """The label of the period before (-1) or after (1), of the same kind; None past year 9999."""
    try:
        day = period.start - timedelta(days=1) if step < 0 else period.end + timedelta(days=1)
    except OverflowError:
        return None
    if "Q" in period.label:
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}-{day.month:02d}"


def totals_period(request: HttpRequest) -> PeriodForm:
    return PeriodForm({"period": request.GET.get("period") or period_current().label})


class CommissionTotalsView(VendorPortalMixin, TemplateView):
    """Per partner, one period's entries summed by status."""

    template_name = "commissions/vendor_commission_totals.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = totals_period(self.request)
        context: dict[str, Any] = {"period_form": form, "currency": self.tenant.currency}
        if form.is_valid():
            period = form.cleaned_data["period"]
            totals = totals_by_partner(tenant=self.tenant, period=period)
            context.update(
                period=period,
                totals=totals,
                previous_period=period_neighbour(period, -1),
                next_period=period_neighbour(period, 1),
                sums={
                    name: sum((getattr(t, name) for t in totals), Decimal(0))
                    for name in ("accrued", "approved", "paid", "net")
                },
            )
        return super().get_context_data(**context, **kwargs)


LEDGER_HEADER = [
    "Entry",
    "Created",
    "Deal ID",
    "Deal",
    "Partner",
    "Kind",
    "Status",
    "Amount",
    "Currency",
    "Close date",
    "Payout",
    "Paid on",
]


def ledger_row(entry: CommissionEntry) -> list[str]:
    created = timezone.localtime(entry.created_at)
    return [
        str(entry.pk),
        f"{created:%Y-%m-%d %H:%M}",
        str(entry.opportunity_id),
        entry.opportunity.name,
        entry.partner.name,
        entry.kind,
        entry.status,
        money(entry.amount),
        entry.currency,
        entry.closed_on.isoformat(),
        entry.payout.reference if entry.payout else "",
        entry.payout.paid_on.isoformat() if entry.payout else "",
    ]


class CommissionCsvView(VendorPortalMixin, View):
    """The ledger as CSV, oldest first, with the list's filters."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        form = LedgerFilterForm(request.GET or None, tenant=self.tenant)
        if form.is_bound and not form.is_valid():
            return HttpResponse(first_error(form), status=400, content_type="text/plain")
        entries = ledger_entries(self.membership, form).order_by("created_at", "id")
        period = form.cleaned_data.get("period") if form.is_bound else None
        name = f"commissions-{period.label if period else 'all'}.csv"
        return csv_response(name, LEDGER_HEADER, [ledger_row(entry) for entry in entries])


class CommissionTotalsCsvView(VendorPortalMixin, View):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        form = totals_period(request)
        if not form.is_valid():
            return HttpResponse(first_error(form), status=400, content_type="text/plain")
        period = form.cleaned_data["period"]
        rows = [
            [
                t.partner_name,
                *(money(getattr(t, n)) for n in ("accrued", "approved", "paid", "net")),
                self.tenant.currency,
            ]
            for t in totals_by_partner(tenant=self.tenant, period=period)
        ]
        header = ["Partner", "Accrued", "Approved", "Paid", "Net", "Currency"]
        return csv_response(f"commission-totals-{period.label}.csv", header, rows)


urlpatterns = [
    path("commissions/", CommissionListView.as_view(), name="commission_list"),
    path("commissions/approve/", ApproveEntriesView.as_view(), name="commission_approve"),
    path("commissions/pay/", PayoutCreateView.as_view(), name="payout_create"),
    path("commissions/export.csv", CommissionCsvView.as_view(), name="commission_csv"),
    path("commissions/totals/", CommissionTotalsView.as_view(), name="commission_totals"),
    path(
        "commissions/totals/export.csv",
        CommissionTotalsCsvView.as_view(),
        name="commission_totals_csv",
    ),
    path("commissions/payouts/", PayoutListView.as_view(), name="payout_list"),
    path("commissions/payouts/<int:pk>/", PayoutDetailView.as_view(), name="payout_detail"),
    *plans.urlpatterns,  # commission plan versions
]

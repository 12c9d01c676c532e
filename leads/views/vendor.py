"""Vendor portal pages of leads: the list (the routing queue first), a new lead, and a
lead's page with every offer's routing explanation (candidates, rules, score parts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import DetailView, FormView, ListView, View

from accounts.errors import ApplicationError, NotFound, PermissionDenied
from accounts.exports import csv_stream_response
from accounts.portals import (
    ObjectActionView,
    ServiceFormMixin,
    VendorPortalMixin,
    error_page,
    first_error,
)
from accounts.scoping import ScopedQuerysetMixin
from accounts.tenancy import TenantQuerySet
from leads.filters import VendorLeadFilter
from leads.forms import LeadBulkForm, LeadForm
from leads.models import Lead
from leads.selectors import lead_list_for, lead_totals, routing_view, stale_q, with_staleness
from leads.services.intake import lead_create
from leads.services.offers import offer_withdraw
from leads.services.policy import routing_policy_for, stale_cutoff
from leads.services.routing import lead_route_again
from leads.services.stale import BULK_ACTIONS, lead_pull_back, leads_bulk_act


class StaleCutoffMixin(VendorPortalMixin):
    @cached_property
    def stale_cutoff(self) -> datetime:
        return stale_cutoff(routing_policy_for(self.tenant))

    def filtered(self) -> VendorLeadFilter:
        return VendorLeadFilter(
            self.request.GET or None,
            queryset=with_staleness(lead_list_for(membership=self.membership), self.stale_cutoff),
            tenant=self.tenant,
            stale_cutoff=self.stale_cutoff,
        )

    def query(self) -> str:
        query = self.request.GET.copy()
        query.pop("page", None)
        return query.urlencode()


class LeadListView(StaleCutoffMixin, ListView):
    """The routing queue and the money first; then every lead the filters match, with
    their count and estimated value, the same rows as CSV, and actions on ticked rows."""

    template_name = "leads/vendor_lead_list.html"
    context_object_name = "leads"
    paginate_by = 50

    def get_queryset(self) -> Any:
        self.filterset = self.filtered()
        return self.filterset.qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        leads = Lead.objects.visible_to(self.membership)
        context["summary"] = leads.aggregate(
            queued=Count("id", filter=Q(status=Lead.Status.QUEUED)),
            offered=Count("id", filter=Q(status=Lead.Status.OFFERED)),
            stale=Count("id", filter=stale_q(self.stale_cutoff)),
            open_value=Sum("estimated_value", filter=~Q(status=Lead.Status.DISQUALIFIED)),
        )
        context["queue"] = list(
            lead_list_for(membership=self.membership).filter(status=Lead.Status.QUEUED)[:20]
        )
        query = self.query()
        context.update(
            filter=self.filterset,
            totals=lead_totals(self.filterset.qs, self.stale_cutoff),
            csv_url=f"{reverse('vendor:lead_csv')}?{query}",
            query=query,
            bulk_actions=BULK_ACTIONS.items(),
            stale_url=f"{reverse('vendor:lead_list')}?stale=yes",
        )
        return context


CSV_HEADER = (
    "Lead ID",
    "Company",
    "Website",
    "Country",
    "Region",
    "Status",
    "Stale",
    "Partner",
    "Contact",
    "Contact e-mail",
    "Product lines",
    "Estimated value",
    "Currency",
    "Source",
    "Created",
    "Last update",
)


def csv_row(lead: Any) -> list[Any]:
    return [
        lead.pk,
        lead.company_name,
        lead.company_website,
        str(lead.country),
        lead.region,
        lead.get_status_display(),
        "yes" if lead.stale else "no",
        lead.partner.name if lead.partner else "",
        lead.contact_name,
        lead.contact_email,
        ";".join(lead.product_lines),
        f"{lead.estimated_value:.2f}" if lead.estimated_value is not None else "",
        lead.currency,
        lead.source,
        lead.created_at.date().isoformat(),
        lead.updated_at.date().isoformat(),
    ]


class LeadCsvView(StaleCutoffMixin, View):
    """The filtered leads as CSV: same filters and order as the list, every row."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> StreamingHttpResponse:
        cutoff = self.stale_cutoff  # read now, inside the request's tenant transaction

        def rows() -> Any:
            filterset = self.filtered()
            filterset.stale_cutoff = cutoff
            leads = filterset.qs.prefetch_related(None)
            return (csv_row(lead) for lead in leads.iterator(chunk_size=500))

        return csv_stream_response(
            tenant=self.tenant,
            filename=f"leads-{timezone.localdate().isoformat()}.csv",
            header=CSV_HEADER,
            rows=rows,
        )


class LeadBulkView(VendorPortalMixin, View):
    """POST lead=<id>&lead=<id>…&action=…: the action on each, a result per lead."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        back = reverse("vendor:lead_list")
        query = request.POST.get("query", "")
        if query and len(query) < 2000:
            back = f"{back}?{QueryDict(query).urlencode()}"
        form = LeadBulkForm(request.POST)
        if not form.is_valid():
            messages.error(request, first_error(form))
            return redirect(back)
        try:
            result = leads_bulk_act(
                tenant=self.tenant,
                actor=self.membership,
                action=form.cleaned_data["action"],
                lead_ids=form.cleaned_data["lead"],
            )
        except (PermissionDenied, NotFound) as error:
            return error_page(request, error)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect(back)
        names = dict(
            Lead.objects.visible_to(self.membership)
            .filter(pk__in=[*result.done, *result.skipped])
            .values_list("pk", "company_name")
        )
        label = BULK_ACTIONS[form.cleaned_data["action"]]
        for pk in result.done:
            messages.success(request, f"#{pk} {names.get(pk, '')}: done ({label.lower()}).")
        for pk, reason in result.skipped.items():
            name = names.get(pk)
            messages.warning(
                request, f"#{pk} {name}: skipped. {reason}" if name else f"#{pk}: skipped. {reason}"
            )
        return redirect(back)


class LeadCreateView(VendorPortalMixin, ServiceFormMixin, FormView):
    template_name = "leads/vendor_lead_form.html"
    form_class = LeadForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "tenant": self.tenant}

    def perform(self, form: LeadForm) -> Lead:
        self.created = lead_create(
            tenant=self.tenant, actor=self.membership, data=form.service_data()
        )
        return self.created

    def get_success_message(self, result: Lead) -> str:
        return f"Lead {result.company_name} created; routing is under way."

    def get_success_url(self) -> str:
        return reverse("vendor:lead_detail", args=[self.created.pk])


class LeadDetailView(StaleCutoffMixin, ScopedQuerysetMixin, DetailView):
    model = Lead
    template_name = "leads/vendor_lead_detail.html"
    context_object_name = "lead"

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        leads = lead_list_for(membership=self.acting_membership) & queryset
        return with_staleness(leads, self.stale_cutoff)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["routings"] = [routing_view(offer) for offer in self.object.offers.all()]
        return context


class LeadRouteAgainView(VendorPortalMixin, ScopedQuerysetMixin, ObjectActionView):
    model = Lead

    def act(self, record: Lead, data: dict[str, Any]) -> str:
        lead_route_again(tenant=self.tenant, actor=self.membership, lead_id=record.pk)
        return f"{record.company_name} is being routed again."

    def done(self, record: Any) -> HttpResponse:
        return redirect("vendor:lead_detail", record.pk)


class OfferWithdrawView(LeadRouteAgainView):
    def act(self, record: Lead, data: dict[str, Any]) -> str:
        offer_withdraw(tenant=self.tenant, actor=self.membership, lead_id=record.pk)
        return f"The offer of {record.company_name} was withdrawn; the lead is in the queue."


class LeadPullBackView(LeadRouteAgainView):
    def act(self, record: Lead, data: dict[str, Any]) -> str:
        lead_pull_back(tenant=self.tenant, actor=self.membership, lead_id=record.pk)
        return f"{record.company_name} was pulled back; it waits in the routing queue."


urlpatterns = [
    path("leads/", LeadListView.as_view(), name="lead_list"),
    path("leads/csv/", LeadCsvView.as_view(), name="lead_csv"),
    path("leads/bulk/", LeadBulkView.as_view(), name="lead_bulk"),
    path("leads/<int:pk>/pull-back/", LeadPullBackView.as_view(), name="lead_pull_back"),
    path("leads/new/", LeadCreateView.as_view(), name="lead_create"),
    path("leads/<int:pk>/", LeadDetailView.as_view(), name="lead_detail"),
    path("leads/<int:pk>/route/", LeadRouteAgainView.as_view(), name="lead_route_again"),
    path("leads/<int:pk>/withdraw/", OfferWithdrawView.as_view(), name="lead_withdraw"),
]

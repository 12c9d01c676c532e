"""Vendor portal pages of leads: the list (the routing queue first), a new lead, and a
lead's page with every offer's routing explanation (candidates, rules, score parts)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.generic import DetailView, FormView, ListView

from accounts.portals import ObjectActionView, ServiceFormMixin, VendorPortalMixin
from accounts.scoping import ScopedQuerysetMixin
from accounts.tenancy import TenantQuerySet
from leads.forms import LeadForm
from leads.models import Lead
from leads.selectors import lead_list_for, routing_view
from leads.services.intake import lead_create
from leads.services.offers import offer_withdraw
from leads.services.routing import lead_route_again


class LeadListView(VendorPortalMixin, ListView):
    template_name = "leads/vendor_lead_list.html"
    context_object_name = "leads"
    paginate_by = 50

    def get_queryset(self) -> Any:
        return lead_list_for(membership=self.membership)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        leads = Lead.objects.visible_to(self.membership)
        context["summary"] = leads.aggregate(
            queued=Count("id", filter=Q(status=Lead.Status.QUEUED)),
            offered=Count("id", filter=Q(status=Lead.Status.OFFERED)),
            open_value=Sum("estimated_value", filter=~Q(status=Lead.Status.DISQUALIFIED)),
        )
        context["queue"] = list(
            lead_list_for(membership=self.membership).filter(status=Lead.Status.QUEUED)[:20]
        )
        return context


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


class LeadDetailView(VendorPortalMixin, ScopedQuerysetMixin, DetailView):
    model = Lead
    template_name = "leads/vendor_lead_detail.html"
    context_object_name = "lead"

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return lead_list_for(membership=self.acting_membership) & queryset

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


urlpatterns = [
    path("leads/", LeadListView.as_view(), name="lead_list"),
    path("leads/new/", LeadCreateView.as_view(), name="lead_create"),
    path("leads/<int:pk>/", LeadDetailView.as_view(), name="lead_detail"),
    path("leads/<int:pk>/route/", LeadRouteAgainView.as_view(), name="lead_route_again"),
    path("leads/<int:pk>/withdraw/", OfferWithdrawView.as_view(), name="lead_withdraw"),
]

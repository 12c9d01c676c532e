"""Partner portal pages of leads: the inbox (open offers closest to their deadline first,
with a countdown, why the lead came to this partner, accept / decline) and my leads.

A partner sees only its own offers and its own routing outcome, never the other
candidates; a lead never offered to it is a 404."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.views.generic import TemplateView

from accounts.portals import ObjectActionView, PartnerPortalMixin
from accounts.scoping import ScopedQuerysetMixin
from accounts.tenancy import TenantQuerySet
from leads.forms import ConvertForm, DeclineForm, LeadStatusForm
from leads.models import Lead
from leads.selectors import inbox_for, lead_list_for, time_left, why_offered, with_staleness
from leads.services.offers import offer_accept, offer_decline
from leads.services.policy import routing_policy_for, stale_cutoff
from leads.services.working import lead_convert, lead_status_update


class LeadInboxView(PartnerPortalMixin, TemplateView):
    template_name = "leads/partner_inbox.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["offers"] = [
            {"offer": offer, "left": time_left(offer.expires_at), "why": why_offered(offer)}
            for offer in inbox_for(membership=self.membership)
        ]
        policy = routing_policy_for(self.tenant)
        mine = lead_list_for(membership=self.membership).filter(
            partner_id=self.membership.partner_id, status__in=Lead.WORKING
        )
        context["my_leads"] = list(
            with_staleness(mine, stale_cutoff(policy)).select_related("owner")[:100]
        )
        context["stale_count"] = sum(lead.stale for lead in context["my_leads"])
        context["stale_days"] = policy.stale_after_days
        context["decline_form"] = DeclineForm()
        context["status_form"] = LeadStatusForm()
        return context


class OfferActionView(PartnerPortalMixin, ScopedQuerysetMixin, ObjectActionView):
    model = Lead
    success_url_name = "partner:lead_inbox"

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return queryset.filter(status=Lead.Status.OFFERED)

    def done(self, record: Any) -> HttpResponse:
        return redirect(self.success_url_name)


class OfferAcceptView(OfferActionView):
    def act(self, record: Lead, data: dict[str, Any]) -> str:
        offer_accept(tenant=self.tenant, actor=self.membership, lead_id=record.pk)
        return f"You accepted the lead {record.company_name}; it is yours to work."


class OfferDeclineView(OfferActionView):
    form_class = DeclineForm

    def act(self, record: Lead, data: dict[str, Any]) -> str:
        offer_decline(tenant=self.tenant, actor=self.membership, lead_id=record.pk, **data)
        return f"You declined the lead {record.company_name}."


class WorkingLeadView(PartnerPortalMixin, ScopedQuerysetMixin, ObjectActionView):
    model = Lead
    success_url_name = "partner:lead_inbox"

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return queryset.filter(status__in=Lead.WORKING)


class LeadStatusView(WorkingLeadView):
    form_class = LeadStatusForm

    def act(self, record: Lead, data: dict[str, Any]) -> str:
        lead = lead_status_update(
            tenant=self.tenant, actor=self.membership, lead_id=record.pk, **data
        )
        return f"{lead.company_name} is now {lead.get_status_display().lower()}."


class LeadConvertView(WorkingLeadView):
    form_class = ConvertForm

    def act(self, record: Lead, data: dict[str, Any]) -> str:
        self.registration = lead_convert(
            tenant=self.tenant, actor=self.membership, lead_id=record.pk, **data
        )
        return f"{record.company_name} converted into a registration; screening is under way."

    def done(self, record: Any) -> HttpResponse:
        registration = getattr(self, "registration", None)
        if registration is None:
            return redirect(self.success_url_name)
        return redirect("partner:registration_detail", registration.pk)


urlpatterns = [
    path("leads/", LeadInboxView.as_view(), name="lead_inbox"),
    path("leads/<int:pk>/accept/", OfferAcceptView.as_view(), name="lead_accept"),
    path("leads/<int:pk>/decline/", OfferDeclineView.as_view(), name="lead_decline"),
    path("leads/<int:pk>/status/", LeadStatusView.as_view(), name="lead_status"),
    path("leads/<int:pk>/convert/", LeadConvertView.as_view(), name="lead_convert"),
]

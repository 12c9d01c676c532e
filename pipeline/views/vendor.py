"""Vendor portal pages of the pipeline: the pipeline across partners and direct deals,
direct deals created and worked by the vendor, and the answers to co-sell requests.

Channel managers and vendor admins see every deal of their tenant; another tenant's deal
is a 404 (`ScopedQuerysetMixin`). Reopening a closed deal is for vendor roles only.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import path, reverse
from django.views.generic import DetailView, FormView

from accounts.portals import KeysetListView, ServiceFormMixin, VendorPortalMixin
from pipeline.filters import VendorPipelineFilter
from pipeline.forms import (
    CoSellAssignForm,
    CoSellCompleteForm,
    CoSellDeclineForm,
    DirectDealForm,
    ReopenForm,
    VendorActivityForm,
)
from pipeline.models import CoSellRequest, Opportunity
from pipeline.selectors import opportunity_list_for
from pipeline.services.activities import (
    cosell_request_assign,
    cosell_request_complete,
    cosell_request_decline,
)
from pipeline.services.customers import customer_get_or_create
from pipeline.services.opportunities import opportunity_create_direct, opportunity_reopen
from pipeline.views.working import (
    ACTIONS,
    ActivityAction,
    CloseLostAction,
    CloseWonAction,
    DealAction,
    DealDetailMixin,
    DealEditMixin,
    MoveAction,
)

PORTAL = "vendor"


class PipelineView(VendorPortalMixin, KeysetListView):
    template_name = "pipeline/vendor_pipeline.html"
    filterset_class = VendorPipelineFilter
    context_object_name = "opportunities"

    def get_queryset(self) -> Any:
        return self.apply_filters(opportunity_list_for(membership=self.membership))


class OpportunityCreateView(VendorPortalMixin, ServiceFormMixin, FormView):
    form_class = DirectDealForm
    template_name = "pipeline/direct_deal_form.html"
    success_message = "Direct deal “{result.name}” created."

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "tenant": self.tenant}

    def perform(self, form: DirectDealForm) -> Opportunity:
        data = form.cleaned_data
        with transaction.atomic():  # no customer is left behind when the deal is refused
            customer, _ = customer_get_or_create(
                tenant=self.tenant,
                name=data["customer_name"],
                website=data["customer_website"],
                country=data["customer_country"],
            )
            self.deal = opportunity_create_direct(
                tenant=self.tenant,
                actor=self.membership,
                customer=customer,
                name=data["name"],
                owner=data["owner"],
                amount=data["amount"],
                expected_close_date=data["expected_close_date"],
            )
        return self.deal

    def get_success_url(self) -> str:
        return reverse("vendor:opportunity_detail", args=[self.deal.pk])


class OpportunityDetailView(VendorPortalMixin, DealDetailMixin, DetailView):
    model = Opportunity
    portal = PORTAL
    list_url_name = "pipeline"
    actions = (*ACTIONS, "reopen")
    activity_form_class = VendorActivityForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            assign_form=CoSellAssignForm(tenant=self.tenant, auto_id="id_assign_%s"), **kwargs
        )


class OpportunityEditView(VendorPortalMixin, DealEditMixin):
    portal = PORTAL


class MoveView(VendorPortalMixin, MoveAction):
    portal = PORTAL


class CloseWonView(VendorPortalMixin, CloseWonAction):
    portal = PORTAL


class CloseLostView(VendorPortalMixin, CloseLostAction):
    portal = PORTAL


class ReopenView(VendorPortalMixin, DealAction):
    portal = PORTAL
    action_form = ReopenForm

    def act(self, record: Opportunity, data: dict[str, Any]) -> str:
        deal = opportunity_reopen(**self.service_kwargs(record), note=data["note"])
        return f"The deal is open again, in {deal.stage.name}."


class ActivityView(VendorPortalMixin, ActivityAction):
    portal = PORTAL
    action_form = VendorActivityForm


class CoSellAction(DealAction):
    """An answer to one co-sell request of the deal in the URL."""

    portal = PORTAL
    model = CoSellRequest
    lookup_url_kwarg = "request_pk"

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.filter(opportunity_id=self.kwargs["pk"])

    def deal_id(self, record: CoSellRequest) -> int:
        return record.opportunity_id

    def service_kwargs(self, record: CoSellRequest) -> dict[str, Any]:
        return {"tenant": self.tenant, "actor": self.membership, "request_id": record.pk}


class CoSellAssignView(VendorPortalMixin, CoSellAction):
    action_form = CoSellAssignForm

    def act(self, record: CoSellRequest, data: dict[str, Any]) -> str:
        request = cosell_request_assign(**self.service_kwargs(record), assignee=data["assignee"])
        return f"{request.assignee.display_name} is assigned; the partner is notified."


class CoSellDeclineView(VendorPortalMixin, CoSellAction):
    action_form = CoSellDeclineForm

    def act(self, record: CoSellRequest, data: dict[str, Any]) -> str:
        cosell_request_decline(**self.service_kwargs(record), reason=data["reason"])
        return "The request is declined; the partner is notified."


class CoSellCompleteView(VendorPortalMixin, CoSellAction):
    action_form = CoSellCompleteForm

    def act(self, record: CoSellRequest, data: dict[str, Any]) -> str:
        cosell_request_complete(**self.service_kwargs(record))
        return "The request is done; the partner is notified."


DEAL = "pipeline/<int:pk>/"
COSELL = DEAL + "cosell/<int:request_pk>/"

urlpatterns = [
    path("pipeline/", PipelineView.as_view(), name="pipeline"),
    path("pipeline/new/", OpportunityCreateView.as_view(), name="opportunity_create"),
    path(DEAL, OpportunityDetailView.as_view(), name="opportunity_detail"),
    path(DEAL + "edit/", OpportunityEditView.as_view(), name="opportunity_edit"),
    path(DEAL + "move/", MoveView.as_view(), name="opportunity_move"),
    path(DEAL + "close-won/", CloseWonView.as_view(), name="opportunity_close_won"),
    path(DEAL + "close-lost/", CloseLostView.as_view(), name="opportunity_close_lost"),
    path(DEAL + "reopen/", ReopenView.as_view(), name="opportunity_reopen"),
    path(DEAL + "activities/", ActivityView.as_view(), name="opportunity_activity"),
    path(COSELL + "assign/", CoSellAssignView.as_view(), name="cosell_assign"),
    path(COSELL + "decline/", CoSellDeclineView.as_view(), name="cosell_decline"),
    path(COSELL + "complete/", CoSellCompleteView.as_view(), name="cosell_complete"),
]

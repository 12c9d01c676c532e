"""Vendor portal pages of the pipeline: the pipeline across partners and direct deals,
direct deals created and worked by the vendor, and the answers to co-sell requests.

Channel managers and vendor admins see every deal of their tenant; another tenant's deal
is a 404 (`ScopedQuerysetMixin`). Reopening a closed deal is for vendor roles only.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.generic import DetailView, FormView, TemplateView, View

from accounts.exports import csv_stream_response
from accounts.portals import KeysetListView, ServiceFormMixin, VendorPortalMixin
from pipeline.filters import VendorPipelineFilter
from pipeline.forms import (
    CoSellAssignForm,
    CoSellCompleteForm,
    CoSellDeclineForm,
    CoSellEngageForm,
    DirectDealForm,
    ReopenForm,
    VendorActivityForm,
)
from pipeline.models import CoSellRequest, Opportunity
from pipeline.selectors import opportunity_list_for, opportunity_totals
from pipeline.services.cosell_requests import (
    cosell_request_assign,
    cosell_request_cancel,
    cosell_request_complete,
    cosell_request_decline,
    cosell_request_engage,
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
    ForecastCategoryAction,
    MoveAction,
)

PORTAL = "vendor"


class PipelineView(VendorPortalMixin, KeysetListView):
    """Every deal of the tenant, filtered; the totals and the CSV cover all filtered rows."""

    template_name = "pipeline/vendor_pipeline.html"
    filterset_class = VendorPipelineFilter
    context_object_name = "opportunities"

    def get_queryset(self) -> Any:
        return self.apply_filters(opportunity_list_for(membership=self.membership))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """The totals load after the page (counting a million deals takes longer than the
        list may), from the same filters; so does the CSV."""
        query = self.request.GET.copy()
        query.pop("after", None)
        filters = query.urlencode()
        return super().get_context_data(
            totals_url=f"{reverse('vendor:pipeline_totals')}?{filters}",
            csv_url=f"{reverse('vendor:pipeline_csv')}?{filters}",
            **kwargs,
        )


class PipelineTotalsView(VendorPortalMixin, TemplateView):
    """Count, total and weighted total of every deal the pipeline's filters match: the
    fragment the list swaps in once shown, or a page of its own without htmx."""

    def get_template_names(self) -> list[str]:
        htmx = getattr(self.request, "htmx", False)
        return ["pipeline/partials/pipeline_totals.html" if htmx else "pipeline/vendor_totals.html"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        filterset = VendorPipelineFilter(
            self.request.GET or None,
            queryset=opportunity_list_for(membership=self.membership),
            tenant=self.tenant,
        )
        query = self.request.GET.copy()
        query.pop("after", None)
        filters = query.urlencode()
        return super().get_context_data(
            totals=opportunity_totals(filterset.qs),
            pipeline_url=f"{reverse('vendor:pipeline')}?{filters}",
            csv_url=f"{reverse('vendor:pipeline_csv')}?{filters}",
            **kwargs,
        )


CSV_HEADER = (
    "Deal ID",
    "Deal",
    "Customer",
    "Partner",
    "Tier",
    "Stage",
    "Win probability %",
    "Amount",
    "Weighted amount",
    "Currency",
    "Expected close",
    "Owner",
    "Status",
    "Stale",
)


def csv_row(deal: Opportunity) -> list[Any]:
    weighted = (
        f"{deal.amount * deal.stage.probability / 100:.2f}" if deal.amount is not None else ""
    )
    return [
        deal.pk,
        deal.name,
        deal.customer.name,
        deal.partner.name if deal.partner else "Direct",
        deal.partner.tier.name if deal.partner and deal.partner.tier else "",
        deal.stage.name,
        deal.stage.probability,
        f"{deal.amount:.2f}" if deal.amount is not None else "",
        weighted,
        deal.currency,
        deal.expected_close_date.isoformat() if deal.expected_close_date else "",
        deal.owner.display_name,
        deal.get_status_display(),
        "yes" if deal.stale else "no",
    ]


class PipelineCsvView(VendorPortalMixin, View):
    """The filtered pipeline as CSV (same filters and order as the list, every row)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> StreamingHttpResponse:
        membership, tenant = self.membership, self.tenant

        def rows() -> Any:
            filterset = VendorPipelineFilter(
                request.GET or None,
                queryset=opportunity_list_for(membership=membership),
                tenant=tenant,
            )
            return (csv_row(deal) for deal in filterset.qs.iterator(chunk_size=500))

        return csv_stream_response(
            tenant=tenant,
            filename=f"pipeline-{timezone.localdate().isoformat()}.csv",
            header=CSV_HEADER,
            rows=rows,
        )


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


class ForecastCategoryView(VendorPortalMixin, ForecastCategoryAction):
    portal = PORTAL


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
        person = data["person"]
        outcome = cosell_request_assign(
            **self.service_kwargs(record),
            person_id=person.pk if person else None,
            reason=data["reason"],
        )
        if outcome.refused_for_capacity:
            return "Nobody eligible has headroom this week; the request waits (counted)."
        assignee = outcome.request.assignee
        return f"{assignee.display_name} is assigned; the partner is notified."


class CoSellEngageView(VendorPortalMixin, CoSellAction):
    action_form = CoSellEngageForm

    def act(self, record: CoSellRequest, data: dict[str, Any]) -> str:
        cosell_request_engage(**self.service_kwargs(record), note=data["note"])
        return "First contact logged; the clock stops."


class CoSellCancelView(VendorPortalMixin, CoSellAction):
    action_form = CoSellCompleteForm

    def act(self, record: CoSellRequest, data: dict[str, Any]) -> str:
        cosell_request_cancel(**self.service_kwargs(record))
        return "The request is cancelled."


class CoSellDeclineView(VendorPortalMixin, CoSellAction):
    action_form = CoSellDeclineForm

    def act(self, record: CoSellRequest, data: dict[str, Any]) -> str:
        cosell_request_decline(**self.service_kwargs(record), reason=data["reason"])
        return "The request is declined; the partner is notified."


class CoSellCompleteView(VendorPortalMixin, CoSellAction):
    action_form = CoSellCompleteForm

    def act(self, record: CoSellRequest, data: dict[str, Any]) -> str:
        cosell_request_complete(**self.service_kwargs(record))
        return "The request is completed; the partner is notified."


DEAL = "pipeline/<int:pk>/"
COSELL = DEAL + "cosell/<int:request_pk>/"

urlpatterns = [
    path("pipeline/", PipelineView.as_view(), name="pipeline"),
    path("pipeline/export.csv", PipelineCsvView.as_view(), name="pipeline_csv"),
    path("pipeline/totals/", PipelineTotalsView.as_view(), name="pipeline_totals"),
    path("pipeline/new/", OpportunityCreateView.as_view(), name="opportunity_create"),
    path(DEAL, OpportunityDetailView.as_view(), name="opportunity_detail"),
    path(DEAL + "edit/", OpportunityEditView.as_view(), name="opportunity_edit"),
    path(DEAL + "move/", MoveView.as_view(), name="opportunity_move"),
    path(DEAL + "close-won/", CloseWonView.as_view(), name="opportunity_close_won"),
    path(DEAL + "close-lost/", CloseLostView.as_view(), name="opportunity_close_lost"),
    path(DEAL + "reopen/", ReopenView.as_view(), name="opportunity_reopen"),
    path(DEAL + "activities/", ActivityView.as_view(), name="opportunity_activity"),
    path(DEAL + "forecast-category/", ForecastCategoryView.as_view(), name="opportunity_category"),
    path(COSELL + "assign/", CoSellAssignView.as_view(), name="cosell_assign"),
    path(COSELL + "decline/", CoSellDeclineView.as_view(), name="cosell_decline"),
    path(COSELL + "complete/", CoSellCompleteView.as_view(), name="cosell_complete"),
    path(COSELL + "engage/", CoSellEngageView.as_view(), name="cosell_engage"),
    path(COSELL + "cancel/", CoSellCancelView.as_view(), name="cosell_cancel"),
]

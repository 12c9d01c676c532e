"""Partner portal pages of the pipeline: my opportunities as a table and a board, a deal's
page and the actions on it.

A partner rep works the deals they own; a partner admin the whole organization
(`Opportunity.owner_scope_field`). Another partner's or tenant's deal is a 404.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.views.generic import DetailView, TemplateView

from accounts.portals import FilteredListView, PartnerPortalMixin
from pipeline.filters import PartnerOpportunityFilter
from pipeline.forms import CoSellCompleteForm, CoSellRequestForm
from pipeline.models import CoSellRequest, Opportunity
from pipeline.selectors import opportunity_list_for
from pipeline.services.cosell_requests import cosell_request_cancel, cosell_request_create
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
    board_columns,
)

PORTAL = "partner"


class OpportunityListView(PartnerPortalMixin, FilteredListView):
    template_name = "pipeline/partner_list.html"
    filterset_class = PartnerOpportunityFilter
    context_object_name = "opportunities"

    def get_queryset(self) -> Any:
        return self.apply_filters(opportunity_list_for(membership=self.membership))


class OpportunityBoardView(PartnerPortalMixin, TemplateView):
    template_name = "pipeline/partner_board.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        columns = board_columns(tenant=self.tenant, membership=self.membership)
        return super().get_context_data(columns=columns, **kwargs)


class OpportunityDetailView(PartnerPortalMixin, DealDetailMixin, DetailView):
    model = Opportunity
    portal = PORTAL
    list_url_name = "opportunity_list"
    actions = (*ACTIONS, "cosell")

    def action_forms(self) -> dict[str, Any]:
        forms = super().action_forms()
        forms["cosell_form"] = CoSellRequestForm(tenant=self.tenant, auto_id="id_cosell_%s")
        return forms


class OpportunityEditView(PartnerPortalMixin, DealEditMixin):
    portal = PORTAL


class MoveView(PartnerPortalMixin, MoveAction):
    portal = PORTAL


class CloseWonView(PartnerPortalMixin, CloseWonAction):
    portal = PORTAL


class CloseLostView(PartnerPortalMixin, CloseLostAction):
    portal = PORTAL


class ForecastCategoryView(PartnerPortalMixin, ForecastCategoryAction):
    portal = PORTAL


class ActivityView(PartnerPortalMixin, ActivityAction):
    portal = PORTAL


class CoSellRequestView(PartnerPortalMixin, DealAction):
    portal = PORTAL
    action_form = CoSellRequestForm

    def act(self, record: Opportunity, data: dict[str, Any]) -> str:
        request = cosell_request_create(**self.service_kwargs(record), **data)
        return f"{request.resource_type.name} requested; the vendor is notified."


class CoSellCancelView(PartnerPortalMixin, DealAction):
    """The partner withdraws one of the deal's requests (a request of another deal or
    partner is a 404)."""

    portal = PORTAL
    model = CoSellRequest
    lookup_url_kwarg = "request_pk"
    action_form = CoSellCompleteForm

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.filter(opportunity_id=self.kwargs["pk"])

    def deal_id(self, record: CoSellRequest) -> int:
        return record.opportunity_id

    def service_kwargs(self, record: CoSellRequest) -> dict[str, Any]:
        return {"tenant": self.tenant, "actor": self.membership, "request_id": record.pk}

    def act(self, record: CoSellRequest, data: dict[str, Any]) -> str:
        cosell_request_cancel(**self.service_kwargs(record))
        return "The request is cancelled."


urlpatterns = [
    path("opportunities/", OpportunityListView.as_view(), name="opportunity_list"),
    path("opportunities/board/", OpportunityBoardView.as_view(), name="opportunity_board"),
    path("opportunities/<int:pk>/", OpportunityDetailView.as_view(), name="opportunity_detail"),
    path("opportunities/<int:pk>/edit/", OpportunityEditView.as_view(), name="opportunity_edit"),
    path("opportunities/<int:pk>/move/", MoveView.as_view(), name="opportunity_move"),
    path("opportunities/<int:pk>/close-won/", CloseWonView.as_view(), name="opportunity_close_won"),
    path(
        "opportunities/<int:pk>/close-lost/",
        CloseLostView.as_view(),
        name="opportunity_close_lost",
    ),
    path("opportunities/<int:pk>/activities/", ActivityView.as_view(), name="opportunity_activity"),
    path(
        "opportunities/<int:pk>/forecast-category/",
        ForecastCategoryView.as_view(),
        name="opportunity_category",
    ),
    path("opportunities/<int:pk>/cosell/", CoSellRequestView.as_view(), name="opportunity_cosell"),
    path(
        "opportunities/<int:pk>/cosell/<int:request_pk>/cancel/",
        CoSellCancelView.as_view(),
        name="cosell_cancel",
    ),
]

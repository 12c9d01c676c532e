"""Opportunities: the scoped list with the pages' filters, detail, and the lifecycle."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Membership, User
from accounts.pagination import LargeListPagination
from accounts.rest import PARTNER, VENDOR, ScopedGenericApi
from accounts.serializers import InputSerializer, error_responses, validate_input
from accounts.tenancy import TenantQuerySet
from partners.models import PartnerOrganization, PartnerTier, Region
from pipeline.apis.base import JsonApi, stages_for
from pipeline.models import Activity, CoSellRequest, Opportunity, Stage
from pipeline.selectors import with_staleness
from pipeline.serializers import (
    OPPORTUNITY_COLUMNS,
    ActivityInput,
    ActivityOutput,
    CloseLostInput,
    CloseWonInput,
    CoSellRequestInput,
    CoSellRequestOutput,
    MoveStageInput,
    OpportunityCreateInput,
    OpportunityOutput,
    OpportunityUpdateInput,
    ReopenInput,
    external_id_arrays,
    opportunity_rows,
)
from pipeline.services import activities as activity_services
from pipeline.services import cosell_requests
from pipeline.services import external_ids as external_id_services
from pipeline.services import opportunities as opportunity_services
from pipeline.services.customers import customer_get_or_create


def _membership(request: Request | None) -> Membership | None:
    return getattr(request, "membership", None)


def _filter_partners(request: Request | None) -> QuerySet[PartnerOrganization]:
    membership = _membership(request)
    if membership is None:
        return PartnerOrganization.objects.none()
    return PartnerOrganization.objects.visible_to(membership)


def _filter_tiers(request: Request | None) -> QuerySet[PartnerTier]:
    membership = _membership(request)
    if membership is None:
        return PartnerTier.objects.none()
    return PartnerTier.objects.visible_to(membership)


def _filter_stages(request: Request | None) -> QuerySet[Stage]:
    membership = _membership(request)
    return Stage.objects.none() if membership is None else stages_for(membership)


def _filter_owners(request: Request | None) -> QuerySet[User]:
    """People of the tenant (for partner people: of their own organization)."""
    membership = _membership(request)
    if membership is None:
        return User.objects.none()
    members = Membership.objects.visible_to(membership)
    return User.objects.filter(pk__in=members.values("user_id"))


YES_NO = (("true", "Yes"), ("false", "No"))


def is_yes(value: str) -> bool:
    return value == "true"


@extend_schema_field({"type": "string", "enum": ["true", "false"]})
class YesNoFilter(django_filters.TypedChoiceFilter):
    """`true` or `false`, strictly ("maybe" or "1" is a 400)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=YES_NO, coerce=is_yes, **kwargs)


class OpportunityFilter(django_filters.FilterSet):
    partner_id = django_filters.ModelChoiceFilter(field_name="partner", queryset=_filter_partners)
    direct = YesNoFilter(
        field_name="partner", lookup_expr="isnull", label="Direct deals (no partner)"
    )
    tier_id = django_filters.ModelChoiceFilter(field_name="partner__tier", queryset=_filter_tiers)
    region = django_filters.ChoiceFilter(field_name="partner__region", choices=Region.choices)
    stage_id = django_filters.ModelChoiceFilter(field_name="stage", queryset=_filter_stages)
    owner_id = django_filters.ModelChoiceFilter(field_name="owner", queryset=_filter_owners)
    status = django_filters.ChoiceFilter(choices=Opportunity.Status.choices)
    close_date_from = django_filters.DateFilter(field_name="expected_close_date", lookup_expr="gte")
    close_date_to = django_filters.DateFilter(field_name="expected_close_date", lookup_expr="lte")
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte")
    stale = YesNoFilter(field_name="stale", label="Idle past the stage's limit, or overdue")

    class Meta:
        model = Opportunity
        fields = (
            "partner_id",
            "direct",
            "tier_id",
            "region",
            "stage_id",
            "owner_id",
            "status",
            "close_date_from",
            "close_date_to",
            "amount_min",
            "amount_max",
            "stale",
        )


class OpportunityScopedApi(JsonApi, ScopedGenericApi):
    """Base of the opportunity endpoints: the deals the member may see, with what the
    output shows (customer, lost reason, staleness) joined in one query."""

    model = Opportunity
    queryset = Opportunity.objects.none()  # for schema introspection; rows come from get_queryset

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        # The sealed scope (visible_to) with the lists' staleness, newest first. Rows are
        # read as values (OPPORTUNITY_COLUMNS joins the customer, the lost reason and the
        # stage's forecast category).
        return with_staleness(queryset).order_by("-id")

    def output(self, opportunity_id: int, code: int = status.HTTP_200_OK) -> Response:
        """The deal as it is now (re-read: staleness is computed by the query)."""
        row = (
            self.get_queryset()
            .values(*OPPORTUNITY_COLUMNS, **external_id_arrays())
            .get(pk=opportunity_id)
        )
        return Response(opportunity_rows([row])[0], status=code)

    @property
    def context(self) -> dict[str, Any]:
        return {"tenant": self.membership.tenant, "actor": self.membership}

    def write_external_ids(
        self,
        opportunity: Opportunity,
        external_ids: dict[str, Any] | None,
        customer_ids: dict[str, Any] | None = None,
    ) -> None:
        if external_ids:
            external_id_services.opportunity_external_ids_set(
                **self.context, opportunity_id=opportunity.pk, external_ids=external_ids
            )
        if customer_ids:
            external_id_services.customer_external_ids_set(
                **self.context, customer=opportunity.customer, external_ids=customer_ids
            )


def service_changes(data: dict[str, Any]) -> dict[str, Any]:
    """Validated input → the service's keyword arguments (qualification items are flat)."""
    changes = dict(data)
    changes.update(changes.pop("qualification", {}))
    return changes


class OpportunityListCreateApi(OpportunityScopedApi):
    """Deals the member may see, newest first, filterable, cursor-paginated. Partner reps see
    their own deals, partner admins their organization's. Vendor roles create direct deals."""

    write_roles = VENDOR
    filterset_class = OpportunityFilter
    pagination_class = LargeListPagination

    @extend_schema(responses={200: OpportunityOutput(many=True), **error_responses(400, 401, 403)})
    def get(self, request: Request) -> Response:
        rows = self.filter_queryset(self.get_queryset()).values(
            *OPPORTUNITY_COLUMNS, **external_id_arrays()
        )
        page = self.paginate_queryset(rows) or []
        return self.get_paginated_response(opportunity_rows(page))

    @extend_schema(
        request=OpportunityCreateInput,
        responses={201: OpportunityOutput, **error_responses(400, 401, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        data = service_changes(
            validate_input(OpportunityCreateInput, request, membership=self.membership)
        )
        customer_data, owner = data.pop("customer"), data.pop("owner_id", None)
        customer_ids = customer_data.pop("external_ids", None)
        external_ids = data.pop("external_ids", None)
        with transaction.atomic():  # a refused deal leaves no new customer behind
            customer, _ = customer_get_or_create(tenant=self.membership.tenant, **customer_data)
            opportunity = opportunity_services.opportunity_create_direct(
                **self.context, customer=customer, owner=owner, **data
            )
            self.write_external_ids(opportunity, external_ids, customer_ids)
        return self.output(opportunity.pk, status.HTTP_201_CREATED)


class OpportunityDetailApi(OpportunityScopedApi):
    """One deal. Its stage and status change only through the lifecycle endpoints."""

    conditional = True

    @extend_schema(responses={200: OpportunityOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            opportunity_rows([self.get_row(*OPPORTUNITY_COLUMNS, **external_id_arrays())])[0]
        )

    @extend_schema(
        request=OpportunityUpdateInput(partial=True),
        responses={200: OpportunityOutput, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        opportunity = self.get_object()
        data = validate_input(
            OpportunityUpdateInput, request, membership=self.membership, partial=True
        )
        external_ids = data.pop("external_ids", None)
        with transaction.atomic():  # the fields, the category and the ids: all or none
            self.write_external_ids(opportunity, external_ids)
            if "forecast_category" in data:
                opportunity_services.opportunity_set_forecast_category(
                    **self.context,
                    opportunity_id=opportunity.pk,
                    category=data.pop("forecast_category"),
                )
            if data:
                opportunity_services.opportunity_update(
                    **self.context, opportunity_id=opportunity.pk, **service_changes(data)
                )
        return self.output(opportunity.pk)


# --- Opportunity lifecycle ------------------------------------------------------------------------

ACTION_RESPONSES = {200: OpportunityOutput, **error_responses(400, 401, 403, 404, 409)}


class OpportunityActionApi(OpportunityScopedApi):
    """Base of a lifecycle action: POST its input, the service decides; 409 when refused,
    with `fields.missing` naming what is missing."""

    input_class: type[InputSerializer]

    def act(self, opportunity_id: int, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        opportunity = self.get_object()
        data = validate_input(self.input_class, request, membership=self.membership)
        self.act(opportunity.pk, data)
        return self.output(opportunity.pk)


class OpportunityMoveStageApi(OpportunityActionApi):
    """Move an open deal to another open stage. A forward move needs the entry criteria of
    every stage it passes and, leaving the first stage, the qualification (409 naming what
    is missing). Vendor admins may send `force` with a `force_reason`."""

    input_class = MoveStageInput

    @extend_schema(request=MoveStageInput, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, opportunity_id: int, data: dict[str, Any]) -> None:
        opportunity_services.opportunity_move_stage(
            **self.context,
            opportunity_id=opportunity_id,
            stage_id=data["stage_id"].pk,
            note=data.get("note", ""),
            force=data.get("force", False),
            force_reason=data.get("force_reason", ""),
        )


class OpportunityCloseWonApi(OpportunityActionApi):
    """Close as won: needs an amount, a close date (today or earlier) and the entry
    criteria of every stage it passes (409 naming what is missing). Vendor admins may send
    `force` with a `force_reason`."""

    input_class = CloseWonInput

    @extend_schema(request=CloseWonInput, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, opportunity_id: int, data: dict[str, Any]) -> None:
        opportunity_services.opportunity_close_won(
            **self.context, opportunity_id=opportunity_id, **data
        )


class OpportunityCloseLostApi(OpportunityActionApi):
    """Close as lost: needs one of the tenant's lost-reason codes."""

    input_class = CloseLostInput

    @extend_schema(request=CloseLostInput, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, opportunity_id: int, data: dict[str, Any]) -> None:
        opportunity_services.opportunity_close_lost(
            **self.context,
            opportunity_id=opportunity_id,
            reason_code=data.get("reason_code", ""),
            note=data.get("note", ""),
        )


class OpportunityReopenApi(OpportunityActionApi):
    """Reopen a won or lost deal in the stage it closed from (vendor roles)."""

    input_class = ReopenInput
    allowed_roles = VENDOR

    @extend_schema(request=ReopenInput, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, opportunity_id: int, data: dict[str, Any]) -> None:
        opportunity_services.opportunity_reopen(
            **self.context, opportunity_id=opportunity_id, note=data.get("note", "")
        )


# --- Activities -----------------------------------------------------------------------------------


class OpportunityActivitiesApi(OpportunityScopedApi):
    """A deal's timeline, latest first. Partner people never see vendor-internal notes."""

    @extend_schema(responses={200: ActivityOutput(many=True), **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        opportunity = self.get_object()
        activities = Activity.objects.visible_to(self.membership).filter(opportunity=opportunity)
        if self.membership.is_partner:
            activities = activities.filter(vendor_internal=False)
        page = self.paginate_queryset(activities.order_by("-occurred_at", "-id"))
        return self.get_paginated_response(ActivityOutput(page, many=True).data)

    @extend_schema(
        request=ActivityInput,
        responses={201: ActivityOutput, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        opportunity = self.get_object()
        data = validate_input(ActivityInput, request, membership=self.membership)
        activity = activity_services.activity_add(
            **self.context, opportunity_id=opportunity.pk, **data
        )
        return Response(ActivityOutput(activity).data, status=status.HTTP_201_CREATED)


# --- Co-sell requests -----------------------------------------------------------------------------


class OpportunityCoSellRequestsApi(OpportunityScopedApi):
    """A deal's co-sell requests, newest first. The partner working the deal asks for help."""

    write_roles = PARTNER

    @extend_schema(
        responses={200: CoSellRequestOutput(many=True), **error_responses(401, 403, 404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        opportunity = self.get_object()
        requests = (
            CoSellRequest.objects.visible_to(self.membership)
            .filter(opportunity=opportunity)
            .select_related("resource_type", "assigned_resource")
        )
        page = self.paginate_queryset(requests.order_by("-created_at", "-id"))
        return self.get_paginated_response(CoSellRequestOutput(page, many=True).data)

    @extend_schema(
        request=CoSellRequestInput,
        responses={201: CoSellRequestOutput, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        opportunity = self.get_object()
        data = validate_input(CoSellRequestInput, request, membership=self.membership)
        cosell = cosell_requests.cosell_request_create(
            **self.context, opportunity_id=opportunity.pk, **data
        )
        return Response(CoSellRequestOutput(cosell).data, status=status.HTTP_201_CREATED)

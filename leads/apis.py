"""REST API of leads: the scoped list, a vendor role's new lead, one lead (with the routing
explanation for vendor roles), and a partner's accept / decline of its offer.

Thin: role check (HasRole) → scoped lookup (sealed base: another tenant's lead, or one
never offered to the member's partner, is a 404) → input → one service → re-read."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.pagination import LargeListPagination
from accounts.rest import PARTNER, VENDOR, ScopedGenericApi
from accounts.serializers import error_responses, validate_input
from accounts.tenancy import TenantQuerySet
from leads.models import Lead
from leads.selectors import lead_list_for, routing_explanation
from leads.serializers import (
    ConvertInput,
    ConvertOutput,
    DeclineInput,
    LeadInput,
    LeadOutput,
    StatusInput,
)
from leads.services.intake import lead_create
from leads.services.offers import offer_accept, offer_decline
from leads.services.working import lead_convert, lead_status_update
from pipeline.apis.base import JsonApi


class LeadDetailOutput(LeadOutput):
    routing = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="Vendor roles only: each offer's stored decision (candidates, each rule's "
        "pass/fail, each score part, the policy version).",
    )


class LeadScopedApi(JsonApi, ScopedGenericApi):
    model = Lead
    queryset = Lead.objects.none()  # for schema introspection
    allowed_roles = VENDOR | PARTNER

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return lead_list_for(membership=self.acting_membership) & queryset

    @property
    def context(self) -> dict[str, Any]:
        return {"tenant": self.membership.tenant, "actor": self.membership}

    def output(self, lead_id: int, code: int = status.HTTP_200_OK) -> Response:
        lead = self.get_queryset().get(pk=lead_id)
        data = dict(LeadOutput(lead).data)
        if self.membership.is_vendor:
            data["routing"] = [routing_explanation(offer) for offer in lead.offers.all()]
        return Response(data, status=code)


class LeadListCreateApi(LeadScopedApi):
    """Leads newest first: vendor roles see the tenant's; partner people those offered to
    their organization, with their own offers only. Vendor roles create."""

    write_roles = VENDOR
    pagination_class = LargeListPagination

    @extend_schema(responses={200: LeadOutput(many=True), **error_responses(400, 401, 403)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(LeadOutput(page, many=True).data)

    @extend_schema(
        request=LeadInput, responses={201: LeadDetailOutput, **error_responses(400, 401, 403)}
    )
    def post(self, request: Request) -> Response:
        data = validate_input(LeadInput, request, membership=self.membership)
        lead = lead_create(**self.context, data=data)
        return self.output(lead.pk, status.HTTP_201_CREATED)


class LeadDetailApi(LeadScopedApi):
    conditional = True

    @extend_schema(responses={200: LeadDetailOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return self.output(self.get_object().pk)


class LeadAcceptApi(LeadScopedApi):
    """The member's partner accepts its open offer; the acceptor owns the lead."""

    allowed_roles = PARTNER

    @extend_schema(request=None, responses={200: LeadOutput, **error_responses(401, 403, 404, 409)})
    def post(self, request: Request, pk: int) -> Response:
        lead = self.get_object()
        offer_accept(**self.context, lead_id=lead.pk)
        return self.output(lead.pk)


class LeadDeclineApi(LeadScopedApi):
    """The member's partner declines its open offer with a reason code and a note."""

    allowed_roles = PARTNER

    @extend_schema(
        request=DeclineInput,
        responses={200: LeadOutput, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        lead = self.get_object()
        data = validate_input(DeclineInput, request, membership=self.membership)
        offer_decline(**self.context, lead_id=lead.pk, **data)
        return self.output(lead.pk)


class LeadStatusApi(LeadScopedApi):
    """The accepting partner records its progress: contacted, qualified, disqualified
    (with the reason in `note`)."""

    allowed_roles = PARTNER

    @extend_schema(
        request=StatusInput, responses={200: LeadOutput, **error_responses(400, 401, 403, 404, 409)}
    )
    def post(self, request: Request, pk: int) -> Response:
        lead = self.get_object()
        data = validate_input(StatusInput, request, membership=self.membership)
        lead_status_update(**self.context, lead_id=lead.pk, **data)
        return self.output(lead.pk)


class LeadConvertApi(LeadScopedApi):
    """The accepting partner converts the lead into a submitted deal registration, pre-filled
    from the lead and screened like any other; answers the new registration's id."""

    allowed_roles = PARTNER

    @extend_schema(
        request=ConvertInput,
        responses={201: ConvertOutput, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        lead = self.get_object()
        data = validate_input(ConvertInput, request, membership=self.membership)
        registration = lead_convert(**self.context, lead_id=lead.pk, **data)
        return Response({"registration_id": registration.pk}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("leads/", LeadListCreateApi.as_view(), name="lead-list"),
    path("leads/<int:pk>/", LeadDetailApi.as_view(), name="lead-detail"),
    path("leads/<int:pk>/accept/", LeadAcceptApi.as_view(), name="lead-accept"),
    path("leads/<int:pk>/decline/", LeadDeclineApi.as_view(), name="lead-decline"),
    path("leads/<int:pk>/status/", LeadStatusApi.as_view(), name="lead-status"),
    path("leads/<int:pk>/convert/", LeadConvertApi.as_view(), name="lead-convert"),
]

"""Co-sell over the API: the pool (vendor admins write, vendor people read), the requests
(vendor: all of the tenant's; partner: their own organization's) and their lifecycle."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import Conflict
from accounts.pagination import LargeListPagination
from accounts.rest import VENDOR, VENDOR_ADMIN, ScopedGenericApi
from accounts.serializers import InputSerializer, error_responses, validate_input
from pipeline.apis.base import JsonApi
from pipeline.cosell_serializers import (
    CoSellEngageInput,
    CoSellResourceInput,
    CoSellResourceOutput,
    CoSellResourceUpdateInput,
)
from pipeline.models import CoSellRequest, CoSellResource
from pipeline.selectors.cosell import cosell_resource_list
from pipeline.serializers import (
    CoSellAssignInput,
    CoSellDeclineInput,
    CoSellRequestOutput,
)
from pipeline.services import cosell_pool, cosell_requests

COSELL_RESPONSES = {200: CoSellRequestOutput, **error_responses(400, 401, 403, 404, 409)}
REQUEST_JOINS = ("resource_type", "assigned_resource")


# --- Requests -----------------------------------------------------------------------------------


class CoSellRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CoSellRequest.Status.choices)
    opportunity_id = django_filters.NumberFilter(field_name="opportunity_id")

    class Meta:
        model = CoSellRequest
        fields = ("status", "opportunity_id")


class CoSellRequestListApi(ScopedGenericApi):
    """Co-sell requests, newest first: the vendor's people see the tenant's; a partner admin
    their organization's; a partner rep those on their own deals."""

    model = CoSellRequest
    queryset = CoSellRequest.objects.none()
    filterset_class = CoSellRequestFilter
    pagination_class = LargeListPagination

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.select_related(*REQUEST_JOINS)

    @extend_schema(
        responses={200: CoSellRequestOutput(many=True), **error_responses(400, 401, 403)}
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        return self.get_paginated_response(CoSellRequestOutput(page, many=True).data)


class CoSellActionApi(JsonApi, ScopedGenericApi):
    """Base of the actions on a co-sell request: the request must be visible (404
    otherwise), then its input is validated and the service decides (409 if refused)."""

    model = CoSellRequest
    queryset = CoSellRequest.objects.none()
    allowed_roles = VENDOR
    input_class: type[InputSerializer] | None = None

    def post(self, request: Request, pk: int) -> Response:
        cosell = self.get_object()
        data = (
            validate_input(self.input_class, request, membership=self.membership)
            if self.input_class
            else {}
        )
        decided = self.decide(
            tenant=self.membership.tenant, actor=self.membership, request_id=cosell.pk, **data
        )
        return self.output(decided)

    def output(self, cosell: CoSellRequest) -> Response:
        fresh = self.get_queryset().select_related(*REQUEST_JOINS).get(pk=cosell.pk)
        return Response(CoSellRequestOutput(fresh).data)

    def decide(self, **kwargs: Any) -> CoSellRequest:
        raise NotImplementedError


class CoSellAssignApi(CoSellActionApi):
    """Assign the request: with no `person_id`, to the least loaded eligible pool member
    with headroom this week (then matching region and product line); with one, to that
    member, and a `reason` is required. Nobody with headroom: 409 `no_capacity`, and the
    refusal is recorded (`capacity_refused_at`)."""

    input_class = CoSellAssignInput

    @extend_schema(request=CoSellAssignInput, responses=COSELL_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, **kwargs: Any) -> CoSellRequest:
        return cosell_requests.cosell_request_assign(**kwargs)  # type: ignore[return-value]

    def output(self, cosell: Any) -> Response:
        if cosell.refused_for_capacity:  # answered, not raised: the refusal stays recorded
            error = Conflict("Nobody eligible has headroom this week.")
            body = {"error": {"code": "no_capacity", "message": error.message, "fields": {}}}
            return Response(body, status=status.HTTP_409_CONFLICT)
        return super().output(cosell.request)


class CoSellEngageApi(CoSellActionApi):
    """The assignee logs the first contact (stops the clock)."""

    input_class = CoSellEngageInput

    @extend_schema(request=CoSellEngageInput, responses=COSELL_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, **kwargs: Any) -> CoSellRequest:
        return cosell_requests.cosell_request_engage(**kwargs)


class CoSellDeclineApi(CoSellActionApi):
    """Decline a requested or assigned co-sell, with the reason the partner will read."""

    input_class = CoSellDeclineInput

    @extend_schema(request=CoSellDeclineInput, responses=COSELL_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, **kwargs: Any) -> CoSellRequest:
        return cosell_requests.cosell_request_decline(**kwargs)


class CoSellCompleteApi(CoSellActionApi):
    """Mark an engaged co-sell as completed."""

    @extend_schema(request=None, responses=COSELL_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, **kwargs: Any) -> CoSellRequest:
        return cosell_requests.cosell_request_complete(**kwargs)


class CoSellCancelApi(CoSellActionApi):
    """Withdraw a request nobody engaged on yet (the partner who sees it, or the vendor)."""

    allowed_roles = None

    @extend_schema(request=None, responses=COSELL_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, **kwargs: Any) -> CoSellRequest:
        return cosell_requests.cosell_request_cancel(**kwargs)


# --- The pool -----------------------------------------------------------------------------------


class CoSellResourceScopedApi(JsonApi, ScopedGenericApi):
    model = CoSellResource
    queryset = CoSellResource.objects.none()
    allowed_roles = VENDOR
    write_roles = VENDOR_ADMIN

    def refine_queryset(self, queryset: Any) -> Any:
        return cosell_resource_list(tenant=self.membership.tenant).filter(
            pk__in=queryset.values("pk")
        )

    def output(self, resource_id: int, code: int = status.HTTP_200_OK) -> Response:
        return Response(CoSellResourceOutput(self.get_queryset().get(pk=resource_id)).data, code)


class CoSellResourceListCreateApi(CoSellResourceScopedApi):
    """The co-sell pool (vendor people read it; vendor admins add people)."""

    @extend_schema(responses={200: CoSellResourceOutput(many=True), **error_responses(401, 403)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response(CoSellResourceOutput(page, many=True).data)

    @extend_schema(
        request=CoSellResourceInput,
        responses={201: CoSellResourceOutput, **error_responses(400, 401, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        data = validate_input(CoSellResourceInput, request, membership=self.membership)
        resource = cosell_pool.cosell_resource_create(
            tenant=self.membership.tenant, actor=self.membership, **data
        )
        return self.output(resource.pk, status.HTTP_201_CREATED)


class CoSellResourceDetailApi(CoSellResourceScopedApi):
    """One pool member; vendor admins change their types, regions, product lines, capacity."""

    @extend_schema(responses={200: CoSellResourceOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(CoSellResourceOutput(self.get_object()).data)

    @extend_schema(
        request=CoSellResourceUpdateInput,
        responses={200: CoSellResourceOutput, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        resource = self.get_object()
        data = validate_input(
            CoSellResourceUpdateInput, request, membership=self.membership, partial=True
        )
        cosell_pool.cosell_resource_update(
            tenant=self.membership.tenant, actor=self.membership, resource_id=resource.pk, **data
        )
        return self.output(resource.pk)

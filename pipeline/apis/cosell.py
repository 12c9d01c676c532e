"""Co-sell requests: the vendor's answers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.rest import VENDOR, ScopedGenericApi
from accounts.serializers import InputSerializer, error_responses, validate_input
from pipeline.apis.base import JsonApi
from pipeline.models import CoSellRequest
from pipeline.serializers import (
    CoSellAssignInput,
    CoSellDeclineInput,
    CoSellRequestOutput,
)
from pipeline.services import activities as activity_services

COSELL_RESPONSES = {200: CoSellRequestOutput, **error_responses(400, 401, 403, 404, 409)}


class CoSellActionApi(JsonApi, ScopedGenericApi):
    """Base of the vendor's decisions on a co-sell request: the request must be visible
    (404 otherwise), then its input is validated and the service decides (409 if refused)."""

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
        return Response(CoSellRequestOutput(decided).data)

    def decide(self, **kwargs: Any) -> CoSellRequest:
        raise NotImplementedError


class CoSellAssignApi(CoSellActionApi):
    """Assign one of the vendor's people to a requested co-sell."""

    input_class = CoSellAssignInput

    @extend_schema(request=CoSellAssignInput, responses=COSELL_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, *, assignee_id: User, **kwargs: Any) -> CoSellRequest:
        return activity_services.cosell_request_assign(assignee=assignee_id, **kwargs)


class CoSellDeclineApi(CoSellActionApi):
    """Decline a requested or assigned co-sell, with the reason the partner will read."""

    input_class = CoSellDeclineInput

    @extend_schema(request=CoSellDeclineInput, responses=COSELL_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, **kwargs: Any) -> CoSellRequest:
        return activity_services.cosell_request_decline(**kwargs)


class CoSellCompleteApi(CoSellActionApi):
    """Mark an assigned co-sell as done."""

    @extend_schema(request=None, responses=COSELL_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, **kwargs: Any) -> CoSellRequest:
        return activity_services.cosell_request_complete(**kwargs)

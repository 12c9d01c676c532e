"""REST API of outbound webhooks (vendor admins only): endpoints, deliveries, redelivery.

Thin: role check (HasRole) → scoped lookup (sealed base) → input serializer → one service.
"""

from __future__ import annotations

import django_filters
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.filter_backends import ListFilterBackend
from accounts.parsers import BoundedJSONParser
from accounts.rest import VENDOR, VENDOR_ADMIN, MembershipApi, ScopedGenericApi
from accounts.serializers import error_responses, validate_input
from accounts.tenancy import TenantQuerySet
from integrations import selectors
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.serializers import (
    DeliveryDetailOutput,
    DeliveryOutput,
    EndpointCreateInput,
    EndpointOutput,
    EndpointUpdateInput,
    EndpointWithSecretOutput,
    FeedPageOutput,
    FeedQueryInput,
    RedeliverFailedInput,
    RedeliverFailedOutput,
)
from integrations.services import deliveries, endpoints


class WebhookApi(ScopedGenericApi):
    parser_classes = (BoundedJSONParser,)
    allowed_roles = VENDOR_ADMIN
    filter_backends = ()


class EndpointListCreateApi(WebhookApi):
    """The tenant's webhook endpoints; POST registers one and answers its secret once."""

    model = WebhookEndpoint
    queryset = WebhookEndpoint.objects.none()

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return queryset.order_by("-id")

    @extend_schema(responses={200: EndpointOutput(many=True), **error_responses(401, 403)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(EndpointOutput(page, many=True).data)

    @extend_schema(
        request=EndpointCreateInput,
        responses={201: EndpointWithSecretOutput, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validate_input(EndpointCreateInput, request, membership=self.membership)
        endpoint = endpoints.webhook_endpoint_create(
            tenant=self.membership.tenant, actor=self.membership, **data
        )
        return Response(EndpointWithSecretOutput(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailApi(WebhookApi):
    conditional = True
    model = WebhookEndpoint
    queryset = WebhookEndpoint.objects.none()

    @extend_schema(responses={200: EndpointOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(EndpointOutput(self.get_object()).data)

    @extend_schema(
        request=EndpointUpdateInput,
        responses={200: EndpointOutput, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        endpoint = self.get_object()
        data = validate_input(
            EndpointUpdateInput, request, membership=self.membership, partial=True
        )
        endpoint = endpoints.webhook_endpoint_update(
            tenant=self.membership.tenant, actor=self.membership, endpoint_id=endpoint.pk, **data
        )
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(request=None, responses={204: None, **error_responses(401, 403, 404)})
    def delete(self, request: Request, pk: int) -> Response:
        """Delete the endpoint with its deliveries and their attempt log (disable it to keep
        them); audited."""
        endpoints.webhook_endpoint_delete(
            tenant=self.membership.tenant, actor=self.membership, endpoint_id=self.get_object().pk
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotateSecretApi(WebhookApi):
    """A new secret; for 24 hours messages are signed with the old and the new one."""

    model = WebhookEndpoint
    queryset = WebhookEndpoint.objects.none()

    @extend_schema(
        request=None, responses={200: EndpointWithSecretOutput, **error_responses(401, 403, 404)}
    )
    def post(self, request: Request, pk: int) -> Response:
        endpoint = endpoints.webhook_endpoint_rotate_secret(
            tenant=self.membership.tenant, actor=self.membership, endpoint_id=self.get_object().pk
        )
        return Response(EndpointWithSecretOutput(endpoint).data)


class EndpointPingApi(WebhookApi):
    """Send a `webhook.ping` test message now; its delivery is answered (202)."""

    model = WebhookEndpoint
    queryset = WebhookEndpoint.objects.none()

    @extend_schema(request=None, responses={202: DeliveryOutput, **error_responses(401, 403, 404)})
    def post(self, request: Request, pk: int) -> Response:
        delivery = deliveries.webhook_endpoint_ping(
            tenant=self.membership.tenant, actor=self.membership, endpoint_id=self.get_object().pk
        )
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryFilter(django_filters.FilterSet):
    endpoint_id = django_filters.NumberFilter(field_name="endpoint_id")
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)

    class Meta:
        model = WebhookDelivery
        fields = ("endpoint_id", "status")


class DeliveryListApi(WebhookApi):
    """Deliveries, newest first; `?endpoint_id=` and `?status=` narrow them."""

    model = WebhookDelivery
    queryset = WebhookDelivery.objects.none()
    filter_backends = (ListFilterBackend,)
    filterset_class = DeliveryFilter

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return selectors.webhook_delivery_list_for(membership=self.acting_membership) & queryset

    @extend_schema(responses={200: DeliveryOutput(many=True), **error_responses(400, 401, 403)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(DeliveryOutput(page, many=True).data)


class DeliveryDetailApi(WebhookApi):
    """One delivery with its body and its attempts (status, latency, first 2 KB answered)."""

    conditional = True

    model = WebhookDelivery
    queryset = WebhookDelivery.objects.none()

    @extend_schema(responses={200: DeliveryDetailOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        delivery = self.get_object()
        delivery.attempt_list = selectors.webhook_attempt_list(delivery=delivery)  # type: ignore[attr-defined]
        return Response(DeliveryDetailOutput(delivery).data)


class DeliveryRedeliverApi(WebhookApi):
    """Send this message again (same webhook-id) with a fresh retry schedule."""

    model = WebhookDelivery
    queryset = WebhookDelivery.objects.none()

    @extend_schema(request=None, responses={202: DeliveryOutput, **error_responses(401, 403, 404)})
    def post(self, request: Request, pk: int) -> Response:
        delivery = deliveries.webhook_redeliver(
            tenant=self.membership.tenant, actor=self.membership, delivery_id=self.get_object().pk
        )
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryRedeliverFailedApi(WebhookApi):
    """Send again every failed delivery created since `since` (of one endpoint, or all)."""

    model = WebhookDelivery
    queryset = WebhookDelivery.objects.none()

    @extend_schema(
        request=RedeliverFailedInput,
        responses={202: RedeliverFailedOutput, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        data = validate_input(RedeliverFailedInput, request, membership=self.membership)
        count = deliveries.webhook_redeliver_failed(
            tenant=self.membership.tenant,
            actor=self.membership,
            since=data["since"],
            endpoint_id=data.get("endpoint_id"),
        )
        return Response({"redelivered": count}, status=status.HTTP_202_ACCEPTED)


class EventFeedApi(MembershipApi):
    """The tenant's change feed: events in commit order with a gapless per-tenant `seq`.
    Read on with `?after=<next_after>`; `?types=a,b` narrows it. Vendor roles."""

    allowed_roles = VENDOR

    @extend_schema(
        parameters=[FeedQueryInput],
        responses={200: FeedPageOutput, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = FeedQueryInput(data=request.query_params.dict(), context={})
        query.is_valid(raise_exception=True)
        page = selectors.feed_read(tenant=self.membership.tenant, **query.validated_data)
        return Response(FeedPageOutput(page).data)


urlpatterns = [
    path("events/", EventFeedApi.as_view(), name="events"),
    path("webhook-endpoints/", EndpointListCreateApi.as_view(), name="webhook_endpoints"),
    path("webhook-endpoints/<int:pk>/", EndpointDetailApi.as_view(), name="webhook_endpoint"),
    path(
        "webhook-endpoints/<int:pk>/rotate-secret/",
        EndpointRotateSecretApi.as_view(),
        name="webhook_endpoint_rotate_secret",
    ),
    path(
        "webhook-endpoints/<int:pk>/ping/", EndpointPingApi.as_view(), name="webhook_endpoint_ping"
    ),
    path("webhook-deliveries/", DeliveryListApi.as_view(), name="webhook_deliveries"),
    path(
        "webhook-deliveries/redeliver-failed/",
        DeliveryRedeliverFailedApi.as_view(),
        name="webhook_deliveries_redeliver_failed",
    ),
    path("webhook-deliveries/<int:pk>/", DeliveryDetailApi.as_view(), name="webhook_delivery"),
    path(
        "webhook-deliveries/<int:pk>/redeliver/",
        DeliveryRedeliverApi.as_view(),
        name="webhook_delivery_redeliver",
    ),
]

"""REST API of the forecast: the rollup, targets and adjustments (under /api/v1/).

Vendor roles read the whole tenant's forecast; partner people read their own organization's
(a partner admin, beside the tenant's median partner) or their own deals (a rep), never
another partner's figures. Targets are read by vendor roles and set by vendor admins;
adjustments are recorded by vendor roles.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import ValidationFailed
from accounts.models import Membership
from accounts.parsers import BoundedJSONParser
from accounts.rest import VENDOR, VENDOR_ADMIN, MembershipApi
from accounts.serializers import error_responses, validate_input
from analytics.models import ForecastTarget
from analytics.periods import Period, current_quarter, period_of_tenant
from analytics.selectors.forecast import ForecastRow, forecast_for_tenant
from analytics.selectors.partner_forecast import partner_forecast
from analytics.serializers import (
    AdjustmentInput,
    AdjustmentOutput,
    ForecastOutput,
    ForecastQuery,
    TargetInput,
    TargetOutput,
    TargetQuery,
)
from analytics.services.adjustments import adjustment_record
from analytics.services.targets import target_set


def query_period(membership: Membership, label: str | None) -> Period:
    if not label:
        return current_quarter(membership.tenant)
    return period_of_tenant(membership.tenant, label)


def row_data(row: ForecastRow) -> dict[str, Any]:
    return {**row.__dict__, "coverage": row.coverage}


class ForecastApi(MembershipApi):
    """The forecast of a period grouped by partner, tier, region, product line or channel
    manager, with the tenant's total (see analytics/selectors/forecast.py)."""

    @extend_schema(
        parameters=[ForecastQuery],
        responses={200: ForecastOutput, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = ForecastQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = query_period(self.membership, query.validated_data.get("period"))
        group_by = query.validated_data["group_by"]
        if self.membership.is_partner:
            return Response(self.partner_data(period, group_by))
        forecast = forecast_for_tenant(
            tenant=self.membership.tenant, period=period, group_by=group_by
        )
        data = {
            "period": period.label,
            "group_by": group_by,
            "currency": forecast.currency,
            "rows": [row_data(row) for row in forecast.rows],
            "total": row_data(forecast.total),
        }
        return Response(ForecastOutput(data).data)

    def partner_data(self, period: Period, group_by: str) -> dict[str, Any]:
        if group_by != "partner":
            message = "Partner people see their own organization: group_by=partner only."
            raise ValidationFailed(message, fields={"group_by": [message]})
        forecast = partner_forecast(membership=self.membership, period=period)
        data: dict[str, Any] = {
            "period": period.label,
            "group_by": group_by,
            "currency": forecast.currency,
            "rows": [row_data(forecast.own)],
            "total": row_data(forecast.own),
        }
        if forecast.median is not None:
            data["median"] = row_data(forecast.median)
        return ForecastOutput(data).data


class TargetsApi(MembershipApi):
    """GET: the period's targets (vendor roles). PUT: set one target (vendor admins): the
    tenant's, a tier's or a partner's; the same scope again replaces the amount."""

    parser_classes = (BoundedJSONParser,)
    allowed_roles = VENDOR
    write_roles = VENDOR_ADMIN

    @extend_schema(
        parameters=[TargetQuery],
        responses={200: TargetOutput(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = TargetQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = query_period(self.membership, query.validated_data.get("period"))
        targets = ForecastTarget.objects.for_tenant(self.membership.tenant).filter(
            period=period.label
        )
        return Response(TargetOutput(targets.order_by("scope", "id"), many=True).data)

    @extend_schema(
        request=TargetInput, responses={200: TargetOutput, **error_responses(400, 401, 403)}
    )
    def put(self, request: Request) -> Response:
        data = validate_input(TargetInput, request, membership=self.membership)
        target = target_set(tenant=self.membership.tenant, actor=self.membership, **data)
        return Response(TargetOutput(target).data)


class ForecastAdjustmentApi(MembershipApi):
    """Record an adjustment of a partner's or tier's commit figure for a period, with why."""

    parser_classes = (BoundedJSONParser,)
    allowed_roles = VENDOR

    @extend_schema(
        request=AdjustmentInput,
        responses={201: AdjustmentOutput, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validate_input(AdjustmentInput, request, membership=self.membership)
        adjustment = adjustment_record(tenant=self.membership.tenant, actor=self.membership, **data)
        return Response(AdjustmentOutput(adjustment).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("forecast/", ForecastApi.as_view(), name="forecast"),
    path("targets/", TargetsApi.as_view(), name="targets"),
    path("forecast-adjustments/", ForecastAdjustmentApi.as_view(), name="forecast-adjustments"),
]

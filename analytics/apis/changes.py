"""GET /api/v1/pipeline-changes/: the waterfall between two moments, same scope as the
Changes page (vendor roles: the tenant; partner admins: their organization; partner
reps: their own deals). Definitions: analytics/selectors/changes.py."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import ValidationFailed
from accounts.rest import MembershipApi
from accounts.serializers import error_responses
from analytics.changes_forms import ChangesQueryForm
from analytics.selectors.changes import PARTS, ChangeScope, pipeline_changes

MONEY = {"max_digits": 16, "decimal_places": 2}


class PartsOutput(serializers.Serializer):
    new = serializers.DecimalField(**MONEY)
    pulled_in = serializers.DecimalField(**MONEY)
    pushed_out = serializers.DecimalField(**MONEY)
    amount_up = serializers.DecimalField(**MONEY)
    amount_down = serializers.DecimalField(**MONEY)
    won = serializers.DecimalField(**MONEY)
    lost = serializers.DecimalField(**MONEY)
    reopened = serializers.DecimalField(**MONEY)


class CountsOutput(serializers.Serializer):
    new = serializers.IntegerField()
    pulled_in = serializers.IntegerField()
    pushed_out = serializers.IntegerField()
    amount_up = serializers.IntegerField()
    amount_down = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    reopened = serializers.IntegerField()


class PipelineChangesOutput(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    period = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    start_total = serializers.DecimalField(**MONEY)
    end_total = serializers.DecimalField(**MONEY)
    parts = PartsOutput(help_text="start_total + the sum of the parts == end_total.")
    counts = CountsOutput(help_text="Deals behind each part.")


QUERY = [
    OpenApiParameter("since", str, description="ISO date or date-time; default 7 days ago."),
    OpenApiParameter("until", str, description="ISO date or date-time; default now."),
    OpenApiParameter(
        "period", str, description="Close-date period: 2027-Q1 or 2027-03; empty: all open deals."
    ),
]


class PipelineChangesApi(MembershipApi):
    """The pipeline total at `since` and at `until` and the parts that explain the
    difference exactly: new, pulled_in, pushed_out, amount_up, amount_down, won, lost,
    reopened (each changed deal in exactly one part; decimal strings)."""

    @extend_schema(
        parameters=QUERY, responses={200: PipelineChangesOutput, **error_responses(400, 401, 403)}
    )
    def get(self, request: Request) -> Response:
        tenant = self.membership.tenant
        unknown = set(request.query_params) - {"since", "until", "period"}
        form = ChangesQueryForm(request.query_params, tenant=tenant)
        if unknown or not form.is_valid():
            fields: dict[str, Any] = {k: list(v) for k, v in form.errors.items()}
            fields |= {name: ["Unknown parameter."] for name in sorted(unknown)}
            raise ValidationFailed("Invalid query.", fields=fields)
        data = form.cleaned_data
        changes = pipeline_changes(
            scope=ChangeScope.of(self.membership),
            since=data["since"],
            until=data["until"],
            period=data["period"],
        )
        output = {
            "since": changes.since,
            "until": changes.until,
            "period": changes.period.label if changes.period else None,
            "currency": tenant.currency,
            "start_total": changes.start_total,
            "end_total": changes.end_total,
            "parts": {part: changes.parts[part] for part in PARTS},
            "counts": changes.counts,
        }
        return Response(PipelineChangesOutput(output).data)


urlpatterns = [
    path("pipeline-changes/", PipelineChangesApi.as_view(), name="pipeline-changes"),
]

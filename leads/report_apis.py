"""`GET /api/v1/leads/reports/?since=&until=&tier_id=&partner_id=&source=`: the lead
reports of the vendor page (leads/views/reports.py), every figure as defined in
leads/reports.py. Vendor roles only (partner people: 403). A malformed query is a 400 in
the one error shape, naming the field."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import ValidationFailed
from accounts.rest import VENDOR, MembershipApi
from accounts.serializers import error_responses
from leads.report_forms import LeadReportForm
from leads.reports import GINI_FORMULA, GROUPINGS, STEPS, FunnelRow, lead_report
from leads.services.policy import calendar_of, routing_policy_for


class LeadReportQuery(serializers.Serializer):
    """The query (for the schema; the form checks the values)."""

    since = serializers.DateTimeField(required=False, help_text="Default: 90 days before until.")
    until = serializers.DateTimeField(required=False, help_text="Default: now.")
    tier_id = serializers.IntegerField(required=False)
    partner_id = serializers.IntegerField(required=False)
    source = serializers.CharField(required=False, help_text="A lead source, exactly.")


def funnel_data(row: FunnelRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "label": row.label,
        "counts": row.counts,
        "rates": row.rates,
        "median_hours": row.hours,
        "time_to_accept": {
            "unit": "business_hours",
            "median": row.response_median,
            "p90": row.response_p90,
        },
    }


class LeadReportApi(MembershipApi):
    """Funnel by partner, tier and source; time to accept; fairness and its Gini."""

    allowed_roles = VENDOR

    @extend_schema(
        parameters=[LeadReportQuery], responses={200: dict, **error_responses(400, 401, 403)}
    )
    def get(self, request: Request) -> Response:
        form = LeadReportForm(request.query_params, membership=self.membership)
        if not form.is_valid():
            fields, message = form.first_error()
            raise ValidationFailed(message, fields=fields)
        calendar = calendar_of(routing_policy_for(self.membership.tenant))
        report = lead_report(form.report_query(calendar))
        query = report.query
        return Response(
            {
                "since": query.since.isoformat(),
                "until": query.until.isoformat(),
                "steps": [code for code, _ in STEPS],
                "business_hours": asdict(calendar),
                "total": funnel_data(report.total),
                "groups": {
                    name: [funnel_data(row) for row in report.groups[name]] for name, _ in GROUPINGS
                },
                "fairness": {
                    "gini": report.gini,
                    "definition": GINI_FORMULA,
                    "partners": [asdict(row) for row in report.fairness],
                },
            }
        )


urlpatterns = [path("leads/reports/", LeadReportApi.as_view(), name="lead-reports")]

"""`GET /api/v1/metrics/?period=&partner_id=&tier_id=&region=&product_line=`: the same
figures, scoping and query as the Metrics pages (analytics/views/metrics.py).

Vendor roles get the total, each stage, every grouping and the flags. Partner admins get
their organization's figures with `tenant_median` beside each (never another partner's
figure, name or count); partner reps the figures of the deals they own. A malformed query
is a 400 in the one error shape, naming the field.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import ValidationFailed
from accounts.rest import MembershipApi
from accounts.serializers import error_responses
from analytics.metrics_forms import MetricsQueryForm
from analytics.selectors.flags import Flags, flags_for
from analytics.selectors.metrics import (
    FIGURES,
    GROUPINGS,
    MetricRow,
    Metrics,
    metrics_for_partner,
    metrics_for_tenant,
)


class MetricsQuery(serializers.Serializer):
    """The query (for the schema; the form checks the values)."""

    period = serializers.CharField(required=False, help_text="2027-Q1 or 2027-03.")
    partner_id = serializers.IntegerField(required=False, help_text="Vendor roles only.")
    tier_id = serializers.IntegerField(required=False)
    region = serializers.CharField(required=False, help_text="NA, LATAM, EMEA or APAC.")
    product_line = serializers.CharField(required=False, help_text="A product line's code.")


def _number(value: Any) -> str | None:
    return None if value is None else str(value)


def row_data(row: MetricRow, *, with_basis: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {"key": row.key, "label": row.label}
    data.update({f.code: _number(row.values[f.code]) for f in FIGURES})
    if with_basis:
        data["basis"] = row.basis
    return data


def stage_data(metrics: Metrics, *, medians: bool) -> list[dict[str, Any]]:
    result = []
    for row in metrics.stages:
        data = {
            "stage_id": row.stage.pk,
            "stage": row.stage.name,
            "stale_after_days": row.stage.stale_after_days,
            "stage_days": _number(row.stage_days),
            "visits": row.visits,
            "over_threshold": row.over_threshold,
            "conversion_rate": _number(row.conversion_rate),
            "entered": row.entered,
        }
        if medians:
            data["tenant_median"] = {
                "stage_days": _number(row.median_stage_days),
                "conversion_rate": _number(row.median_conversion_rate),
            }
        result.append(data)
    return result


def flags_data(flags: Flags, *, with_partners: bool) -> dict[str, Any]:
    total = flags.total
    data: dict[str, Any] = {
        "open_deals": total.open_deals,
        "flagged": total.flagged,
        "flagged_amount": str(total.flagged_amount),
        "by_reason": total.by_reason,
        "deals": [
            {
                "id": deal.id,
                "name": deal.name,
                "amount": _number(deal.amount),
                "currency": deal.currency,
                "stage": deal.stage_name,
                "reasons": [reason.code for reason in deal.reasons],
                **({"partner_id": deal.partner_id} if with_partners else {}),
            }
            for deal in flags.deals
        ],
    }
    if with_partners:
        data["partners"] = [
            {
                "partner_id": p.partner_id,
                "partner": p.partner_name,
                "open_deals": p.counts.open_deals,
                "flagged": p.counts.flagged,
                "flagged_share": _number(p.counts.share),
                "flagged_partner": p.counts.partner_flagged,
            }
            for p in flags.partners
        ]
    return data


def figures_data() -> list[dict[str, str]]:
    return [
        {"code": f.code, "label": f.label, "unit": f.unit, "formula": f.formula} for f in FIGURES
    ]


class MetricsApi(MembershipApi):
    """The effectiveness metrics and inflation flags, scoped like the Metrics pages."""

    @extend_schema(
        parameters=[MetricsQuery],
        responses={200: dict, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        membership = self.membership
        form = MetricsQueryForm(request.query_params, membership=membership)
        if not form.is_valid():
            fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
            raise ValidationFailed(next(iter(fields.values()))[0], fields=fields)
        period = form.cleaned_data["period"]
        head = {
            "period": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "figures": figures_data(),
        }
        if not membership.is_partner:
            metrics = metrics_for_tenant(
                tenant=membership.tenant, period=period, filters=form.filters()
            )
            return Response(
                {
                    **head,
                    "expected_cycle_days": str(metrics.expected_cycle_days),
                    "total": row_data(metrics.total),
                    "stages": stage_data(metrics, medians=False),
                    "groups": {
                        name: [row_data(row) for row in metrics.groups[name]]
                        for name, _ in GROUPINGS
                    },
                    "flags": flags_data(flags_for(scope=form.scope()), with_partners=True),
                }
            )
        metrics = metrics_for_partner(membership=membership, period=period, filters=form.filters())
        medians = metrics.medians
        data = {
            **head,
            "expected_cycle_days": str(metrics.expected_cycle_days),
            "total": row_data(metrics.total),
            "stages": stage_data(metrics, medians=medians is not None),
            "flags": flags_data(
                flags_for(scope=form.scope(), per_partner=False), with_partners=False
            ),
        }
        if medians is not None:
            data["tenant_median"] = {code: _number(value) for code, value in medians.items()}
        return Response(data)


urlpatterns = [path("metrics/", MetricsApi.as_view(), name="metrics")]

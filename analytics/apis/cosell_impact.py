"""`GET /api/v1/cosell-impact/?since=&until=&tier_id=`: the co-sell impact report
(analytics/selectors/cosell_impact.py) for vendor roles; partner people get 403.

For each measure (`win_rate`, `deal_size`, `cycle_days`), overall and per stratum:
`{with, without, with_interval, without_interval, n_with, n_without, too_few}`; values are
decimal strings (a win rate in percent), intervals `[low, high]`, and a comparison with
fewer than `min_deals` deals on either side has no figures (`too_few: true`). A malformed
query is a 400 in the one error shape, naming the field; another tenant's tier is one too.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import ValidationFailed
from accounts.rest import VENDOR, MembershipApi
from accounts.serializers import error_responses
from analytics.impact_forms import CosellImpactQueryForm
from analytics.selectors.cosell_impact import (
    CAPACITY_FORMULA,
    CORRELATION_NOTE,
    FIRST_CONTACT_FORMULA,
    MEASURES,
    MIN_DEALS,
    Comparison,
    Impact,
    Side,
    Stratum,
    cosell_impact,
)


class CosellImpactQuery(serializers.Serializer):
    """The query (for the schema; the form checks the values)."""

    since = serializers.DateField(required=False, help_text="First close date; default a year ago.")
    until = serializers.DateField(required=False, help_text="Last close date; default today.")
    tier_id = serializers.IntegerField(required=False, help_text="Only this tier's partners.")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _interval(side: Side) -> list[str] | None:
    if side.interval is None:
        return None
    return [str(side.interval.low), str(side.interval.high)]


def comparison_data(comparison: Comparison) -> dict[str, Any]:
    return {
        "with": _text(comparison.with_.value),
        "without": _text(comparison.without.value),
        "with_interval": _interval(comparison.with_),
        "without_interval": _interval(comparison.without),
        "n_with": comparison.with_.n,
        "n_without": comparison.without.n,
        "too_few": comparison.too_few,
    }


def stratum_data(stratum: Stratum) -> dict[str, Any]:
    return {c.measure.code: comparison_data(c) for c in stratum.comparisons}


def impact_data(impact: Impact) -> dict[str, Any]:
    return {
        "since": impact.since.isoformat(),
        "until": impact.until.isoformat(),
        "tier_id": impact.tier.pk if impact.tier else None,
        "note": CORRELATION_NOTE,
        "min_deals": MIN_DEALS,
        "measures": [
            {"code": m.code, "label": m.label, "unit": m.unit, "n": m.basis, "formula": m.formula}
            for m in MEASURES
        ],
        "overall": stratum_data(impact.overall),
        "strata": {
            dimension.code: [
                {"key": s.key, "label": s.label, **stratum_data(s)} for s in dimension.strata
            ]
            for dimension in impact.dimensions
        },
        "first_contact": {
            "deals": impact.first_contact.deals,
            "median_days": _text(impact.first_contact.median_days),
            "p90_days": _text(impact.first_contact.p90_days),
            "formula": FIRST_CONTACT_FORMULA,
        },
        "capacity_refused": {"count": impact.capacity_refused, "formula": CAPACITY_FORMULA},
    }


class CosellImpactApi(MembershipApi):
    """Win rate, deal size and cycle time with vs without co-sell engagement."""

    allowed_roles = VENDOR

    @extend_schema(
        parameters=[CosellImpactQuery],
        responses={200: dict, **error_responses(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        tenant = self.membership.tenant
        form = CosellImpactQueryForm(request.query_params, tenant=tenant)
        if not form.is_valid():
            fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
            raise ValidationFailed(next(iter(fields.values()))[0], fields=fields)
        data = form.cleaned_data
        impact = cosell_impact(
            tenant=tenant, since=data["since"], until=data["until"], tier=data.get("tier_id")
        )
        return Response(impact_data(impact))


urlpatterns = [path("cosell-impact/", CosellImpactApi.as_view(), name="cosell_impact")]

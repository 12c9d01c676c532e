"""API shapes of the forecast: the query, rows, targets and adjustments."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import InputSerializer, TextField, WholeNumberField
from analytics.models import Scope
from analytics.selectors.dimensions import GROUP_BY_CHOICES

MONEY = {"max_digits": 16, "decimal_places": 2}


class ForecastQuery(serializers.Serializer):
    period = serializers.CharField(
        required=False,
        max_length=40,
        help_text="2027-Q1 (fiscal quarter) or 2027-03; default: this quarter.",
    )
    group_by = serializers.ChoiceField(
        choices=GROUP_BY_CHOICES,
        required=False,
        default="partner",
        help_text="Partner people: partner only (their own organization or deals).",
    )


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True})
class KeyField(serializers.Field):
    def to_representation(self, value: Any) -> Any:
        return value


class ForecastRowOutput(serializers.Serializer):
    key = KeyField(help_text="Partner, tier or channel manager id; region or product-line code.")
    label = serializers.CharField()
    closed_won = serializers.DecimalField(**MONEY)
    commit = serializers.DecimalField(**MONEY)
    best_case = serializers.DecimalField(**MONEY)
    pipeline = serializers.DecimalField(**MONEY)
    weighted = serializers.DecimalField(**MONEY)
    calibrated_weighted = serializers.DecimalField(**MONEY)
    target = serializers.DecimalField(**MONEY, allow_null=True)
    coverage = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    adjustment = serializers.DecimalField(**MONEY, allow_null=True)


class ForecastOutput(serializers.Serializer):
    period = serializers.CharField()
    group_by = serializers.CharField()
    currency = serializers.CharField()
    rows = ForecastRowOutput(many=True)
    total = ForecastRowOutput()
    median = ForecastRowOutput(
        required=False, help_text="Partner admins: the tenant's median partner, figure by figure."
    )


class TargetQuery(serializers.Serializer):
    period = serializers.CharField(required=False, max_length=40)


class TargetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    period = serializers.CharField()
    scope = serializers.ChoiceField(choices=Scope.choices)
    tier_id = serializers.IntegerField(allow_null=True)
    partner_id = serializers.IntegerField(allow_null=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    updated_at = serializers.DateTimeField()


class ScopedInput(InputSerializer):
    """Types only; the service checks the period, the scope's id and the amount."""

    period = TextField(max_length=40)
    scope = serializers.ChoiceField(choices=Scope.choices)
    tier_id = WholeNumberField(required=False, allow_null=True)
    partner_id = WholeNumberField(required=False, allow_null=True)
    amount = serializers.JSONField(help_text='A decimal string ("12500.00") or a number.')


class TargetInput(ScopedInput):
    pass


class AdjustmentInput(ScopedInput):
    note = TextField(max_length=1000, help_text="Why (plain text).")


class AdjustmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    period = serializers.CharField()
    scope = serializers.CharField()
    tier_id = serializers.IntegerField(allow_null=True)
    partner_id = serializers.IntegerField(allow_null=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    note = serializers.CharField()
    created_by = serializers.CharField(source="created_by.display_name", allow_null=True)
    created_at = serializers.DateTimeField()

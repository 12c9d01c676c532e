"""API serializers of commissions: strict input (JSON types checked; the services check the
rest) and output descriptions of ledger entries, statements and payout batches.

Amounts are decimal strings with two places ("500.00"; clawbacks negative: "-500.00").
"""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import InputSerializer, TextField, WholeNumberField
from commissions.models import CommissionEntry, PayoutBatch
from commissions.selectors import Statement
from pipeline.serializers import JsonDateField, NamedChoiceField

ENTRY_IDS_MAX = 500
REFERENCE_MAX = 100


def money_output(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


# --- Input --------------------------------------------------------------------------------------


class NoInput(InputSerializer):
    """A body-less action: any field sent is refused."""


class PayoutCreateInput(InputSerializer):
    """Approved entries paid together under the vendor's payment reference."""

    entry_ids = serializers.ListField(
        child=WholeNumberField(min_value=1),
        allow_empty=False,
        max_length=ENTRY_IDS_MAX,
        help_text="Ids of approved entries (clawbacks net against accruals).",
    )
    reference = TextField(max_length=REFERENCE_MAX, help_text="The payment's reference, unique.")
    paid_on = JsonDateField(required=False, help_text="Defaults to today.")

    refused_fields: ClassVar[dict[str, str]] = {
        "total": "Computed: the sum of the entries' amounts.",
        "currency": "Always the tenant's currency.",
    }


class StatementQuery(serializers.Serializer):
    """The query of a statement (for the schema; the view checks the values)."""

    partner_id = serializers.IntegerField(
        required=False,
        help_text="Required for vendor roles; partner people get their own organization's.",
    )
    period = serializers.CharField(
        required=False, help_text="A month (2026-11) or a quarter (2026-Q4); default this month."
    )


# --- Output -------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": (
            "How the amount came about. An accrual: version_id, amount, deal_amount, tier, "
            "base_rate, base, registered, multiplier, product_bonuses {code: amount}, "
            "quarter_attainment, accelerator, before_cap, cap, capped (numbers as exact "
            "decimal strings). A clawback: reverses (the accrual's id) and reason."
        ),
    }
)
class BreakdownField(serializers.JSONField):
    pass


class CommissionEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    opportunity_id = serializers.IntegerField()
    opportunity_name = serializers.CharField(source="opportunity.name")
    partner_id = serializers.IntegerField()
    partner_name = serializers.CharField(source="partner.name")
    owner_id = serializers.IntegerField()
    kind = NamedChoiceField(choices=CommissionEntry.Kind.choices, enum_name="CommissionKindEnum")
    amount = money_output(help_text="Negative for a clawback.")
    currency = serializers.CharField()
    status = NamedChoiceField(
        choices=CommissionEntry.Status.choices, enum_name="CommissionStatusEnum"
    )
    status_label = serializers.CharField(source="get_status_display")
    breakdown = BreakdownField()
    version_id = serializers.IntegerField(allow_null=True, help_text="The plan version applied.")
    reverses_id = serializers.IntegerField(
        allow_null=True, help_text="A clawback: the accrual it nets."
    )
    closed_on = serializers.DateField(help_text="The deal's close date, or the reopen day.")
    approved_at = serializers.DateTimeField(allow_null=True)
    payout_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class StatusTotalsOutput(serializers.Serializer):
    accrued = money_output()
    approved = money_output()
    paid = money_output()


class StatementOutput(serializers.Serializer):
    """A partner's entries created in the period, their totals by status, and the net."""

    partner_id = serializers.IntegerField(source="partner.pk")
    partner_name = serializers.CharField(source="partner.name")
    period = serializers.CharField(source="period.label")
    start = serializers.DateField(source="period.start")
    end = serializers.DateField(source="period.end", help_text="Inclusive.")
    currency = serializers.CharField()
    entries = CommissionEntryOutput(many=True)
    totals = StatusTotalsOutput(source="by_status", help_text="The entries summed by status.")
    accrued = money_output(help_text="Accruals of the period.")
    clawed_back = money_output(help_text="Clawbacks of the period (zero or negative).")
    net = money_output(help_text="accrued + clawed_back.")


def statement_data(statement: Statement) -> dict[str, Any]:
    return StatementOutput(statement).data


class PayoutOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    paid_on = serializers.DateField()
    total = money_output()
    currency = serializers.CharField()
    entry_ids = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_entry_ids(self, batch: PayoutBatch) -> list[int]:
        return sorted(entry.pk for entry in batch.entries.all())

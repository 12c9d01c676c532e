"""API serializers of commissions: strict input (JSON types checked; the services check the
rest) and output descriptions of ledger entries, statements and payout batches.

Amounts are decimal strings with two places ("500.00"; clawbacks negative: "-500.00").
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.representation import Moment, day, moments, money
from accounts.serializers import InputSerializer, MoneyField, TextField, WholeNumberField
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


# The columns a ledger entry is written from (read with `.values()`), and the writer: the
# same JSON as CommissionEntryOutput, without a serializer per row.
ENTRY_COLUMNS = (
    "id", "opportunity_id", "opportunity__name", "partner_id", "partner__name", "owner_id",
    "kind", "amount", "currency", "status", "breakdown", "version_id", "reverses_id",
    "closed_on", "approved_at", "payout_id", "created_at",
)  # fmt: skip
STATUS_LABELS = dict(CommissionEntry.Status.choices)


def entry_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    moment = moments()
    return [entry_row(row, moment) for row in rows]


def entry_row(row: dict[str, Any], moment: Moment) -> dict[str, Any]:
    return {
        "id": row["id"],
        "opportunity_id": row["opportunity_id"],
        "opportunity_name": row["opportunity__name"],
        "partner_id": row["partner_id"],
        "partner_name": row["partner__name"],
        "owner_id": row["owner_id"],
        "kind": row["kind"],
        "amount": money(row["amount"]),
        "currency": row["currency"],
        "status": row["status"],
        "status_label": str(STATUS_LABELS.get(row["status"], row["status"])),
        "breakdown": row["breakdown"],
        "version_id": row["version_id"],
        "reverses_id": row["reverses_id"],
        "closed_on": day(row["closed_on"]),
        "approved_at": moment(row["approved_at"]),
        "payout_id": row["payout_id"],
        "created_at": moment(row["created_at"]),
    }


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


# --- Commission plans ---------------------------------------------------------------------------

PLAN_NAME_MAX = 100
TIER_RATES_MAX = 200
PRODUCT_BONUSES_MAX = 500


class StrictDecimalField(serializers.DecimalField):
    """A decimal string ("12.5") or a JSON number; booleans, lists and objects are refused."""

    def to_internal_value(self, data: Any) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


def percent_input(**kwargs: Any) -> StrictDecimalField:
    return StrictDecimalField(
        max_digits=7, decimal_places=4, min_value=Decimal(0), max_value=Decimal(100), **kwargs
    )


def factor_input(**kwargs: Any) -> StrictDecimalField:
    return StrictDecimalField(
        max_digits=6, decimal_places=4, min_value=Decimal(0), max_value=Decimal(10), **kwargs
    )


class TierRateInput(InputSerializer):
    tier_id = WholeNumberField(min_value=1, help_text="A partner tier of the tenant.")
    rate = percent_input(help_text="Base rate: percent of the deal amount, 0 to 100.")


class ProductBonusInput(InputSerializer):
    product_line_id = WholeNumberField(min_value=1, help_text="A product line of the tenant.")
    bonus = percent_input(
        allow_null=True,
        help_text="Extra percent of a registered deal's amount, 0 to 100; null removes it.",
    )


def unique_ids(rows: list[dict[str, Any]], key: str, value: str) -> dict[int, Decimal | None]:
    ids = [row[key] for row in rows]
    if len(ids) != len(set(ids)):
        raise serializers.ValidationError(f"Each {key} at most once.")
    return {row[key]: row[value] for row in rows}


class CommissionPlanUpdateInput(InputSerializer):
    """Changes to a version not yet in force; fields left out keep their value. Rates and
    bonuses sent replace those of the same tier or product line; the others stay."""

    name = TextField(max_length=PLAN_NAME_MAX, required=False, help_text="Plain text.")
    effective_from = JsonDateField(
        required=False,
        help_text="After today, or before the tenant's earliest version (to cover a period "
        "no plan covered: won deals not attributed then are attributed).",
    )
    registered_multiplier = factor_input(required=False, help_text="0 to 10.")
    unregistered_multiplier = factor_input(required=False, help_text="0 to 10.")
    cap_per_deal = MoneyField(required=False, allow_null=True, help_text="null: no cap.")
    accelerator_threshold = MoneyField(
        required=False,
        allow_null=True,
        help_text="A partner's won amount in the quarter above which the accelerator applies.",
    )
    accelerator_rate = percent_input(
        required=False, allow_null=True, help_text="Set with accelerator_threshold, or neither."
    )
    tier_rates = TierRateInput(many=True, required=False, max_length=TIER_RATES_MAX)
    product_bonuses = ProductBonusInput(many=True, required=False, max_length=PRODUCT_BONUSES_MAX)

    refused_fields: ClassVar[dict[str, str]] = {
        "id": "Assigned by the server.",
        "state": "Follows from the start dates.",
        "effective_until": "Follows from the next version's start date.",
        "editable": "Follows from the start date.",
        "created_at": "Set by the server.",
        "updated_at": "Set by the server.",
    }

    def validate_tier_rates(self, rows: list[dict[str, Any]]) -> dict[int, Decimal]:
        return unique_ids(rows, "tier_id", "rate")

    def validate_product_bonuses(self, rows: list[dict[str, Any]]) -> dict[int, Decimal]:
        return unique_ids(rows, "product_line_id", "bonus")


class CommissionPlanCreateInput(CommissionPlanUpdateInput):
    """A new version: copied from the one in force on its start date, then changed."""

    name = TextField(max_length=PLAN_NAME_MAX, help_text="Plain text.")
    effective_from = JsonDateField(
        help_text="After today, or before the tenant's earliest version (to cover a period "
        "no plan covered: won deals not attributed then are attributed)."
    )


class TierRateOutput(serializers.Serializer):
    tier_id = serializers.IntegerField()
    tier_name = serializers.CharField(source="tier.name")
    rate = serializers.DecimalField(max_digits=7, decimal_places=4)


class ProductBonusOutput(serializers.Serializer):
    product_line_id = serializers.IntegerField()
    product_line_code = serializers.CharField(source="product_line.code")
    product_line_name = serializers.CharField(source="product_line.name")
    bonus = serializers.DecimalField(max_digits=7, decimal_places=4)


class CommissionPlanOutput(serializers.Serializer):
    """One version of the tenant's commission plan."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    effective_from = serializers.DateField()
    effective_until = serializers.DateField(
        source="span.until", allow_null=True, help_text="Inclusive; null: no later version."
    )
    state = NamedChoiceField(
        source="span.state",
        choices=[("in_force", "In force"), ("upcoming", "Upcoming"), ("ended", "Ended")],
        enum_name="CommissionPlanStateEnum",
    )
    editable = serializers.BooleanField(
        source="span.editable", help_text="Only a version not yet in force changes."
    )
    registered_multiplier = serializers.DecimalField(max_digits=6, decimal_places=4)
    unregistered_multiplier = serializers.DecimalField(max_digits=6, decimal_places=4)
    cap_per_deal = money_output(allow_null=True)
    accelerator_threshold = money_output(allow_null=True)
    accelerator_rate = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True)
    tier_rates = TierRateOutput(many=True)
    product_bonuses = ProductBonusOutput(many=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class PreviewRowOutput(serializers.Serializer):
    opportunity_id = serializers.IntegerField(source="opportunity.pk")
    opportunity_name = serializers.CharField(source="opportunity.name")
    partner_id = serializers.IntegerField(source="opportunity.partner_id")
    partner_name = serializers.CharField(source="opportunity.partner.name")
    closed_on = serializers.DateField(source="opportunity.closed_on")
    deal_amount = money_output(source="opportunity.amount")
    accrued = money_output(help_text="What the ledger holds for the deal (net of clawbacks).")
    would_pay = money_output(help_text="What this version would have paid.")


class PlanPreviewOutput(serializers.Serializer):
    """What the version would have paid on last quarter's won partner deals."""

    version_id = serializers.IntegerField(source="version.pk")
    start = serializers.DateField()
    end = serializers.DateField(help_text="Inclusive.")
    currency = serializers.CharField(source="version.tenant.currency")
    rows = PreviewRowOutput(many=True)
    accrued_total = money_output()
    would_pay_total = money_output()
    difference = money_output(help_text="would_pay_total - accrued_total.")

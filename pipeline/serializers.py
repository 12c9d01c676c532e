"""API serializers of the pipeline: strict input (JSON types checked, ids resolved within
the tenant) and output descriptions. Services do the work."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, ClassVar

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, QuerySet, Value
from django.db.models.functions import Concat
from django_countries import countries
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import NAME_MAX, VENDOR_ROLES, Membership, User
from accounts.representation import Moment, day, moments, money
from accounts.serializers import (
    ExternalIdsField,
    InputSerializer,
    MoneyField,
    ScopedIdField,
    TextField,
    WholeNumberField,
)
from pipeline.deal_rules import validate_close_date, validate_positive_amount
from pipeline.models import (
    Activity,
    CoSellRequest,
    CustomerExternalId,
    EntryCriterion,
    ForecastCategory,
    Opportunity,
    OpportunityExternalId,
    Stage,
)
from pipeline.probabilities import probability_lookup

LIFECYCLE = "Changes only through move-stage, close-won, close-lost or reopen."

# --- Strict JSON fields -------------------------------------------------------------------------


class JsonBooleanField(serializers.BooleanField):
    """A JSON true or false; "yes", 1 and "true" are refused."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class JsonDateField(serializers.DateField):
    """A JSON string holding an ISO date (YYYY-MM-DD)."""

    def to_internal_value(self, value: Any) -> date:
        if not isinstance(value, str):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class JsonDateTimeField(serializers.DateTimeField):
    """A JSON string holding an ISO 8601 date and time."""

    def to_internal_value(self, value: Any) -> datetime:
        if not isinstance(value, str):
            self.fail("invalid", format="ISO 8601")
        return super().to_internal_value(value)


class NamedChoiceField(serializers.ChoiceField):
    """A choice whose schema is one named enum component (`enum_name`), so the many
    `kind` and `status` fields of the API do not collide in the generated schema."""

    def __init__(self, *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(**kwargs)


class NamedChoiceFieldSchema(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        field: NamedChoiceField = self.target
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={
                "type": "string",
                "enum": list(field.choices),
                "description": "\n".join(f"* `{k}` - {v}" for k, v in field.choices.items()),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


# --- Scopes of the ids a request may name ---------------------------------------------------------


def tenant_stages(membership: Membership) -> QuerySet[Stage]:
    return Stage.objects.for_tenant(membership.tenant_id).filter(is_active=True)


def vendor_people(membership: Membership) -> QuerySet[User]:
    """Active vendor members of the acting tenant (owners of direct deals, co-sell helpers)."""
    return User.objects.filter(
        memberships__tenant_id=membership.tenant_id,
        memberships__role__in=VENDOR_ROLES,
        memberships__is_active=True,
    ).distinct()


# --- Stages ---------------------------------------------------------------------------------------


class StageInput(InputSerializer):
    name = TextField(max_length=100)
    probability = WholeNumberField(min_value=0, max_value=100)
    entry_criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=EntryCriterion.choices), required=False
    )
    stale_after_days = WholeNumberField(
        min_value=1, max_value=3650, required=False, allow_null=True
    )
    guidance = TextField(max_length=4000, required=False, allow_blank=True)
    forecast_category = NamedChoiceField(
        choices=ForecastCategory.choices,
        enum_name="ForecastCategoryEnum",
        required=False,
        help_text="Open stages: pipeline, best_case, commit or omitted (default by "
        "probability); the won stage is closed, the lost stage omitted.",
    )


class StageUpdateInput(StageInput):
    """Used with partial=True. `is_active` deactivates or reactivates the stage."""

    is_active = JsonBooleanField(required=False)

    refused_fields: ClassVar[dict[str, str]] = {
        "kind": "Read-only: a tenant has exactly one won and one lost stage.",
        "position": "Read-only here: reorder the stages in the settings.",
    }


class StageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    position = serializers.IntegerField()
    probability = serializers.IntegerField()
    kind = NamedChoiceField(choices=Stage.Kind.choices, enum_name="StageKindEnum")
    entry_criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=EntryCriterion.choices)
    )
    stale_after_days = serializers.IntegerField(allow_null=True)
    guidance = serializers.CharField()
    is_active = serializers.BooleanField()
    forecast_category = NamedChoiceField(
        choices=ForecastCategory.choices, enum_name="ForecastCategoryEnum"
    )


# --- Opportunities --------------------------------------------------------------------------------


def _max(field: str) -> int:
    return Opportunity._meta.get_field(field).max_length  # type: ignore[return-value]


class CustomerInput(InputSerializer):
    name = TextField(max_length=NAME_MAX)
    website = TextField(max_length=255, required=False, allow_blank=True)
    country = serializers.ChoiceField(choices=list(countries), required=False, allow_blank=True)
    external_ids = ExternalIdsField(
        required=False, help_text="The customer's ids in other systems (vendor roles)."
    )


class QualificationInput(InputSerializer):
    budget_confirmed = JsonBooleanField(required=False)
    decision_maker = JsonBooleanField(required=False)
    need = TextField(max_length=_max("need"), required=False, allow_blank=True)
    timeline = TextField(max_length=_max("timeline"), required=False, allow_blank=True)


class OpportunityUpdateInput(InputSerializer):
    """Non-lifecycle fields (used with partial=True: only the fields sent change)."""

    name = TextField(max_length=NAME_MAX)
    amount = MoneyField(required=False, allow_null=True, validators=[validate_positive_amount])
    expected_close_date = JsonDateField(
        required=False,
        allow_null=True,
        help_text="Today or later, within 10 years (an overdue date may be left as it is).",
    )
    qualification = QualificationInput(required=False)
    decision_maker_name = TextField(
        max_length=_max("decision_maker_name"), required=False, allow_blank=True
    )
    next_step = TextField(max_length=_max("next_step"), required=False, allow_blank=True)
    next_step_date = JsonDateField(required=False, allow_null=True)
    competitor = TextField(max_length=_max("competitor"), required=False, allow_blank=True)
    purchase_order_number = TextField(
        max_length=_max("purchase_order_number"), required=False, allow_blank=True
    )
    external_ids = ExternalIdsField(
        required=False,
        help_text="The deal's ids in other systems, unique per tenant and system (vendor "
        "roles). Systems left out keep their ids; null removes one.",
    )
    forecast_category = NamedChoiceField(
        choices=ForecastCategory.choices,
        enum_name="ForecastCategoryEnum",
        required=False,
        allow_null=True,
        help_text="Open deals, by their owner or the vendor's people: pipeline, best_case, "
        "commit or omitted overrides the stage's category; null or the stage's own category "
        "clears the override. closed is refused (close the deal as won).",
    )

    refused_fields: ClassVar[dict[str, str]] = {
        "stage_id": LIFECYCLE,
        "stage": LIFECYCLE,
        "status": LIFECYCLE,
    }


class OpportunityCreateInput(OpportunityUpdateInput):
    """A direct deal of the vendor (no partner); it starts open in the first stage."""

    forecast_category = None  # type: ignore[assignment]  # set it once the deal exists
    customer = CustomerInput()
    owner_id = ScopedIdField(model=User, scope=vendor_people, required=False, allow_null=True)
    expected_close_date = JsonDateField(
        required=False,
        allow_null=True,
        validators=[validate_close_date],
        help_text="Today or later, within 10 years.",
    )


class CustomerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    website = serializers.CharField()
    country = serializers.CharField(source="country.code")
    external_ids = serializers.SerializerMethodField()

    @extend_schema_field(ExternalIdsField())
    def get_external_ids(self, customer: Any) -> dict[str, str]:
        return {e.system: e.external_id for e in customer.external_ids.all()}


class QualificationOutput(serializers.Serializer):
    budget_confirmed = serializers.BooleanField()
    decision_maker = serializers.BooleanField()
    need = serializers.CharField()
    timeline = serializers.CharField()


class OpportunityOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    partner_id = serializers.IntegerField(allow_null=True, help_text="Empty: a direct deal.")
    owner_id = serializers.IntegerField()
    customer = CustomerOutput()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    expected_close_date = serializers.DateField(allow_null=True)
    external_ids = serializers.SerializerMethodField(
        help_text="The deal's ids in other systems: {system: id}."
    )
    stage_id = serializers.IntegerField()
    status = NamedChoiceField(choices=Opportunity.Status.choices, enum_name="OpportunityStatusEnum")
    forecast_category = NamedChoiceField(
        choices=ForecastCategory.choices,
        enum_name="ForecastCategoryEnum",
        help_text="Effective: the owner's override on an open deal, else the stage's.",
    )
    forecast_category_overridden = serializers.SerializerMethodField()
    qualification = QualificationOutput(source="*")
    next_step = serializers.CharField()
    next_step_date = serializers.DateField(allow_null=True)
    decision_maker_name = serializers.CharField()
    competitor = serializers.CharField()
    purchase_order_number = serializers.CharField()
    lost_reason_code = serializers.CharField(source="lost_reason.code", allow_null=True)
    lost_note = serializers.CharField()
    closed_on = serializers.DateField(allow_null=True)
    close_date_slips = serializers.IntegerField()
    stale = serializers.BooleanField(help_text="Idle past its stage's limit, or overdue.")
    stage_entered_at = serializers.DateTimeField()
    last_activity_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    calibrated_probability = serializers.SerializerMethodField(
        help_text="Open deals: the partner's calibrated win probability from this stage (0-1, "
        "learnt from the tenant's closed deals); null once closed."
    )

    @extend_schema_field(serializers.DecimalField(max_digits=5, decimal_places=4, allow_null=True))
    def get_calibrated_probability(self, opportunity: Opportunity) -> str | None:
        if opportunity.status != Opportunity.Status.OPEN:
            return None
        root = self.root  # one lookup per response, however many deals it lists
        lookups = root.__dict__.setdefault("_probability_lookups", {})
        if opportunity.tenant_id not in lookups:
            lookups[opportunity.tenant_id] = probability_lookup(opportunity.tenant_id)
        lookup = lookups[opportunity.tenant_id]
        if lookup is None:
            return None
        return f"{lookup(opportunity.partner_id, opportunity.stage_id):.4f}"

    @extend_schema_field(ExternalIdsField())
    def get_external_ids(self, opportunity: Opportunity) -> dict[str, str]:
        return {e.system: e.external_id for e in opportunity.external_ids.all()}

    def get_forecast_category_overridden(self, opportunity: Opportunity) -> bool:
        """True when the owner's category, not the stage's, applies."""
        return bool(opportunity.status == "open" and opportunity.forecast_category_override)


# The columns an opportunity row is written from (read with `.values()`), and the writer:
# the same JSON as OpportunityOutput, without a serializer per row.
OPPORTUNITY_COLUMNS = (
    "id", "name", "partner_id", "owner_id", "customer_id", "customer__name",
    "customer__website", "customer__country", "amount", "currency", "expected_close_date",
    "stage_id", "status", "budget_confirmed", "decision_maker", "need", "timeline",
    "next_step", "next_step_date", "decision_maker_name", "competitor",
    "purchase_order_number", "lost_reason__code", "lost_note", "closed_on",
    "close_date_slips", "stale", "stage_entered_at", "last_activity_at", "created_at",
    "updated_at", "forecast_category_override", "stage__forecast_category", "tenant_id",
)  # fmt: skip


def external_id_arrays() -> dict[str, ArraySubquery]:
    """The deal's and its customer's external ids as arrays of "system:id" in the row's own
    query (no query per page)."""
    own = OpportunityExternalId.objects.filter(opportunity=OuterRef("pk")).order_by("system")
    customer = CustomerExternalId.objects.filter(customer=OuterRef("customer_id"))
    return {
        "external_id_pairs": ArraySubquery(own.values_list(_pair(), flat=True)),
        "customer_external_id_pairs": ArraySubquery(
            customer.order_by("system").values_list(_pair(), flat=True)
        ),
    }


def _pair() -> Concat:
    return Concat("system", Value(":"), "external_id")


def external_ids_from_pairs(pairs: Iterable[str] | None) -> dict[str, str]:
    return dict(pair.split(":", 1) for pair in pairs or [])


def opportunity_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    moment = moments()
    lookups: dict[int, Any] = {}  # one calibration lookup per response, as OpportunityOutput
    written = []
    for row in rows:
        written.append(opportunity_row(row, moment))
        written[-1]["calibrated_probability"] = _calibrated(row, lookups)
    return written


def _calibrated(row: dict[str, Any], lookups: dict[int, Any]) -> str | None:
    if row["status"] != Opportunity.Status.OPEN:
        return None
    if row["tenant_id"] not in lookups:
        lookups[row["tenant_id"]] = probability_lookup(row["tenant_id"])
    lookup = lookups[row["tenant_id"]]
    return None if lookup is None else f"{lookup(row['partner_id'], row['stage_id']):.4f}"


def forecast_category_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The effective category (as OpportunityOutput): an open deal's override, else the
    stage's."""
    overridden = bool(row["status"] == "open" and row["forecast_category_override"])
    return {
        "forecast_category": (
            row["forecast_category_override"] if overridden else row["stage__forecast_category"]
        ),
        "forecast_category_overridden": overridden,
    }


def opportunity_row(row: dict[str, Any], moment: Moment) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "partner_id": row["partner_id"],
        "owner_id": row["owner_id"],
        "customer": {
            "id": row["customer_id"],
            "name": row["customer__name"],
            "website": row["customer__website"],
            "country": row["customer__country"],
            "external_ids": external_ids_from_pairs(row.get("customer_external_id_pairs")),
        },
        "amount": money(row["amount"]),
        "currency": row["currency"],
        "expected_close_date": day(row["expected_close_date"]),
        "external_ids": external_ids_from_pairs(row.get("external_id_pairs")),
        "stage_id": row["stage_id"],
        "status": row["status"],
        **forecast_category_fields(row),
        "qualification": {
            "budget_confirmed": row["budget_confirmed"],
            "decision_maker": row["decision_maker"],
            "need": row["need"],
            "timeline": row["timeline"],
        },
        "next_step": row["next_step"],
        "next_step_date": day(row["next_step_date"]),
        "decision_maker_name": row["decision_maker_name"],
        "competitor": row["competitor"],
        "purchase_order_number": row["purchase_order_number"],
        "lost_reason_code": row["lost_reason__code"],
        "lost_note": row["lost_note"],
        "closed_on": day(row["closed_on"]),
        "close_date_slips": row["close_date_slips"],
        "stale": row["stale"],
        "stage_entered_at": moment(row["stage_entered_at"]),
        "last_activity_at": moment(row["last_activity_at"]),
        "created_at": moment(row["created_at"]),
        "updated_at": moment(row["updated_at"]),
    }


# --- Lifecycle actions ----------------------------------------------------------------------------


class ForceInput(InputSerializer):
    """A vendor admin may force a move past missing entry criteria, saying why (recorded
    in the stage history and the audit log). Other roles: 403."""

    force = JsonBooleanField(
        required=False, help_text="Move although entry criteria are missing (vendor admins)."
    )
    force_reason = TextField(
        max_length=1000,
        required=False,
        allow_blank=True,
        help_text="Why the move is forced; required with `force`.",
    )


class MoveStageInput(ForceInput):
    stage_id = ScopedIdField(model=Stage, scope=tenant_stages)
    note = TextField(max_length=1000, required=False, allow_blank=True)


class CloseWonInput(ForceInput):
    """Both fall back to the deal's own values; a missing one is a 409 naming it. Closing
    passes every later stage: a missing entry criterion is a 409 naming it too."""

    amount = MoneyField(required=False, allow_null=True, validators=[validate_positive_amount])
    close_date = JsonDateField(required=False, allow_null=True)
    note = TextField(max_length=1000, required=False, allow_blank=True)


class CloseLostInput(InputSerializer):
    reason_code = TextField(max_length=40, required=False, allow_blank=True)
    note = TextField(max_length=1000, required=False, allow_blank=True)


class ReopenInput(InputSerializer):
    note = TextField(max_length=1000, required=False, allow_blank=True)


# --- Activities and co-sell requests --------------------------------------------------------------


class ActivityInput(InputSerializer):
    kind = NamedChoiceField(choices=Activity.Kind.choices, enum_name="ActivityKindEnum")
    body = TextField(max_length=5000)
    occurred_at = JsonDateTimeField(required=False)
    vendor_internal = JsonBooleanField(required=False)


class ActivityOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = NamedChoiceField(choices=Activity.Kind.choices, enum_name="ActivityKindEnum")
    body = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    author_id = serializers.IntegerField(allow_null=True)
    vendor_internal = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class CoSellRequestInput(InputSerializer):
    resource_type = TextField(max_length=40, help_text="The code of the kind of help.")
    need = TextField(max_length=2000)
    need_by = JsonDateField()
    details = TextField(max_length=2000, required=False, allow_blank=True)


class CoSellAssignInput(InputSerializer):
    person_id = WholeNumberField(
        required=False,
        allow_null=True,
        help_text="The pool member's membership id; omitted: the least loaded eligible one.",
    )
    reason = TextField(max_length=500, required=False, allow_blank=True)


class CoSellDeclineInput(InputSerializer):
    reason = TextField(max_length=500)


class CoSellRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    opportunity_id = serializers.IntegerField()
    resource_type = serializers.CharField(source="resource_type.code")
    resource_type_name = serializers.CharField(source="resource_type.name")
    need = serializers.CharField()
    need_by = serializers.DateField()
    details = serializers.CharField()
    status = NamedChoiceField(choices=CoSellRequest.Status.choices, enum_name="CoSellStatusEnum")
    requested_by_id = serializers.IntegerField(allow_null=True)
    stage_at_request_id = serializers.IntegerField(allow_null=True)
    assigned_person_id = serializers.IntegerField(
        source="assigned_resource.person_id", allow_null=True, default=None
    )
    assignee_id = serializers.IntegerField(allow_null=True)
    override_reason = serializers.CharField()
    decline_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    assigned_at = serializers.DateTimeField(allow_null=True)
    engaged_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    sla_due_at = serializers.DateTimeField(allow_null=True)
    sla_breached_at = serializers.DateTimeField(allow_null=True)
    capacity_refused_at = serializers.DateTimeField(allow_null=True)

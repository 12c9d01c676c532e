"""API serializers of deal registration: strict input (JSON types checked; the services
check the rest) and output descriptions.

A partner member never gets another partner's identity from a finding: `other` and
`matched_keys` of a finding, and `duplicate_of_id` of a registration, are null for them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from django.db.models import QuerySet
from django_countries import countries
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import NAME_MAX, Membership
from accounts.serializers import (
    EmailAddressField,
    ErrorDetailOutput,
    ExternalIdsField,
    InputSerializer,
    MoneyField,
    ScopedIdField,
    TextField,
)
from deals.models import DealRegistration, Extension, Finding, OverrideReason
from deals.services.registrations import TEXT_LIMITS
from pipeline.deal_rules import validate_close_date, validate_positive_amount
from pipeline.serializers import JsonBooleanField, JsonDateField, NamedChoiceField

LIFECYCLE = "Changes only through the registration's actions (submit, approve, reject…)."
NOTE_MAX = 2000
PRODUCT_LINES_MAX = 50


def tenant_registrations(membership: Membership) -> QuerySet[DealRegistration]:
    return DealRegistration.objects.visible_to(membership)


def _text(name: str, **kwargs: Any) -> TextField:
    return TextField(max_length=TEXT_LIMITS[name], required=False, allow_blank=True, **kwargs)


# --- Registrations: input -----------------------------------------------------------------------


class RegistrationUpdateInput(InputSerializer):
    """The registration's fields (used with partial=True for an edit: only those sent change)."""

    customer_name = TextField(max_length=NAME_MAX)
    customer_website = _text("customer_website")
    customer_country = NamedChoiceField(
        enum_name="CountryEnum", choices=list(countries), required=False, allow_blank=True
    )
    contact_name = _text("contact_name")
    contact_email = EmailAddressField(max_length=254, required=False, allow_blank=True)
    contact_phone = _text("contact_phone")
    product_lines = serializers.ListField(
        child=TextField(max_length=40),
        max_length=PRODUCT_LINES_MAX,
        required=False,
        help_text="Codes of the tenant's active product lines (GET /api/v1/product-lines/).",
    )
    amount = MoneyField(required=False, allow_null=True, validators=[validate_positive_amount])
    currency = TextField(min_length=3, max_length=3, required=False)
    expected_close_date = JsonDateField(
        required=False,
        allow_null=True,
        validators=[validate_close_date],
        help_text="Today or later, within 10 years.",
    )
    budget_confirmed = JsonBooleanField(required=False)
    decision_maker = JsonBooleanField(required=False, help_text="Decision maker identified.")
    need = _text("need")
    timeline = _text("timeline")
    description = _text("description")
    external_ids = ExternalIdsField(
        required=False,
        help_text="The registration's ids in other systems, unique per tenant and system. "
        "Systems left out keep their ids; null removes one.",
    )

    refused_fields: ClassVar[dict[str, str]] = {
        "status": LIFECYCLE,
        "partner_id": "Read-only: a registration belongs to the submitter's organization.",
        "submit": "Use POST /api/v1/registrations/{id}/submit/.",
    }


class RegistrationCreateInput(RegistrationUpdateInput):
    """A new registration, saved as a draft or (`submit`: true) submitted at once."""

    submit = JsonBooleanField(required=False, default=False)

    refused_fields: ClassVar[dict[str, str]] = {
        key: value
        for key, value in RegistrationUpdateInput.refused_fields.items()
        if key != "submit"
    }


# --- Registrations: output ----------------------------------------------------------------------


class RegistrationCustomerOutput(serializers.Serializer):
    name = serializers.CharField(source="customer_name")
    website = serializers.CharField(source="customer_website")
    country = serializers.CharField(source="customer_country.code", allow_null=True)
    contact_name = serializers.CharField()
    contact_email = serializers.CharField()
    contact_phone = serializers.CharField()


class ProductLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    is_active = serializers.BooleanField()


class RegistrationProductLineOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DecisionOutput(serializers.Serializer):
    code = serializers.CharField(
        help_text="approved, info_requested, duplicate, or the rejection reason's code."
    )
    message = serializers.CharField()


class OtherRecordOutput(serializers.Serializer):
    """The record a finding points at (vendor roles only)."""

    type = serializers.ChoiceField(
        choices=(("registration", "registration"), ("opportunity", "opportunity"))
    )
    id = serializers.IntegerField()
    partner_id = serializers.IntegerField(allow_null=True, help_text="Empty: a direct deal.")
    partner_name = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    customer_name = serializers.CharField()
    product_lines = serializers.ListField(child=serializers.CharField())
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    protected_until = serializers.DateField(allow_null=True)
    owner_name = serializers.CharField()


class FindingOutput(serializers.Serializer):
    kind = NamedChoiceField(choices=Finding.Kind.choices, enum_name="FindingKindEnum")
    kind_label = serializers.CharField()
    score = serializers.IntegerField()
    product_lines = serializers.ListField(
        child=serializers.CharField(), help_text="Codes of the product lines both records share."
    )
    first_registered_at = serializers.DateTimeField()
    matched_keys = serializers.ListField(
        child=serializers.CharField(), allow_null=True, help_text="Vendor roles only."
    )
    other = OtherRecordOutput(allow_null=True, help_text="Vendor roles only: the other record.")


class RegistrationOutput(serializers.Serializer):
    """A registration. `findings` come from the view's context (`findings`: id → list of
    FindingView, already reduced to what the acting member may see)."""

    id = serializers.IntegerField()
    status = NamedChoiceField(
        choices=DealRegistration.Status.choices, enum_name="RegistrationStatusEnum"
    )
    status_label = serializers.CharField(source="get_status_display")
    partner_id = serializers.IntegerField()
    owner_id = serializers.IntegerField()
    customer = RegistrationCustomerOutput(source="*")
    product_lines = RegistrationProductLineOutput(many=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    expected_close_date = serializers.DateField(allow_null=True)
    external_ids = serializers.SerializerMethodField(
        help_text="The registration's ids in other systems: {system: id}."
    )
    budget_confirmed = serializers.BooleanField()
    decision_maker = serializers.BooleanField()
    need = serializers.CharField()
    timeline = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    first_submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision = serializers.SerializerMethodField()
    auto_approved = serializers.BooleanField()
    override_reason = serializers.SerializerMethodField(
        help_text="Why it was approved alongside another partner's protection; null if not."
    )
    duplicate_of_id = serializers.SerializerMethodField(
        help_text="Vendor roles only: the registration this one was rejected as a duplicate of."
    )
    protected_until = serializers.DateField(allow_null=True)
    extensions_granted = serializers.IntegerField()
    opportunity_id = serializers.IntegerField(allow_null=True)
    findings = serializers.SerializerMethodField()

    def _vendor(self) -> bool:
        return bool(self.context["membership"].is_vendor)

    @extend_schema_field(ExternalIdsField())
    def get_external_ids(self, registration: DealRegistration) -> dict[str, str]:
        return {e.system: e.external_id for e in registration.external_ids.all()}

    @extend_schema_field(DecisionOutput(allow_null=True))
    def get_decision(self, registration: DealRegistration) -> dict[str, str] | None:
        if not registration.decision_code:
            return None
        return {"code": registration.decision_code, "message": registration.decision_message}

    @extend_schema_field(serializers.ChoiceField(choices=OverrideReason.choices, allow_null=True))
    def get_override_reason(self, registration: DealRegistration) -> str | None:
        return registration.override_reason or None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_duplicate_of_id(self, registration: DealRegistration) -> int | None:
        return registration.duplicate_of_id if self._vendor() else None

    @extend_schema_field(FindingOutput(many=True))
    def get_findings(self, registration: DealRegistration) -> list[dict[str, Any]]:
        views = self.context["findings"].get(registration.pk, [])
        if not self._vendor():  # the selector already leaves `other` out for partners
            views = [replace(view, matched_keys=None, other=None) for view in views]
        return FindingOutput(views, many=True).data


# --- Actions ------------------------------------------------------------------------------------


class NoteInput(InputSerializer):
    note = TextField(max_length=NOTE_MAX, required=False, allow_blank=True)


class ApproveInput(NoteInput):
    override_reason = NamedChoiceField(
        choices=OverrideReason.choices,
        enum_name="OverrideReasonEnum",
        required=False,
        help_text="Approve anyway, beside another partner's protection of the same customer "
        "and product line (vendor roles; recorded and told to both partners). Without it "
        "such an approval is a 409 naming the blocking finding.",
    )


class BlockingFindingOutput(serializers.Serializer):
    finding_id = serializers.IntegerField()
    kind = NamedChoiceField(choices=Finding.Kind.choices, enum_name="FindingKindEnum")
    registration_id = serializers.IntegerField(
        help_text="The other partner's approved registration."
    )


class ApprovalBlockedDetailOutput(ErrorDetailOutput):
    blocking_findings = BlockingFindingOutput(many=True)


class ApprovalBlockedOutput(serializers.Serializer):
    """409 `approval_blocked`; other refusals (409) carry only code, message and fields."""

    error = ApprovalBlockedDetailOutput()


class RevertInput(InputSerializer):
    note = TextField(max_length=NOTE_MAX, help_text="Why the decision is taken back (audited).")


class RejectInput(InputSerializer):
    reason_code = TextField(max_length=40, help_text="One of the tenant's rejection reasons.")
    message = TextField(max_length=NOTE_MAX, required=False, allow_blank=True)


class RequestInfoInput(InputSerializer):
    message = TextField(max_length=NOTE_MAX, help_text="What the partner should add.")


class MarkDuplicateInput(InputSerializer):
    original_id = ScopedIdField(model=DealRegistration, scope=tenant_registrations)
    message = TextField(max_length=NOTE_MAX, required=False, allow_blank=True)


# --- Extensions ---------------------------------------------------------------------------------


class ExtensionInput(InputSerializer):
    reason = TextField(max_length=NOTE_MAX)


class ExtensionDeclineInput(InputSerializer):
    reason = TextField(max_length=500, required=False, allow_blank=True)


class ExtensionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    registration_id = serializers.IntegerField()
    status = NamedChoiceField(choices=Extension.Status.choices, enum_name="ExtensionStatusEnum")
    reason = serializers.CharField()
    requested_by_id = serializers.IntegerField(allow_null=True)
    days_added = serializers.IntegerField()
    decline_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    protected_until = serializers.DateField(
        source="registration.protected_until",
        allow_null=True,
        help_text="The registration's protection end, after this decision.",
    )


# --- Product lines ------------------------------------------------------------------------------


class ProductLineInput(InputSerializer):
    code = TextField(max_length=40, help_text="Lower-case letters, digits, - and _; never changes.")
    name = TextField(max_length=100)


class ProductLineUpdateInput(InputSerializer):
    """Used with partial=True. `is_active`: false retires the line (partners can no longer
    register against it); true brings it back."""

    name = TextField(max_length=100)
    is_active = JsonBooleanField(required=False)

    refused_fields: ClassVar[dict[str, str]] = {"code": "Read-only: a code never changes."}

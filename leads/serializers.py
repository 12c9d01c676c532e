"""API serializers of the leads app: input types, and output descriptions."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import NAME_MAX
from accounts.serializers import InputSerializer, MoneyField, TextField
from leads.models import WORK_STATUSES, Lead, LeadOffer
from leads.services.intake import PRODUCT_LINES_MAX, TEXT_LIMITS
from leads.services.offers import NOTE_MAX


class LeadInput(InputSerializer):
    company_name = TextField(max_length=NAME_MAX)
    company_website = TextField(
        max_length=TEXT_LIMITS["company_website"], required=False, allow_blank=True
    )
    country = TextField(max_length=2, help_text="ISO 3166-1 alpha-2 code.")
    region = TextField(
        max_length=8,
        required=False,
        allow_blank=True,
        help_text="Sales region code (NA, LATAM, EMEA, APAC); default: the country's.",
    )
    contact_name = TextField(max_length=NAME_MAX, required=False, allow_blank=True)
    contact_email = TextField(max_length=254, required=False, allow_blank=True)
    contact_phone = TextField(max_length=40, required=False, allow_blank=True)
    product_lines = serializers.ListField(
        child=TextField(max_length=40), max_length=PRODUCT_LINES_MAX, required=False
    )
    estimated_value = MoneyField(required=False, allow_null=True)
    currency = TextField(max_length=3, required=False)
    source = TextField(max_length=TEXT_LIMITS["source"], required=False, allow_blank=True)
    notes = TextField(max_length=TEXT_LIMITS["notes"], required=False, allow_blank=True)


class DeclineInput(InputSerializer):
    reason_code = serializers.ChoiceField(choices=LeadOffer.Reason.choices)
    note = TextField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")


class StatusInput(InputSerializer):
    status = serializers.ChoiceField(choices=WORK_STATUSES)
    note = TextField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")


class ConvertInput(InputSerializer):
    amount = MoneyField(required=False, allow_null=True, help_text="Default: the lead's value.")
    expected_close_date = serializers.DateField(
        required=False, allow_null=True, help_text="Default: 90 days from today."
    )


class ConvertOutput(serializers.Serializer):
    registration_id = serializers.IntegerField()


class OfferOutput(serializers.Serializer):
    id = serializers.IntegerField()
    partner_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=LeadOffer.Status.choices)
    expires_at = serializers.DateTimeField()


class LeadOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Lead.Status.choices)
    company_name = serializers.CharField()
    company_website = serializers.CharField()
    country = serializers.CharField()
    region = serializers.CharField()
    contact_name = serializers.CharField()
    contact_email = serializers.CharField()
    contact_phone = serializers.CharField()
    product_lines = serializers.ListField(child=serializers.CharField())
    estimated_value = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField()
    source = serializers.CharField()
    notes = serializers.CharField()
    partner_id = serializers.IntegerField(
        allow_null=True, help_text="The partner that accepted it."
    )
    created_at = serializers.DateTimeField()
    offers = OfferOutput(many=True, source="offers.all", help_text="Partners see their own only.")

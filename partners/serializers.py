"""API serializers of the partners app: input validation only, and output descriptions."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django_countries import countries
from rest_framework import serializers

from accounts.models import NAME_MAX, VENDOR_ROLES, Membership, Role, User
from accounts.serializers import (
    EmailAddressField,
    InputSerializer,
    MoneyField,
    ScopedIdField,
    TextField,
    WholeNumberField,
)
from partners.models import LEAD_CAPACITY_MAX, PartnerOrganization, PartnerTier, Region
from partners.services import LEAD_ACCEPTANCE_HOURS, PROTECTION_DAYS
from partners.services.lead_profile import (
    CERTIFICATION_NAME_MAX,
    CERTIFICATIONS_MAX,
    TERRITORIES_MAX,
    CertificationData,
)

TIER_NAME_MAX = PartnerTier._meta.get_field("name").max_length
RANK_MAX = 32767  # PositiveSmallIntegerField


def visible_tiers(membership: Membership) -> QuerySet[PartnerTier]:
    return PartnerTier.objects.visible_to(membership)


def visible_partners(membership: Membership) -> QuerySet[PartnerOrganization]:
    return PartnerOrganization.objects.visible_to(membership)


def channel_managers(membership: Membership) -> QuerySet[User]:
    """People who may manage partners: active vendor members of the acting tenant."""
    return User.objects.filter(
        memberships__tenant_id=membership.tenant_id,
        memberships__role__in=VENDOR_ROLES,
        memberships__is_active=True,
    )


# --- Tiers ----------------------------------------------------------------------------------------


class TierInput(InputSerializer):
    name = TextField(max_length=TIER_NAME_MAX)
    rank = WholeNumberField(min_value=1, max_value=RANK_MAX)
    auto_approval_limit = MoneyField(
        required=False,
        allow_null=True,
        help_text="Registrations up to this amount are approved automatically when screening "
        "finds nothing; null: every registration is reviewed.",
    )
    protection_days = WholeNumberField(
        min_value=PROTECTION_DAYS[0],
        max_value=PROTECTION_DAYS[1],
        required=False,
        help_text="How long an approved registration is protected (default 90).",
    )
    lead_capacity = WholeNumberField(
        min_value=0,
        max_value=LEAD_CAPACITY_MAX,
        required=False,
        help_text="Most open lead offers and accepted, unconverted leads of a partner of this "
        "tier (default 10).",
    )
    lead_acceptance_hours = WholeNumberField(
        min_value=LEAD_ACCEPTANCE_HOURS[0],
        max_value=LEAD_ACCEPTANCE_HOURS[1],
        required=False,
        help_text="Business hours to accept a lead offer (default 48).",
    )


class TierOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    rank = serializers.IntegerField()
    auto_approval_limit = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    protection_days = serializers.IntegerField()
    lead_capacity = serializers.IntegerField()
    lead_acceptance_hours = serializers.IntegerField()


# --- Partner organizations ------------------------------------------------------------------------


class PartnerCreateInput(InputSerializer):
    name = TextField(max_length=NAME_MAX)
    tier_id = ScopedIdField(model=PartnerTier, scope=visible_tiers)
    country = serializers.ChoiceField(choices=list(countries))
    region = serializers.ChoiceField(
        choices=Region.choices,
        required=False,
        help_text="Omitted: the country's region (UN M49: NA, LATAM, EMEA, APAC); on an "
        "update, omitted with a new country: the new country's.",
    )
    channel_manager_id = ScopedIdField(
        model=User, scope=channel_managers, required=False, allow_null=True
    )


class CertificationInput(InputSerializer):
    product_line = TextField(max_length=40, help_text="A product line's code.")
    name = TextField(max_length=CERTIFICATION_NAME_MAX)
    expires_on = serializers.DateField()

    def to_internal_value(self, data: Any) -> CertificationData:
        # Inside a partial update every field would be optional: a certification is whole.
        missing = {"product_line", "name", "expires_on"} - set(
            data if isinstance(data, dict) else ()
        )
        if missing:
            raise serializers.ValidationError(
                {name: ["This field is required."] for name in sorted(missing)}
            )
        return CertificationData(**super().to_internal_value(data))


class PartnerUpdateInput(PartnerCreateInput):
    """Used with partial=True: only the fields sent change. Partner admins may send only
    their own organization's territories, specializations and certifications."""

    territories = serializers.ListField(
        child=TextField(max_length=8),
        max_length=TERRITORIES_MAX,
        required=False,
        help_text='Country codes and region codes served, e.g. ["US", "EMEA"].',
    )
    specializations = serializers.ListField(
        child=TextField(max_length=40),
        max_length=100,
        required=False,
        help_text="Codes of the tenant's product lines.",
    )
    certifications = serializers.ListField(
        child=CertificationInput(),
        max_length=CERTIFICATIONS_MAX,
        required=False,
        help_text="Replaces the partner's certifications: [{product_line, name, expires_on}].",
    )
    lead_capacity = WholeNumberField(
        min_value=0,
        max_value=LEAD_CAPACITY_MAX,
        required=False,
        allow_null=True,
        help_text="Most open offers and accepted, unconverted leads at once; null: the "
        "tier's. Vendor roles only.",
    )

    refused_fields: ClassVar[dict[str, str]] = {
        "status": "Read-only here: use the suspend and reactivate endpoints.",
    }


class CertificationOutput(serializers.Serializer):
    product_line = serializers.CharField()
    name = serializers.CharField()
    expires_on = serializers.DateField()


class PartnerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    tier_id = serializers.IntegerField()
    country = serializers.CharField()
    region = serializers.ChoiceField(choices=Region.choices)
    status = serializers.ChoiceField(choices=PartnerOrganization.Status.choices)
    channel_manager_id = serializers.IntegerField(allow_null=True)
    territories = serializers.ListField(child=serializers.CharField())
    specializations = serializers.ListField(child=serializers.CharField())
    certifications = CertificationOutput(many=True, source="certifications.all")
    lead_capacity = serializers.IntegerField(
        source="effective_lead_capacity", help_text="The partner's own, else its tier's."
    )
    lead_capacity_from_tier = serializers.SerializerMethodField()

    def get_lead_capacity_from_tier(self, partner: PartnerOrganization) -> bool:
        return partner.lead_capacity is None


# --- Invitations ----------------------------------------------------------------------------------


class InvitationCreateInput(InputSerializer):
    email = EmailAddressField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices)
    partner_id = ScopedIdField(
        model=PartnerOrganization, scope=visible_partners, required=False, allow_null=True
    )


class InvitationOutput(serializers.Serializer):
    """An invitation as the inviter sees it: never its link or token."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)
    partner_id = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField()
    status = serializers.CharField(help_text="pending, accepted, revoked or expired")

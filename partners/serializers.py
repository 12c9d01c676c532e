"""API serializers of the partners app: input validation only, and output descriptions."""

from __future__ import annotations

from typing import ClassVar

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
from partners.models import PartnerOrganization, PartnerTier, Region
from partners.services import PROTECTION_DAYS

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


class TierOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    rank = serializers.IntegerField()
    auto_approval_limit = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    protection_days = serializers.IntegerField()


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


class PartnerUpdateInput(PartnerCreateInput):
    """Used with partial=True: only the fields sent change."""

    refused_fields: ClassVar[dict[str, str]] = {
        "status": "Read-only here: use the suspend and reactivate endpoints.",
    }


class PartnerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    tier_id = serializers.IntegerField()
    country = serializers.CharField()
    region = serializers.ChoiceField(choices=Region.choices)
    status = serializers.ChoiceField(choices=PartnerOrganization.Status.choices)
    channel_manager_id = serializers.IntegerField(allow_null=True)


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

"""Portal forms. They validate input only; the services do the writes and the rules.

Every model choice is scoped to the acting tenant, so an ID of another tenant is
"Select a valid choice", exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django_countries import countries

from accounts.models import NAME_MAX, PARTNER_ROLES, Role, Tenant
from partners.models import PartnerOrganization, PartnerTier, Region
from partners.selectors import channel_manager_choices, partner_choices, tier_choices

TIER_NAME_MAX = PartnerTier._meta.get_field("name").max_length
RANK_MAX = 32767


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} <{obj.email}>" if obj.full_name else obj.email


class TierForm(forms.Form):
    name = forms.CharField(max_length=TIER_NAME_MAX)
    rank = forms.IntegerField(
        min_value=0, max_value=RANK_MAX, help_text="A higher rank is a better tier."
    )
    auto_approval_limit = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=999_999_999_999.99,
        max_digits=14,
        decimal_places=2,
        label="Auto-approval limit",
        help_text="Registrations up to this amount are approved at once when screening finds "
        "nothing. Empty: every registration of this tier is reviewed.",
    )
    protection_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=730,
        initial=90,
        label="Protection (days)",
        help_text="How long an approved registration is protected. 1 to 730; empty: 90, or "
        "unchanged.",
    )

    def clean_protection_days(self) -> int:
        days = self.cleaned_data["protection_days"]
        return (
            days
            if days is not None
            else self.get_initial_for_field(self.fields["protection_days"], "protection_days")
        )

    @staticmethod
    def initial_for(tier: PartnerTier) -> dict[str, Any]:
        return {name: getattr(tier, name) for name in TierForm.base_fields}


class PartnerForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX)
    tier = forms.ModelChoiceField(queryset=PartnerTier.objects.none())
    country = forms.ChoiceField(choices=[])
    region = forms.ChoiceField(
        choices=[("", "From the country"), *Region.choices],
        required=False,
        help_text="Empty: the country's region.",
    )
    channel_manager = UserChoiceField(
        queryset=None, required=False, empty_label="No channel manager"
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = tier_choices(tenant=tenant)
        self.fields["country"].choices = [("", "---------"), *countries]
        self.fields["channel_manager"].queryset = channel_manager_choices(tenant=tenant)

    @staticmethod
    def initial_for(partner: PartnerOrganization) -> dict[str, Any]:
        return {
            "name": partner.name,
            "tier": partner.tier_id,
            "country": partner.country.code,
            "region": partner.region,
            "channel_manager": partner.channel_manager_id,
        }


class PartnerStatusForm(forms.Form):
    action = forms.ChoiceField(choices=(("suspend", "Suspend"), ("reactivate", "Reactivate")))


class MembershipActiveForm(forms.Form):
    action = forms.ChoiceField(choices=(("activate", "Activate"), ("deactivate", "Deactivate")))


class VendorInvitationForm(forms.Form):
    """A vendor admin invites on either side: a vendor role, or a partner role and partner."""

    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=Role.choices)
    partner = forms.ModelChoiceField(
        queryset=PartnerOrganization.objects.none(),
        required=False,
        empty_label="None (vendor roles)",
        help_text="Required for partner roles; empty for vendor roles.",
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partner_choices(tenant=tenant, active_only=True)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        role, partner = cleaned.get("role"), cleaned.get("partner")
        if role in PARTNER_ROLES and partner is None and "partner" not in self.errors:
            self.add_error("partner", "Choose the partner organization for a partner role.")
        if role and role not in PARTNER_ROLES and partner is not None:
            self.add_error("partner", "Vendor roles belong to no partner organization.")
        return cleaned


class PartnerInvitationForm(forms.Form):
    """A partner admin invites colleagues into their own organization."""

    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in Role if r in PARTNER_ROLES])

"""Forms of the forecast pages. Choice lists come from the acting member's tenant only;
the services check every value again (period, scope, amount, note)."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Tenant
from analytics.models import Scope
from analytics.selectors.dimensions import GROUP_BY_CHOICES
from partners.models import PartnerOrganization, PartnerTier

PERIOD_HELP = "A fiscal quarter (2027-Q1) or a month (2027-03)."


class ForecastFilterForm(forms.Form):
    period = forms.CharField(max_length=40, required=False, help_text=PERIOD_HELP)
    group_by = forms.ChoiceField(choices=GROUP_BY_CHOICES, required=False, label="Group by")


class PeriodFilterForm(forms.Form):
    period = forms.CharField(max_length=40, required=False, help_text=PERIOD_HELP)


class ScopedForm(forms.Form):
    period = forms.CharField(max_length=40, help_text=PERIOD_HELP)
    scope = forms.ChoiceField(choices=Scope.choices)
    tier = forms.ModelChoiceField(queryset=PartnerTier.objects.none(), required=False)
    partner = forms.ModelChoiceField(queryset=PartnerOrganization.objects.none(), required=False)
    amount = forms.CharField(max_length=40, help_text="In the tenant's currency, e.g. 125000.00.")

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = PartnerTier.objects.for_tenant(tenant)  # type: ignore[attr-defined]
        self.fields["partner"].queryset = PartnerOrganization.objects.for_tenant(tenant)  # type: ignore[attr-defined]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "period": data["period"],
            "scope": data["scope"],
            "amount": data["amount"],
            "tier_id": data["tier"].pk if data.get("tier") else None,
            "partner_id": data["partner"].pk if data.get("partner") else None,
        }


class TargetForm(ScopedForm):
    pass


class AdjustmentForm(ScopedForm):
    scope = forms.ChoiceField(choices=[(Scope.PARTNER, "Partner"), (Scope.TIER, "Tier")])
    amount = forms.CharField(
        max_length=40, help_text="Added to the commit figure; negative to lower it, e.g. -5000."
    )
    note = forms.CharField(
        max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), help_text="Why."
    )

    def service_kwargs(self) -> dict[str, Any]:
        return {**super().service_kwargs(), "note": self.cleaned_data["note"]}


class TargetImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV with the header period,scope,name,amount (scope: tenant, tier or "
        "partner; name: the tier's or partner's name, empty for the tenant)."
    )

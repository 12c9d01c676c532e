"""Forms of the vendor commission pages. They validate input only; the services in
commissions/services/ do the writes and enforce the rules (start dates, transitions).

Every choice is scoped to the acting tenant, so another tenant's partner is "Select a valid
choice", exactly like one that does not exist. The plan form has one rate field per tier
of the tenant and one bonus field per product line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from accounts.errors import ValidationFailed
from accounts.forms import SelectedIdsField
from accounts.models import Tenant
from commissions.models import CommissionEntry, PlanVersion
from commissions.selectors import Period, period_parse
from deals.models import ProductLine
from partners.models import PartnerOrganization, PartnerTier
from pipeline.forms import TenantForm

DATE = forms.DateInput(attrs={"type": "date"})
PERCENT: dict[str, Any] = {"min_value": 0, "max_value": 100, "max_digits": 7, "decimal_places": 4}
FACTOR: dict[str, Any] = {"min_value": 0, "max_value": 10, "max_digits": 6, "decimal_places": 4}
MONEY: dict[str, Any] = {
    "min_value": 0,
    "max_value": 999_999_999_999.99,
    "max_digits": 14,
    "decimal_places": 2,
}
SCALARS = (
    "name",
    "effective_from",
    "registered_multiplier",
    "unregistered_multiplier",
    "cap_per_deal",
    "accelerator_threshold",
    "accelerator_rate",
)


class PlanVersionForm(TenantForm):
    """A plan version: its scalars, a base rate per tier and a bonus per product line."""

    name = forms.CharField(max_length=100)
    effective_from = forms.DateField(
        widget=DATE,
        label="Starts on",
        help_text="A day after today, or before the earliest version (to cover won deals "
        "that no plan covered).",
    )
    registered_multiplier = forms.DecimalField(
        **FACTOR,
        help_text="Applied to the base of deals that came through an approved "
        "registration (e.g. 1.0).",
    )
    unregistered_multiplier = forms.DecimalField(
        **FACTOR, help_text="Applied to the base of partner deals without one (e.g. 0.5)."
    )
    cap_per_deal = forms.DecimalField(
        **MONEY, required=False, label="Cap per deal", help_text="Empty: no cap."
    )
    accelerator_threshold = forms.DecimalField(
        **MONEY,
        required=False,
        label="Accelerator threshold",
        help_text="A partner's won amount in the quarter above which the accelerator applies.",
    )
    accelerator_rate = forms.DecimalField(
        **PERCENT,
        required=False,
        label="Accelerator rate (%)",
        help_text="Extra percent of the deal amount. Set both or neither.",
    )

    def __init__(self, *args: Any, source: PlanVersion | None = None, **kwargs: Any) -> None:
        self.source = source
        super().__init__(*args, **kwargs)

    def scope(self, tenant: Tenant) -> None:
        source = self.source
        rates = {r.tier_id: r.rate for r in source.tier_rates.all()} if source else {}
        bonuses = (
            {b.product_line_id: b.bonus for b in source.product_bonuses.all()} if source else {}
        )
        self.tiers = list(PartnerTier.objects.for_tenant(tenant).order_by("-rank", "name"))
        lines = ProductLine.objects.for_tenant(tenant).order_by("name")
        self.lines = [line for line in lines if line.is_active or line.pk in bonuses]
        self.source_bonus_ids = set(bonuses)
        for tier in self.tiers:
            self.fields[f"tier_{tier.pk}"] = forms.DecimalField(
                **PERCENT, label=f"{tier.name} base rate (%)", initial=rates.get(tier.pk, 0)
            )
        for line in self.lines:
            self.fields[f"bonus_{line.pk}"] = forms.DecimalField(
                **PERCENT,
                required=False,
                label=f"{line.name} bonus (%)",
                initial=bonuses.get(line.pk),
                help_text="Empty: no bonus.",
            )
        if source is not None:
            for name in SCALARS[2:]:
                self.fields[name].initial = getattr(source, name)

    @property
    def scalar_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in SCALARS]

    @property
    def tier_fields(self) -> list[forms.BoundField]:
        return [self[f"tier_{tier.pk}"] for tier in self.tiers]

    @property
    def bonus_fields(self) -> list[forms.BoundField]:
        return [self[f"bonus_{line.pk}"] for line in self.lines]

    def changes(self) -> dict[str, Any]:
        """The service's keyword arguments; an emptied bonus that existed is removed (None)."""
        data = self.cleaned_data
        changes: dict[str, Any] = {name: data[name] for name in SCALARS}
        changes["tier_rates"] = {tier.pk: data[f"tier_{tier.pk}"] for tier in self.tiers}
        bonuses: dict[int, Decimal | None] = {}
        for line in self.lines:
            value = data[f"bonus_{line.pk}"]
            if value is not None:
                bonuses[line.pk] = value
            elif line.pk in self.source_bonus_ids:
                bonuses[line.pk] = None
        changes["product_bonuses"] = bonuses
        return changes


class ApproveEntriesForm(forms.Form):
    entry = SelectedIdsField(noun="entry", label="Entries")


class PayoutForm(forms.Form):
    entry = SelectedIdsField(noun="entry", label="Entries")
    reference = forms.CharField(max_length=100, label="Payout reference")
    paid_on = forms.DateField(
        required=False, widget=DATE, label="Paid on", help_text="Empty: today."
    )


def clean_period(value: str) -> Period | None:
    if not value:
        return None
    try:
        return period_parse(value)
    except ValidationFailed as error:
        raise forms.ValidationError(error.message) from error


class LedgerFilterForm(TenantForm):
    """GET filters of the ledger and its CSV export."""

    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *CommissionEntry.Status.choices]
    )
    partner = forms.ModelChoiceField(
        queryset=PartnerOrganization.objects.none(), required=False, empty_label="Any partner"
    )
    period = forms.CharField(
        required=False, max_length=20, help_text="A month (2026-11) or a quarter (2026-Q4)."
    )

    def scope(self, tenant: Tenant) -> None:
        partners = PartnerOrganization.objects.for_tenant(tenant).order_by("name")
        self.fields["partner"].queryset = partners  # type: ignore[attr-defined]

    def clean_period(self) -> Period | None:
        return clean_period(self.cleaned_data["period"].strip())


class PeriodForm(forms.Form):
    period = forms.CharField(max_length=20, help_text="A month (2026-11) or a quarter (2026-Q4).")

    def clean_period(self) -> Period | None:
        return clean_period(self.cleaned_data["period"].strip())

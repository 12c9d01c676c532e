"""Forms of the leads pages: a new lead (vendor), declining an offer (partner)."""

from __future__ import annotations

from typing import Any

from django import forms
from django_countries import countries

from accounts.models import NAME_MAX, Tenant
from deals.selectors import product_lines_for
from leads.models import WORK_STATUSES, LeadOffer
from leads.services.intake import TEXT_LIMITS
from leads.services.offers import NOTE_MAX


class LeadForm(forms.Form):
    company_name = forms.CharField(max_length=NAME_MAX)
    company_website = forms.CharField(max_length=TEXT_LIMITS["company_website"], required=False)
    country = forms.ChoiceField(choices=[("", "Choose a country"), *countries])
    contact_name = forms.CharField(max_length=NAME_MAX, required=False)
    contact_email = forms.EmailField(max_length=254, required=False)
    contact_phone = forms.CharField(max_length=40, required=False)
    product_lines = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Product interest"
    )
    estimated_value = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False
    )
    source = forms.CharField(
        max_length=TEXT_LIMITS["source"], required=False, label="Source / campaign"
    )
    notes = forms.CharField(max_length=TEXT_LIMITS["notes"], required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_lines"].choices = [
            (line.code, line.name) for line in product_lines_for(tenant=tenant)
        ]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("estimated_value") is None:
            data.pop("estimated_value", None)
        return data


class DeclineForm(forms.Form):
    reason_code = forms.ChoiceField(choices=LeadOffer.Reason.choices, label="Reason")
    note = forms.CharField(
        max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LeadStatusForm(forms.Form):
    status = forms.ChoiceField(choices=WORK_STATUSES)
    note = forms.CharField(max_length=NOTE_MAX, required=False)


class ConvertForm(forms.Form):
    expected_close_date = forms.DateField(required=False)
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)

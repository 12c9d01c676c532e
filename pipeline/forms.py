"""Forms of the pipeline pages. They validate input only; the services do the writes.

Every model choice is scoped to the acting tenant, so an ID of another tenant is
"Select a valid choice", exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django_countries import countries

from accounts.models import NAME_MAX, Tenant
from partners.forms import UserChoiceField
from partners.selectors import channel_manager_choices
from pipeline.filters import stage_choices
from pipeline.models import Activity, CoSellRequest, LostReason, Opportunity

DATE = forms.DateInput(attrs={"type": "date"})
AMOUNT = {"min_value": 0, "max_value": 999_999_999_999.99, "max_digits": 14, "decimal_places": 2}


class TenantForm(forms.Form):
    """A form whose choices come from one tenant (`scope()` sets them)."""

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.scope(tenant)

    def scope(self, tenant: Tenant) -> None:
        """Hook: set the querysets and choices of this tenant."""


class OpportunityForm(TenantForm):
    """The fields of a deal anyone working it may change (never its stage or status)."""

    name = forms.CharField(max_length=NAME_MAX, label="Deal name")
    amount = forms.DecimalField(required=False, **AMOUNT)
    expected_close_date = forms.DateField(required=False, widget=DATE)
    budget_confirmed = forms.BooleanField(required=False)
    decision_maker = forms.BooleanField(required=False, label="Decision maker identified")
    need = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    timeline = forms.CharField(required=False, max_length=200)
    decision_maker_name = forms.CharField(
        required=False, max_length=NAME_MAX, label="Decision maker's name"
    )
    next_step = forms.CharField(required=False, max_length=500)
    next_step_date = forms.DateField(required=False, widget=DATE)
    competitor = forms.CharField(required=False, max_length=NAME_MAX)
    purchase_order_number = forms.CharField(
        required=False, max_length=100, label="Purchase-order number"
    )

    @classmethod
    def initial_for(cls, opportunity: Opportunity) -> dict[str, Any]:
        return {name: getattr(opportunity, name) for name in cls.base_fields}


class MoveForm(TenantForm):
    stage = forms.ModelChoiceField(queryset=None)
    note = forms.CharField(required=False, max_length=1000)

    def scope(self, tenant: Tenant) -> None:
        self.fields["stage"].queryset = stage_choices(tenant=tenant)


class CloseWonForm(TenantForm):
    amount = forms.DecimalField(required=False, **AMOUNT)
    close_date = forms.DateField(required=False, widget=DATE)
    note = forms.CharField(required=False, max_length=1000)


class CloseLostForm(TenantForm):
    reason = forms.ChoiceField(choices=[], required=False, label="Lost reason")
    note = forms.CharField(required=False, max_length=2000)

    def scope(self, tenant: Tenant) -> None:
        reasons = LostReason.objects.for_tenant(tenant).filter(is_active=True)
        self.fields["reason"].choices = [
            ("", "Choose a reason"),
            *reasons.values_list("code", "label"),
        ]


class ReopenForm(TenantForm):
    note = forms.CharField(required=False, max_length=1000)


class ActivityForm(TenantForm):
    kind = forms.ChoiceField(choices=Activity.Kind.choices)
    body = forms.CharField(
        max_length=5000, label="What happened", widget=forms.Textarea(attrs={"rows": 3})
    )


class VendorActivityForm(ActivityForm):
    vendor_internal = forms.BooleanField(
        required=False, label="Internal note (partners do not see it)"
    )


class CoSellRequestForm(TenantForm):
    kind = forms.ChoiceField(choices=CoSellRequest.Kind.choices, label="Help needed")
    need_by = forms.DateField(widget=DATE, label="Needed by")
    details = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CoSellAssignForm(TenantForm):
    assignee = UserChoiceField(queryset=None)

    def scope(self, tenant: Tenant) -> None:
        self.fields["assignee"].queryset = channel_manager_choices(tenant=tenant)


class CoSellDeclineForm(TenantForm):
    reason = forms.CharField(max_length=500, label="Why")


class CoSellCompleteForm(TenantForm):
    pass


class DirectDealForm(TenantForm):
    """A vendor's direct deal: the customer (found or created) and the deal."""

    customer_name = forms.CharField(max_length=NAME_MAX)
    customer_website = forms.CharField(max_length=255, required=False)
    customer_country = forms.ChoiceField(choices=[], required=False)
    name = forms.CharField(max_length=NAME_MAX, label="Deal name")
    amount = forms.DecimalField(required=False, **AMOUNT)
    expected_close_date = forms.DateField(required=False, widget=DATE)
    owner = UserChoiceField(queryset=None, required=False, empty_label="Me")

    def scope(self, tenant: Tenant) -> None:
        self.fields["customer_country"].choices = [("", "---------"), *countries]
        self.fields["owner"].queryset = channel_manager_choices(tenant=tenant)

"""Forms of the pipeline pages. They validate input only; the services do the writes.

Every model choice is scoped to the acting tenant, so an ID of another tenant is
"Select a valid choice", exactly like one that does not exist.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from django import forms
from django_countries import countries

from accounts.models import NAME_MAX, Tenant
from partners.forms import UserChoiceField
from partners.selectors import channel_manager_choices
from pipeline.deal_rules import validate_close_date, validate_positive_amount
from pipeline.filters import stage_choices
from pipeline.models import (
    Activity,
    CoSellResourceType,
    ForecastCategory,
    LostReason,
    Opportunity,
)
from pipeline.selectors.cosell import pool_member_choices

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


class DealFieldsForm(TenantForm):
    """A form with a deal's amount and expected close date: both follow the shared rules
    (pipeline/deal_rules.py) when given or changed; an overdue date left as it is stays."""

    def clean_amount(self) -> Any:
        value = self.cleaned_data.get("amount")
        if "amount" in self.changed_data:
            validate_positive_amount(value)
        return value

    def clean_expected_close_date(self) -> Any:
        value = self.cleaned_data.get("expected_close_date")
        if "expected_close_date" in self.changed_data:
            validate_close_date(value)
        return value


class OpportunityForm(DealFieldsForm):
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


class MoveActionForm(DealFieldsForm):
    """A move (or close): optionally the fields it is missing, filled in right there
    (`missing`: criterion codes, the same names as the deal's fields), and for vendor
    admins a forced move with its reason."""

    force = forms.BooleanField(required=False, label="Force the move")
    force_reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Why force it",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, missing: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fill_names = [
            n for n in missing if n in OpportunityForm.base_fields and n not in self.fields
        ]
        for name in self.fill_names:  # the browser asks for them; the service decides
            self.fields[name] = field = copy.deepcopy(OpportunityForm.base_fields[name])
            field.widget.attrs["required"] = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("force") and not (data.get("force_reason") or "").strip():
            self.add_error("force_reason", "Say why the move is forced.")
        return data

    FORCE_FIELDS = ("force", "force_reason")

    @property
    def own_fields(self) -> list[forms.BoundField]:
        """The action's own fields (not the missing ones, not forcing)."""
        return [
            self[name]
            for name in self.base_fields
            if name not in self.FORCE_FIELDS and not self[name].is_hidden
        ]

    @property
    def fill_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fill_names]


class MoveForm(MoveActionForm):
    stage = forms.ModelChoiceField(queryset=None)
    note = forms.CharField(required=False, max_length=1000)

    field_order = ("stage", "note")

    def scope(self, tenant: Tenant) -> None:
        self.fields["stage"].queryset = stage_choices(tenant=tenant)


class CloseWonForm(MoveActionForm):
    amount = forms.DecimalField(required=False, **AMOUNT)
    close_date = forms.DateField(required=False, widget=DATE)
    note = forms.CharField(required=False, max_length=1000)

    field_order = ("amount", "close_date", "note")


class CloseLostForm(TenantForm):
    reason = forms.ChoiceField(choices=[], required=False, label="Lost reason")
    note = forms.CharField(required=False, max_length=2000)

    def scope(self, tenant: Tenant) -> None:
        reasons = LostReason.objects.for_tenant(tenant).filter(is_active=True)
        self.fields["reason"].choices = [
            ("", "Choose a reason"),
            *reasons.values_list("code", "label"),
        ]


class ForecastCategoryForm(TenantForm):
    """The owner's forecast category of an open deal; "" follows the stage's."""

    category = forms.ChoiceField(
        choices=[("", "As its stage")]
        + [c for c in ForecastCategory.choices if c[0] != ForecastCategory.CLOSED],
        required=False,
        label="Forecast category",
    )


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
    resource_type = forms.ModelChoiceField(
        queryset=CoSellResourceType.objects.none(), label="Help needed", to_field_name="code"
    )
    need = forms.CharField(
        max_length=2000, label="What you need", widget=forms.Textarea(attrs={"rows": 2})
    )
    need_by = forms.DateField(widget=DATE, label="Needed by")
    details = forms.CharField(
        required=False, max_length=2000, label="Note", widget=forms.Textarea(attrs={"rows": 2})
    )

    def scope(self, tenant: Tenant) -> None:
        self.fields["resource_type"].queryset = CoSellResourceType.objects.for_tenant(
            tenant
        ).filter(is_active=True)


class CoSellAssignForm(TenantForm):
    person = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Pool member",
        empty_label="The least loaded eligible member",
    )
    reason = forms.CharField(
        max_length=500, required=False, label="Reason (when you choose the member)"
    )

    def scope(self, tenant: Tenant) -> None:
        self.fields["person"].queryset = pool_member_choices(tenant=tenant)
        self.fields["person"].label_from_instance = lambda m: m.user.display_name


class CoSellDeclineForm(TenantForm):
    reason = forms.CharField(max_length=500, label="Why")


class CoSellCompleteForm(TenantForm):
    pass


class CoSellEngageForm(TenantForm):
    note = forms.CharField(required=False, max_length=2000, label="How you reached them")


class DirectDealForm(DealFieldsForm):
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

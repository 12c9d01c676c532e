"""Forms of the co-sell pool settings pages (vendor admins). They validate input only;
pipeline/services/cosell_pool.py does the writes. Every choice is scoped to the tenant."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Tenant
from partners.models import Region
from pipeline.models import CoSellResource, CoSellResourceType, Stage
from pipeline.selectors.cosell import vendor_person_choices

DATE = forms.DateInput(attrs={"type": "date"})


class ScopedForm(forms.Form):
    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.scope(tenant)

    def scope(self, tenant: Tenant) -> None:
        """Hook: the tenant's choices."""


class CoSellTypeForm(ScopedForm):
    name = forms.CharField(max_length=100)
    stages = forms.ModelMultipleChoiceField(
        queryset=Stage.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Deals in these stages qualify. None ticked: any open stage.",
    )
    min_amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        label="Smallest deal amount",
        help_text="Empty: any amount.",
    )
    hours_per_request = forms.IntegerField(
        min_value=1, max_value=80, initial=4, label="Hours one request takes"
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Offered to partners")

    def scope(self, tenant: Tenant) -> None:
        self.fields["stages"].queryset = Stage.objects.for_tenant(tenant).filter(
            kind=Stage.Kind.OPEN, is_active=True
        )


class PoolFieldsForm(ScopedForm):
    types = forms.ModelMultipleChoiceField(
        queryset=CoSellResourceType.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Kinds of help",
    )
    regions = forms.MultipleChoiceField(
        choices=Region.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    product_lines = forms.CharField(
        required=False,
        max_length=900,
        label="Product lines",
        help_text="Product-line codes, separated by commas.",
    )
    weekly_capacity = forms.IntegerField(min_value=1, max_value=200)
    capacity_unit = forms.ChoiceField(choices=CoSellResource.CapacityUnit.choices)

    def scope(self, tenant: Tenant) -> None:
        self.fields["types"].queryset = CoSellResourceType.objects.for_tenant(tenant)

    def clean_product_lines(self) -> list[str]:
        return [p.strip() for p in self.cleaned_data["product_lines"].split(",") if p.strip()]


class PoolAddForm(PoolFieldsForm):
    person = forms.ModelChoiceField(queryset=None, label="Vendor person")

    field_order = ("person",)

    def scope(self, tenant: Tenant) -> None:
        super().scope(tenant)
        self.fields["person"].queryset = vendor_person_choices(tenant=tenant).exclude(
            cosell_resources__isnull=False
        )
        self.fields["person"].label_from_instance = lambda m: m.user.display_name


class PoolEditForm(PoolFieldsForm):
    is_active = forms.BooleanField(required=False, label="Takes requests")


class UnavailabilityForm(forms.Form):
    start = forms.DateField(widget=DATE)
    end = forms.DateField(widget=DATE)
    note = forms.CharField(max_length=200, required=False)


class ClockForm(forms.Form):
    sla_business_days = forms.IntegerField(
        min_value=1, max_value=30, label="First contact within (business days)"
    )
    large_deal_sla_business_days = forms.IntegerField(
        min_value=1, max_value=30, label="For large deals (business days)"
    )
    large_deal_amount = forms.DecimalField(
        min_value=0, max_digits=14, decimal_places=2, label="Large deals from (amount)"
    )

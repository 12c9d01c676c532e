"""Forms of the partner's registration pages. They validate input only; the services do the
writes and the rules (what a submission needs, which transitions are allowed).

Product-line choices are the acting tenant's active lines, so a code of another tenant is
"Select a valid choice", exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django_countries import countries

from accounts.models import NAME_MAX, Tenant
from accounts.portals import TenantFilterSet
from deals.models import DealRegistration
from deals.selectors import product_lines_for
from pipeline.forms import AMOUNT, DATE, DealFieldsForm

SAVE_DRAFT, SUBMIT = "draft", "submit"


class RegistrationForm(DealFieldsForm):
    """A registration's fields, grouped on the page as customer, deal and qualification.
    The amount and expected close date follow the rules of every deal form (above zero;
    today or later, within ten years) when given or changed."""

    customer_name = forms.CharField(max_length=NAME_MAX, label="Customer name")
    customer_website = forms.CharField(
        max_length=255, required=False, label="Website", help_text="e.g. fabrikam.com"
    )
    customer_country = forms.ChoiceField(choices=[], required=False, label="Country")
    contact_name = forms.CharField(max_length=NAME_MAX, required=False, label="Contact name")
    contact_email = forms.EmailField(max_length=254, required=False, label="Contact e-mail")
    contact_phone = forms.CharField(max_length=40, required=False, label="Contact phone")
    product_lines = forms.MultipleChoiceField(
        choices=[], required=False, widget=forms.CheckboxSelectMultiple
    )
    amount = forms.DecimalField(required=False, label="Estimated amount", **AMOUNT)
    currency = forms.CharField(min_length=3, max_length=3, required=False)
    expected_close_date = forms.DateField(required=False, widget=DATE)
    budget_confirmed = forms.BooleanField(required=False)
    decision_maker = forms.BooleanField(required=False, label="Decision maker identified")
    need = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    timeline = forms.CharField(required=False, max_length=200)
    description = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )

    CUSTOMER = (
        "customer_name",
        "customer_website",
        "customer_country",
        "contact_name",
        "contact_email",
        "contact_phone",
    )
    DEAL = ("product_lines", "amount", "currency", "expected_close_date")
    QUALIFICATION = ("budget_confirmed", "decision_maker", "need", "timeline", "description")

    def scope(self, tenant: Tenant) -> None:
        self.fields["customer_country"].choices = [("", "---------"), *countries]  # type: ignore[attr-defined]
        self.fields["product_lines"].choices = list(
            product_lines_for(tenant=tenant).values_list("code", "name")
        )
        self.fields["currency"].initial = tenant.currency
        name = self.fields["customer_name"].widget
        name.attrs["autocomplete"] = "off"

    def section(self, names: tuple[str, ...]) -> list[forms.BoundField]:
        return [self[name] for name in names]

    @property
    def customer_fields(self) -> list[forms.BoundField]:
        return self.section(self.CUSTOMER)

    @property
    def deal_fields(self) -> list[forms.BoundField]:
        return self.section(self.DEAL)

    @property
    def qualification_fields(self) -> list[forms.BoundField]:
        return self.section(self.QUALIFICATION)

    def service_fields(self) -> dict[str, Any]:
        """The cleaned data in the services' terms (the action button is not a field)."""
        data = dict(self.cleaned_data)
        data["currency"] = data["currency"] or self.tenant.currency
        data["customer_country"] = data["customer_country"] or ""
        return data

    @classmethod
    def initial_for(cls, registration: DealRegistration) -> dict[str, Any]:
        initial = {
            name: getattr(registration, name) for name in cls.base_fields if name != "product_lines"
        }
        initial["customer_country"] = str(registration.customer_country or "")
        initial["product_lines"] = [line.code for line in registration.product_lines.all()]
        return initial


class SimilarCustomerForm(forms.Form):
    """The registration form's live hint: what is being typed (never saved)."""

    customer_name = forms.CharField(max_length=NAME_MAX, required=False)
    customer_website = forms.CharField(max_length=255, required=False)
    customer_country = forms.CharField(max_length=2, required=False)


class WithdrawForm(forms.Form):
    note = forms.CharField(required=False, max_length=2000, label="Note (optional)")
    confirm = forms.BooleanField(
        label="Confirm",
        help_text="Yes, withdraw this registration (any protection ends).",
        error_messages={"required": "Tick the box to withdraw the registration."},
    )


class ExtensionRequestForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        label="Why the deal needs more time",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PartnerRegistrationFilter(TenantFilterSet):
    """The partner's registration list: by status (the scope is applied before)."""

    status = django_filters.ChoiceFilter(
        choices=DealRegistration.Status.choices, empty_label="Any status"
    )
    protection_ends = django_filters.ChoiceFilter(
        choices=[("week", "This week")],
        empty_label="Any time",
        label="Protection ends",
        method="filter_protection_ends",
    )

    class Meta:
        model = DealRegistration
        fields = ("status", "protection_ends")

    def filter_protection_ends(self, queryset: Any, name: str, value: str) -> Any:
        """The partner home's "Protections ending this week" figure (today + 6 days)."""
        from deals.home import protection_ends_window

        return queryset.filter(
            status=DealRegistration.Status.APPROVED, protected_until__range=protection_ends_window()
        )

"""Filters of the vendor's leads list; every choice list is scoped to the acting tenant."""

from __future__ import annotations

from datetime import datetime

import django_filters
from django import forms
from django.db.models import QuerySet
from django_countries import countries

from accounts.portals import TenantFilterSet
from leads.models import Lead, LeadImport
from leads.selectors import stale_q
from partners.selectors import partner_choices

DATE = forms.DateInput(attrs={"type": "date"})
AMOUNT = {"min_value": 0, "max_digits": 14, "decimal_places": 2}
STALE = (("yes", "Stale"), ("no", "Not stale"))


class VendorLeadFilter(TenantFilterSet):
    """Status, partner, source, country, staleness, created range, value range. The stale
    cutoff (the tenant's window) is given by the view."""

    q = django_filters.CharFilter(
        field_name="company_name", lookup_expr="icontains", label="Company contains", max_length=200
    )
    status = django_filters.ChoiceFilter(choices=Lead.Status.choices, empty_label="Any status")
    partner = django_filters.ModelChoiceFilter(queryset=None, widget=forms.HiddenInput)
    partner_name = django_filters.CharFilter(
        field_name="partner__name",
        lookup_expr="icontains",
        label="Partner name contains",
        max_length=200,
    )
    source = django_filters.CharFilter(
        field_name="source", lookup_expr="icontains", label="Source contains", max_length=100
    )
    country = django_filters.ChoiceFilter(choices=countries, empty_label="Any country")
    stale = django_filters.ChoiceFilter(
        choices=STALE, method="filter_stale", empty_label="Stale or not", label="Staleness"
    )
    created_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="Created from", widget=DATE
    )
    created_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="Created until", widget=DATE
    )
    value_min = django_filters.NumberFilter(
        field_name="estimated_value", lookup_expr="gte", label="Value at least", **AMOUNT
    )
    value_max = django_filters.NumberFilter(
        field_name="estimated_value", lookup_expr="lte", label="Value at most", **AMOUNT
    )
    lead_import = django_filters.ModelChoiceFilter(queryset=None, widget=forms.HiddenInput)

    class Meta:
        model = Lead
        fields = ("q", "status", "partner", "partner_name", "source", "country")

    def __init__(self, *args: object, stale_cutoff: datetime, **kwargs: object) -> None:
        self.stale_cutoff = stale_cutoff
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def scope_choices(self) -> None:
        self.filters["partner"].queryset = partner_choices(tenant=self.tenant)
        self.filters["lead_import"].queryset = LeadImport.objects.for_tenant(self.tenant).only("id")

    def filter_stale(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        stale = stale_q(self.stale_cutoff)
        return queryset.filter(stale) if value == "yes" else queryset.exclude(stale)

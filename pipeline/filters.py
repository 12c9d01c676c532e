"""Filters of the pipeline lists. Every choice list is scoped to the acting tenant.

A tenant may have thousands of partners and people: those are filtered by a name that
contains some text, with a hidden ID filter for links to one partner or owner.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from accounts.portals import TenantFilterSet
from partners.models import Region
from partners.selectors import partner_choices, tier_choices
from pipeline.models import CoSellRequest, Opportunity, Stage

YES_NO = (("yes", "Stale"), ("no", "Not stale"))
COSELL_CHOICES = (
    (CoSellRequest.Status.REQUESTED, "Waiting for an answer"),
    (CoSellRequest.Status.ASSIGNED, "Assigned, in progress"),
)
SORTS = {
    "-updated": ("-updated_at", "-id"),
    "name": ("name", "-id"),
    "-name": ("-name", "-id"),
    "amount": ("amount", "-id"),
    "-amount": ("-amount", "-id"),
    "close": ("expected_close_date", "-id"),
    "-close": ("-expected_close_date", "-id"),
    "stage": ("stage__position", "-id"),
    "-stage": ("-stage__position", "-id"),
    "updated": ("updated_at", "-id"),
}
SORT_CHOICES = (
    ("-updated", "Recently updated"),
    ("updated", "Least recently updated"),
    ("name", "Name A–Z"),
    ("-name", "Name Z–A"),
    ("-amount", "Largest amount"),
    ("amount", "Smallest amount"),
    ("close", "Closing soonest"),
    ("-close", "Closing latest"),
    ("stage", "Earliest stage"),
    ("-stage", "Latest stage"),
)
DATE = forms.DateInput(attrs={"type": "date"})
AMOUNT = {"min_value": 0, "max_digits": 14, "decimal_places": 2}


def stage_choices(*, tenant: object) -> QuerySet[Stage]:
    return Stage.objects.for_tenant(tenant).filter(is_active=True).order_by("position")


class OpportunityFilter(TenantFilterSet):
    """What both portals filter on: stage, status, close date, amount, staleness, sort."""

    q = django_filters.CharFilter(
        method="filter_text", label="Deal or customer contains", max_length=200
    )
    stage = django_filters.ModelChoiceFilter(queryset=None, empty_label="Any stage")
    status = django_filters.ChoiceFilter(
        choices=Opportunity.Status.choices, empty_label="Any status"
    )
    close_from = django_filters.DateFilter(
        field_name="expected_close_date", lookup_expr="gte", label="Closing from", widget=DATE
    )
    close_to = django_filters.DateFilter(
        field_name="expected_close_date", lookup_expr="lte", label="Closing until", widget=DATE
    )
    amount_min = django_filters.NumberFilter(
        field_name="amount", lookup_expr="gte", label="Amount at least", **AMOUNT
    )
    amount_max = django_filters.NumberFilter(
        field_name="amount", lookup_expr="lte", label="Amount at most", **AMOUNT
    )
    stale = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_stale", empty_label="Stale or not", label="Staleness"
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="filter_sort", empty_label="Newest first", label="Sort by"
    )

    class Meta:
        model = Opportunity
        fields = ("q", "stage", "status")

    def scope_choices(self) -> None:
        self.filters["stage"].queryset = stage_choices(tenant=self.tenant)

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(customer__name__icontains=value))

    def filter_stale(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(stale=value == "yes")

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.order_by(*SORTS[value])


class PartnerOpportunityFilter(OpportunityFilter):
    """The partner portal's table: the acting person's deals (the scope is applied before)."""


class VendorPipelineFilter(OpportunityFilter):
    """The vendor's pipeline across partners and direct deals."""

    partner = django_filters.ModelChoiceFilter(queryset=None, widget=forms.HiddenInput)
    partner_name = django_filters.CharFilter(
        field_name="partner__name",
        lookup_expr="icontains",
        label="Partner name contains",
        max_length=200,
    )
    source = django_filters.ChoiceFilter(
        choices=(("partner", "Partner deals"), ("direct", "Direct deals")),
        method="filter_source",
        empty_label="Partner and direct",
        label="Source",
    )
    tier = django_filters.ModelChoiceFilter(
        field_name="partner__tier", queryset=None, empty_label="Any tier"
    )
    region = django_filters.ChoiceFilter(
        field_name="partner__region", choices=Region.choices, empty_label="Any region"
    )
    owner = django_filters.ModelChoiceFilter(queryset=None, widget=forms.HiddenInput)
    owner_name = django_filters.CharFilter(
        method="filter_owner_name", label="Owner name or e-mail contains", max_length=200
    )
    cosell = django_filters.ChoiceFilter(
        choices=COSELL_CHOICES,
        method="filter_cosell",
        empty_label="Any",
        label="Co-sell requests",
    )

    class Meta:
        model = Opportunity
        fields = ("q", "partner", "partner_name", "source", "tier", "region", "stage", "owner")

    def scope_choices(self) -> None:
        super().scope_choices()
        self.filters["partner"].queryset = partner_choices(tenant=self.tenant)
        self.filters["tier"].queryset = tier_choices(tenant=self.tenant)
        self.filters["owner"].queryset = User.objects.filter(
            memberships__tenant=self.tenant
        ).distinct()

    def filter_source(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(partner__isnull=value == "direct")

    def filter_cosell(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Deals with at least one co-sell request in that status."""
        requests = CoSellRequest.objects.filter(opportunity=OuterRef("pk"), status=value)
        return queryset.filter(Exists(requests))

    def filter_owner_name(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(owner__full_name__icontains=value) | Q(owner__email__icontains=value)
        )

"""Filters of the portal lists. Every choice list is scoped to the acting tenant."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet

from accounts.models import Membership, Role
from accounts.portals import TenantFilterSet
from partners.models import Invitation, PartnerOrganization, Region
from partners.selectors import invitations_with_status, partner_choices, tier_choices

ACTIVE_CHOICES = (("yes", "Active"), ("no", "Inactive"))
INVITATION_STATUS_CHOICES = (
    ("pending", "Pending"),
    ("accepted", "Accepted"),
    ("revoked", "Revoked"),
    ("expired", "Expired"),
)


class PartnerFilter(TenantFilterSet):
    name = django_filters.CharFilter(label="Name contains", lookup_expr="icontains", max_length=200)
    status = django_filters.ChoiceFilter(
        choices=PartnerOrganization.Status.choices, empty_label="Any status"
    )
    tier = django_filters.ModelChoiceFilter(queryset=None, empty_label="Any tier")
    region = django_filters.ChoiceFilter(choices=Region.choices, empty_label="Any region")

    class Meta:
        model = PartnerOrganization
        fields = ("name", "status", "tier", "region")

    def scope_choices(self) -> None:
        self.filters["tier"].queryset = tier_choices(tenant=self.tenant)


class PeopleFilter(TenantFilterSet):
    # A tenant may have thousands of partners: filter by name, not from a select of all of
    # them. `partner` (an ID, validated against the tenant) stays for links to one partner.
    partner = django_filters.ModelChoiceFilter(queryset=None, widget=forms.HiddenInput)
    partner_name = django_filters.CharFilter(
        field_name="partner__name",
        lookup_expr="icontains",
        label="Partner name contains",
        max_length=200,
    )
    role = django_filters.ChoiceFilter(choices=Role.choices, empty_label="Any role")
    active = django_filters.ChoiceFilter(
        choices=ACTIVE_CHOICES, method="filter_active", empty_label="Active or not", label="Status"
    )

    class Meta:
        model = Membership
        fields = ("partner", "partner_name", "role", "active")

    def scope_choices(self) -> None:
        self.filters["partner"].queryset = partner_choices(tenant=self.tenant)

    def filter_active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_active=value == "yes")


class InvitationFilter(TenantFilterSet):
    status = django_filters.ChoiceFilter(
        choices=INVITATION_STATUS_CHOICES,
        method="filter_status",
        empty_label="Any status",
        label="Status",
    )
    role = django_filters.ChoiceFilter(choices=Role.choices, empty_label="Any role")

    class Meta:
        model = Invitation
        fields = ("status", "role")

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return invitations_with_status(queryset, value)

"""Filters of the registration API. Every choice list is scoped to the acting membership
(a partner cannot name another partner: that is a 400, like an id that does not exist)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from rest_framework.request import Request

from deals.models import DealRegistration, ProductLine
from partners.models import PartnerOrganization


def _membership(request: Request | None):  # noqa: ANN202  (Membership | None)
    return getattr(request, "membership", None)


def _filter_partners(request: Request | None) -> QuerySet[PartnerOrganization]:
    membership = _membership(request)
    if membership is None:
        return PartnerOrganization.objects.none()
    return PartnerOrganization.objects.visible_to(membership)


def _filter_product_lines(request: Request | None) -> QuerySet[ProductLine]:
    membership = _membership(request)
    if membership is None:
        return ProductLine.objects.none()
    return ProductLine.objects.for_tenant(membership.tenant_id)


class RegistrationFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=DealRegistration.Status.choices,
        help_text="One or more statuses (repeat the parameter).",
    )
    partner_id = django_filters.ModelChoiceFilter(field_name="partner", queryset=_filter_partners)
    product_line = django_filters.ModelChoiceFilter(
        field_name="product_lines",
        to_field_name="code",
        queryset=_filter_product_lines,
        help_text="A product-line code.",
    )
    created_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", help_text="Created on or after."
    )
    created_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", help_text="Created on or before."
    )
    submitted_from = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__gte", help_text="Last submitted on or after."
    )
    submitted_to = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__lte", help_text="Last submitted on or before."
    )

    class Meta:
        model = DealRegistration
        fields = (
            "status",
            "partner_id",
            "product_line",
            "created_from",
            "created_to",
            "submitted_from",
            "submitted_to",
        )

"""Filters of the commission API. Every choice list is scoped to the acting membership (a
partner cannot name another partner: that is a 400, like an id that does not exist)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework.request import Request

from accounts.errors import ValidationFailed
from accounts.models import Membership
from commissions.models import CommissionEntry
from commissions.selectors import Period, period_parse
from partners.models import PartnerOrganization
from pipeline.models import Opportunity

PERIOD_HELP = "A month (2026-11) or a quarter (2026-Q4), by the entry's creation date."


def _filter_partners(request: Request | None) -> QuerySet[PartnerOrganization]:
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        return PartnerOrganization.objects.none()
    return PartnerOrganization.objects.visible_to(membership)


def _filter_opportunities(request: Request | None) -> QuerySet[Opportunity]:
    membership: Membership | None = getattr(request, "membership", None)
    if membership is None:
        return Opportunity.objects.none()
    return Opportunity.objects.visible_to(membership)


class PeriodFormField(forms.CharField):
    """Cleans `2026-11` or `2026-Q4` to a Period."""

    def clean(self, value: Any) -> Period | None:
        text = super().clean(value)
        if not text:
            return None
        try:
            return period_parse(text)
        except ValidationFailed as error:
            raise forms.ValidationError(error.fields["period"][0]) from error


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2]|Q[1-4])$"})
class PeriodFilter(django_filters.Filter):
    field_class = PeriodFormField

    def filter(self, qs: QuerySet, value: Period | None) -> QuerySet:
        return qs if value is None else qs.filter(value.contains())


class CommissionEntryFilter(django_filters.FilterSet):
    partner_id = django_filters.ModelChoiceFilter(field_name="partner", queryset=_filter_partners)
    status = django_filters.ChoiceFilter(choices=CommissionEntry.Status.choices)
    kind = django_filters.ChoiceFilter(choices=CommissionEntry.Kind.choices)
    opportunity_id = django_filters.ModelChoiceFilter(
        field_name="opportunity", queryset=_filter_opportunities
    )
    period = PeriodFilter(help_text=PERIOD_HELP, max_length=8)

    class Meta:
        model = CommissionEntry
        fields = ("partner_id", "status", "kind", "opportunity_id", "period")

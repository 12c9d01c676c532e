"""The metrics query, the same for the pages and `GET /api/v1/metrics/`: period, partner,
tier, region, product line. Choices are scoped to the asker's tenant (partner people:
their own organization), so another tenant's or partner's id is an invalid choice (400)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from accounts.models import Membership, Role
from analytics.periods import Period, parse_period, quarter_of
from analytics.selectors.metrics import MetricFilters
from analytics.selectors.metrics_sql import Scope
from deals.models import ProductLine
from partners.models import PartnerOrganization, PartnerTier, Region


class MetricsQueryForm(forms.Form):
    period = forms.CharField(
        max_length=20,
        required=False,
        help_text="A fiscal quarter (2027-Q1) or a month (2027-03); default this quarter.",
    )
    # Hidden: set by the partner links of the page's tables (a tenant may have thousands of
    # partners; a select of them all took seconds to render), cleared by "All partners".
    partner_id = forms.ModelChoiceField(
        queryset=PartnerOrganization.objects.none(), required=False, widget=forms.HiddenInput
    )
    tier_id = forms.ModelChoiceField(
        queryset=PartnerTier.objects.none(), required=False, empty_label="All tiers"
    )
    region = forms.ChoiceField(choices=[("", "All regions"), *Region.choices], required=False)
    product_line = forms.ModelChoiceField(
        queryset=ProductLine.objects.none(),
        to_field_name="code",
        required=False,
        empty_label="All product lines",
    )

    def __init__(self, data: Any, *, membership: Membership) -> None:
        super().__init__(data)
        self.membership = membership
        tenant = membership.tenant
        self.fields["partner_id"].queryset = PartnerOrganization.objects.visible_to(membership)
        self.fields["partner_id"].label = "Partner"
        self.fields["tier_id"].queryset = PartnerTier.objects.for_tenant(tenant)
        self.fields["tier_id"].label = "Tier"
        self.fields["product_line"].queryset = ProductLine.objects.for_tenant(tenant)
        if membership.is_partner:
            del self.fields["partner_id"]

    def clean_period(self) -> Period:
        fiscal_start = self.membership.tenant.fiscal_year_start_month
        text = self.cleaned_data["period"]
        if not text:
            return quarter_of(timezone.localdate(), fiscal_start)
        try:
            return parse_period(text, fiscal_start)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error

    def filters(self) -> MetricFilters:
        data = self.cleaned_data
        return MetricFilters(
            partner=data.get("partner_id"),
            tier=data.get("tier_id"),
            region=data.get("region") or "",
            product_line=data.get("product_line"),
        )

    def scope(self) -> Scope:
        """Whose deals count: the tenant with the filters; partner people their own
        organization, a partner rep the deals they own."""
        filters, membership = self.filters(), self.membership
        partner_id = filters.partner.pk if filters.partner else None
        owner_id = None
        if membership.is_partner:
            partner_id = membership.partner_id
            owner_id = membership.user_id if membership.role == Role.PARTNER_REP else None
        return Scope(
            tenant_id=membership.tenant_id,
            partner_id=partner_id,
            owner_id=owner_id,
            tier_id=filters.tier.pk if filters.tier else None,
            region=filters.region,
            product_line_id=filters.product_line.pk if filters.product_line else None,
        )

    def query_string(self) -> str:
        """The valid query, to carry into CSV links."""
        data = self.cleaned_data
        pairs = {
            "period": data["period"].label,
            "partner_id": data["partner_id"].pk if data.get("partner_id") else "",
            "tier_id": data["tier_id"].pk if data.get("tier_id") else "",
            "region": data.get("region") or "",
            "product_line": data["product_line"].code if data.get("product_line") else "",
        }
        return urlencode({k: v for k, v in pairs.items() if v != ""})

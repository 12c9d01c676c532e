"""The lead reports' query, the same for the page and `GET /api/v1/leads/reports/`:
since / until (ISO dates or date-times; default the last 90 days up to now), tier_id,
partner_id and source. Choices are scoped to the tenant, so another tenant's partner or
tier is an invalid choice (400)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from accounts.models import Membership
from leads.business_hours import BusinessCalendar
from leads.reports import ReportQuery
from partners.models import PartnerOrganization, PartnerTier

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class LeadReportForm(forms.Form):
    since = forms.DateTimeField(
        required=False,
        widget=DATETIME,
        help_text=f"Offers made from; default {DEFAULT_DAYS} days ago.",
    )
    until = forms.DateTimeField(required=False, widget=DATETIME, help_text="Up to; default now.")
    tier_id = forms.ModelChoiceField(
        queryset=PartnerTier.objects.none(), required=False, empty_label="All tiers", label="Tier"
    )
    # Hidden: set by the partner links of the tables (a tenant may have thousands).
    partner_id = forms.ModelChoiceField(
        queryset=PartnerOrganization.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        label="Partner",
    )
    source = forms.CharField(max_length=100, required=False, help_text="A lead source, exactly.")

    def __init__(self, data: Any, *, membership: Membership) -> None:
        super().__init__(data)
        self.membership = membership
        tier, partner = self.fields["tier_id"], self.fields["partner_id"]
        assert isinstance(tier, forms.ModelChoiceField)  # noqa: S101
        assert isinstance(partner, forms.ModelChoiceField)  # noqa: S101
        tier.queryset = PartnerTier.objects.for_tenant(membership.tenant_id)
        partner.queryset = PartnerOrganization.objects.visible_to(membership)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # "now" to the next whole second, so links carrying the moment show the same offers
        now = timezone.now()
        if now.microsecond:
            now = now.replace(microsecond=0) + timedelta(seconds=1)
        if "since" in cleaned and "until" in cleaned:
            until = cleaned["until"] or now
            since = cleaned["since"] or until - timedelta(days=DEFAULT_DAYS)
            if until <= since:
                self.add_error("until", "Until must be after since.")
            elif until - since > timedelta(days=MAX_DAYS):
                self.add_error("since", f"At most {MAX_DAYS} days at once.")
            cleaned["since"], cleaned["until"] = since, until
        return cleaned

    def report_query(self, calendar: BusinessCalendar) -> ReportQuery:
        data = self.cleaned_data
        return ReportQuery(
            tenant_id=self.membership.tenant_id,
            since=data["since"],
            until=data["until"],
            calendar=calendar,
            partner_id=data["partner_id"].pk if data.get("partner_id") else None,
            tier_id=data["tier_id"].pk if data.get("tier_id") else None,
            source=data["source"] if data.get("source") else None,
        )

    def query_string(self, **overrides: Any) -> str:
        """The valid query, to carry into CSV and partner links."""
        data = self.cleaned_data
        pairs = {
            "since": data["since"].isoformat(),
            "until": data["until"].isoformat(),
            "tier_id": data["tier_id"].pk if data.get("tier_id") else "",
            "partner_id": data["partner_id"].pk if data.get("partner_id") else "",
            "source": data.get("source") or "",
            **overrides,
        }
        return urlencode({k: v for k, v in pairs.items() if v != ""})

    def first_error(self) -> tuple[dict[str, list[str]], str]:
        fields = {name: [str(e) for e in errors] for name, errors in self.errors.items()}
        return fields, next(iter(fields.values()))[0]

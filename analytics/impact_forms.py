"""The co-sell impact query, the same for the page, its CSV and
`GET /api/v1/cosell-impact/`: a window of close dates and an optional tier. The tier's
choices are the asker's tenant's, so another tenant's tier id is an invalid choice (400,
the same answer as an id that does not exist)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from accounts.models import Tenant
from partners.models import PartnerTier

DEFAULT_DAYS = 365  # the default window: the year up to today
MAX_DAYS = 366 * 10
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CosellImpactQueryForm(forms.Form):
    since = forms.DateField(
        required=False, widget=DATE, help_text="First close date (default: a year ago)."
    )
    until = forms.DateField(
        required=False, widget=DATE, help_text="Last close date (default: today)."
    )
    tier_id = forms.ModelChoiceField(
        queryset=PartnerTier.objects.none(), required=False, empty_label="All tiers", label="Tier"
    )

    def __init__(self, data: Any, *, tenant: Tenant) -> None:
        super().__init__(data)
        self.fields["tier_id"].queryset = PartnerTier.objects.for_tenant(tenant).order_by("rank")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "since" in cleaned and "until" in cleaned:
            until = cleaned["until"] or timezone.localdate()
            try:
                since = cleaned["since"] or until - timedelta(days=DEFAULT_DAYS)
            except OverflowError:  # until in year 1: no year before it
                self.add_error("until", "Choose a later date.")
                return cleaned
            if until < since:
                self.add_error("until", "Until must be on or after since.")
            elif (until - since).days > MAX_DAYS:
                self.add_error("since", "Choose a window of at most ten years.")
            cleaned["since"], cleaned["until"] = since, until
        return cleaned

    def query_string(self) -> str:
        data = self.cleaned_data
        query = {"since": data["since"].isoformat(), "until": data["until"].isoformat()}
        if data.get("tier_id"):
            query["tier_id"] = str(data["tier_id"].pk)
        return urlencode(query)

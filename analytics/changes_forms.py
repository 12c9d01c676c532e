"""Forms of the Changes page and the query of its API twin: they validate input
only (the selectors compute)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from accounts.models import Tenant
from analytics.periods import Period, parse_period
from analytics.selectors.changes import PART_LABELS

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ChangesQueryForm(forms.Form):
    """`since`/`until`: ISO dates or date-times (default: 7 days ago → now); `period`: a
    fiscal quarter (2027-Q1) or a month (2027-03), empty for every open deal; `part`: the
    part whose deals to list."""

    since = forms.DateTimeField(required=False, widget=DATETIME, help_text="Default: 7 days ago.")
    until = forms.DateTimeField(required=False, widget=DATETIME, help_text="Default: now.")
    period = forms.CharField(
        required=False,
        max_length=20,
        label="Close-date period",
        help_text="A fiscal quarter (2027-Q1) or a month (2027-03); empty: all open deals.",
    )
    part = forms.ChoiceField(
        required=False, choices=[("", "—"), *PART_LABELS.items()], widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_period(self) -> Period | None:
        label = self.cleaned_data.get("period") or ""
        if not label.strip():
            return None
        try:
            return parse_period(label, self.tenant.fiscal_year_start_month)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # "now" to the next whole second: links carry moments to the second, so a page
        # and the drill-downs it links show the same deals (none created in its last
        # fraction of a second drops out)
        now = timezone.now()
        if now.microsecond:
            now = now.replace(microsecond=0) + timedelta(seconds=1)
        if "since" in cleaned and "until" in cleaned:
            until = cleaned["until"] or now
            since = cleaned["since"] or until - timedelta(days=7)
            if until < since:
                self.add_error("until", "Until must be after since.")
            cleaned["since"], cleaned["until"] = since, until
        return cleaned

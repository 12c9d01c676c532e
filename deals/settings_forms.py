"""Forms of the registration settings pages. They validate input only;
deals/services/configuration.py does the writes and enforces the rules (unique codes,
ranges, at least one active product line and reason)."""

from __future__ import annotations

from typing import Any

from django import forms

from deals.models import ProductLine, RegistrationSettings, RejectionReason
from deals.services.configuration import SETTINGS_FIELDS, SETTINGS_LIMITS

LABELS = {
    "match_threshold": "Match threshold (%)",
    "review_sla_hours": "Review SLA (hours)",
    "extension_days": "Days added by an extension",
    "max_extensions": "Most extensions per registration",
}
HELP = {
    "match_threshold": "How alike two customer names must be to count as the same customer.",
    "review_sla_hours": "A registration waiting longer is overdue and escalated.",
    "extension_days": "Granting an extension adds this many days of protection.",
    "max_extensions": "0: no extensions.",
}


def _rule_field(name: str) -> forms.IntegerField:
    low, high = SETTINGS_LIMITS[name]
    return forms.IntegerField(
        min_value=low,
        max_value=high,
        label=LABELS[name],
        help_text=f"{HELP[name]} {low} to {high}.",
    )


class RegistrationRulesForm(forms.Form):
    match_threshold = _rule_field("match_threshold")
    review_sla_hours = _rule_field("review_sla_hours")
    extension_days = _rule_field("extension_days")
    max_extensions = _rule_field("max_extensions")

    @staticmethod
    def initial_for(settings: RegistrationSettings) -> dict[str, Any]:
        return {name: getattr(settings, name) for name in SETTINGS_FIELDS}


class ProductLineForm(forms.Form):
    code = forms.SlugField(
        max_length=ProductLine._meta.get_field("code").max_length,
        help_text="Short and stable, e.g. “cloud”; used by the API. It cannot change later.",
    )
    name = forms.CharField(max_length=ProductLine._meta.get_field("name").max_length)


class ProductLineRenameForm(forms.Form):
    name = forms.CharField(max_length=ProductLine._meta.get_field("name").max_length)


class RejectionReasonForm(forms.Form):
    code = forms.SlugField(
        max_length=RejectionReason._meta.get_field("code").max_length,
        help_text="Short and stable, e.g. “no_budget”.",
    )
    label = forms.CharField(
        max_length=RejectionReason._meta.get_field("label").max_length,
        help_text="What the partner reads, e.g. “No budget”.",
    )


class ActiveForm(forms.Form):
    action = forms.ChoiceField(choices=(("activate", "Restore"), ("deactivate", "Retire")))

"""Forms of the leads pages: a new lead (vendor), declining an offer (partner)."""

from __future__ import annotations

from typing import Any

from django import forms
from django_countries import countries

from accounts.forms import SelectedIdsField
from accounts.models import NAME_MAX, Tenant
from deals.selectors import product_lines_for
from leads.models import RULES, SCORINGS, WORK_STATUSES, LeadOffer, RoutingPolicy
from leads.routing import SCORE_PARTS
from leads.services.intake import TEXT_LIMITS
from leads.services.offers import NOTE_MAX
from leads.services.stale import BULK_ACTIONS, BULK_MAX


class LeadForm(forms.Form):
    company_name = forms.CharField(max_length=NAME_MAX)
    company_website = forms.CharField(max_length=TEXT_LIMITS["company_website"], required=False)
    country = forms.ChoiceField(choices=[("", "Choose a country"), *countries])
    contact_name = forms.CharField(max_length=NAME_MAX, required=False)
    contact_email = forms.EmailField(max_length=254, required=False)
    contact_phone = forms.CharField(max_length=40, required=False)
    product_lines = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Product interest"
    )
    estimated_value = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False
    )
    source = forms.CharField(
        max_length=TEXT_LIMITS["source"], required=False, label="Source / campaign"
    )
    notes = forms.CharField(max_length=TEXT_LIMITS["notes"], required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_lines"].choices = [
            (line.code, line.name) for line in product_lines_for(tenant=tenant)
        ]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("estimated_value") is None:
            data.pop("estimated_value", None)
        return data


class DeclineForm(forms.Form):
    reason_code = forms.ChoiceField(choices=LeadOffer.Reason.choices, label="Reason")
    note = forms.CharField(
        max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class LeadBulkForm(forms.Form):
    """The action on the rows ticked in the vendor's leads list."""

    lead = SelectedIdsField(noun="lead", label="Leads")
    action = forms.ChoiceField(choices=list(BULK_ACTIONS.items()), label="Action")

    def clean_lead(self) -> list[int]:
        ids: list[int] = self.cleaned_data["lead"]
        if len(ids) > BULK_MAX:
            raise forms.ValidationError(f"Select at most {BULK_MAX} leads.")
        return ids


class LeadStatusForm(forms.Form):
    status = forms.ChoiceField(choices=WORK_STATUSES)
    note = forms.CharField(max_length=NOTE_MAX, required=False)


class ConvertForm(forms.Form):
    expected_close_date = forms.DateField(required=False)
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)


MODES = (("required", "Required"), ("optional", "Optional"), ("off", "Not used"))
DAYS = (
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
)


class RoutingPolicyForm(forms.Form):
    """The rule chain (each rule's place and mode), the score weights, hops, reminders and
    business hours. Service-side checks (leads/services/policy.py) have the last word."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in RULES:
            self.fields[f"{name}_mode"] = forms.ChoiceField(choices=MODES, label=label)
            self.fields[f"{name}_order"] = forms.IntegerField(
                min_value=1, max_value=len(RULES), label=f"Place of “{label}”"
            )
        self.fields["scoring"] = forms.ChoiceField(
            choices=SCORINGS,
            label="Ranking of the partners the rules leave",
            help_text=(
                "Fair share: the partner furthest below its target share of leads gets the"
                " lead; acceptance and conversion raise or lower a partner's target by its"
                " edge over your rates, headroom breaks near-ties. Weighted: the weighted"
                " sum of the four parts."
            ),
        )
        for name in SCORE_PARTS:
            self.fields[f"weight_{name}"] = forms.FloatField(
                min_value=0, max_value=10, label=f"Weight: {name}"
            )
        self.fields["minimum_tier_rank"] = forms.IntegerField(min_value=0, max_value=32767)
        self.fields["max_hops"] = forms.IntegerField(
            min_value=1, max_value=20, label="Offers before the routing queue"
        )
        self.fields["reminder_hours"] = forms.IntegerField(
            min_value=0, max_value=720, label="Remind this many business hours before the end"
        )
        self.fields["time_zone"] = forms.CharField(max_length=64)
        self.fields["working_days"] = forms.TypedMultipleChoiceField(
            choices=DAYS, coerce=int, widget=forms.CheckboxSelectMultiple
        )
        self.fields["day_starts_at"] = forms.IntegerField(min_value=0, max_value=23)
        self.fields["day_ends_at"] = forms.IntegerField(min_value=1, max_value=24)
        self.fields["stale_after_days"] = forms.IntegerField(
            min_value=1,
            max_value=250,
            label="An accepted lead is stale after this many business days without an update",
        )

    @staticmethod
    def initial_for(policy: RoutingPolicy) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        steps = {step["rule"]: (place, step) for place, step in enumerate(policy.rules, start=1)}
        for offset, (name, _) in enumerate(RULES, start=len(steps) + 1):
            place, step = steps.get(name, (offset, None))
            initial[f"{name}_order"] = min(place, len(RULES))
            initial[f"{name}_mode"] = (
                "off" if step is None else ("required" if step["required"] else "optional")
            )
        for name in SCORE_PARTS:
            initial[f"weight_{name}"] = policy.weights.get(name, 0)
        for name in POLICY_FIELDS:
            initial[name] = getattr(policy, name)
        return initial

    def service_changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        used = [
            (data[f"{name}_order"], index, name)
            for index, (name, _) in enumerate(RULES)
            if data[f"{name}_mode"] != "off"
        ]
        rules = [
            {"rule": name, "required": data[f"{name}_mode"] == "required"}
            for _, _, name in sorted(used)
        ]
        weights = {name: data[f"weight_{name}"] for name in SCORE_PARTS}
        return {"rules": rules, "weights": weights, **{n: data[n] for n in POLICY_FIELDS}}


POLICY_FIELDS = (
    "scoring",
    "minimum_tier_rank",
    "max_hops",
    "reminder_hours",
    "time_zone",
    "working_days",
    "day_starts_at",
    "day_ends_at",
    "stale_after_days",
)

"""Forms of the stage settings pages. They validate input only; pipeline/services/stages.py
does the writes and enforces the rules (unique names, ranges, closing stages)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from pipeline.models import EntryCriterion, ForecastCategory, Stage

STAGE_NAME_MAX = Stage._meta.get_field("name").max_length
GUIDANCE_MAX = 4000


class StageForm(forms.Form):
    name = forms.CharField(max_length=STAGE_NAME_MAX)
    probability = forms.IntegerField(
        min_value=0, max_value=100, label="Win probability (%)", help_text="0 to 100."
    )
    forecast_category = forms.ChoiceField(
        choices=[("", "By win probability")] + list(ForecastCategory.choices),
        required=False,
        help_text="Where the stage's deals count in the forecast (a deal's owner may override "
        "it). Closed is the won stage's; lost deals are omitted.",
    )
    entry_criteria = forms.MultipleChoiceField(
        choices=EntryCriterion.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Fields a deal must have filled in to enter this stage.",
    )
    stale_after_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        label="Stale after (days)",
        help_text="A deal idle this long in the stage is stale. Empty: never.",
    )
    guidance = forms.CharField(
        max_length=GUIDANCE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown to partners working a deal in this stage.",
    )

    @staticmethod
    def initial_for(stage: Stage) -> dict[str, Any]:
        return {
            "name": stage.name,
            "probability": stage.probability,
            "forecast_category": stage.forecast_category,
            "entry_criteria": list(stage.entry_criteria),
            "stale_after_days": stage.stale_after_days,
            "guidance": stage.guidance,
        }


class StageActiveForm(forms.Form):
    action = forms.ChoiceField(choices=(("activate", "Activate"), ("deactivate", "Deactivate")))


class StageReorderForm(forms.Form):
    """Move one open stage a place up or down (accessible buttons, no drag and drop)."""

    stage = forms.IntegerField(min_value=1)
    direction = forms.ChoiceField(choices=(("up", "Up"), ("down", "Down")))


class PipelineRulesForm(forms.Form):
    allow_skip_forward = forms.BooleanField(required=False, label="Deals may skip stages forward")
    allow_backward = forms.BooleanField(
        required=False, label="Deals may move back to an earlier stage"
    )


class FiscalYearForm(forms.Form):
    fiscal_year_start_month = forms.TypedChoiceField(
        coerce=int,
        choices=[(m, date(2000, m, 1).strftime("%B")) for m in range(1, 13)],
        label="Fiscal year starts in",
        help_text="Forecast quarters follow it; a fiscal year is named by the year it ends in.",
    )


class LostReasonForm(forms.Form):
    code = forms.SlugField(max_length=40, help_text="Short and stable, e.g. “price”.")
    label = forms.CharField(max_length=100, help_text="What people read, e.g. “Price”.")

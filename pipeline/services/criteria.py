"""What a deal needs to move: the tenant's stages and rules, and, for a move from one stage
to another, the one answer to "what is missing".

A forward move (skipping stages and closing as won included) needs the entry criteria of
every stage it passes as well as the target's, and leaving the first stage needs the
qualification. Services refuse with it; pages show it beside the disabled move.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accounts.errors import Conflict
from accounts.models import Tenant
from pipeline.models import EntryCriterion, Opportunity, PipelineRules, Stage

CRITERION_LABELS = dict(EntryCriterion.choices)
QUALIFICATION = ("budget_confirmed", "decision_maker", "need", "timeline")


class TransitionRefused(Conflict):
    """A lifecycle move the rules refuse; `fields["missing"]` names what is missing
    (`fields["missing_fields"]`: the same as field names)."""

    code = "transition_refused"


def refuse(message: str, missing: list[str] | None = None) -> TransitionRefused:
    return TransitionRefused(message, fields={"missing": missing} if missing else {})


def criterion_met(
    opportunity: Opportunity, criterion: str, values: Mapping[str, Any] | None = None
) -> bool:
    """Whether the deal has it; `values` are changes about to be made (they count)."""
    value = (values or {}).get(criterion, getattr(opportunity, criterion))
    return bool(value.strip()) if isinstance(value, str) else value not in (None, False)


@dataclass(frozen=True)
class Pipeline:
    """A tenant's active stages in order and its movement rules."""

    stages: list[Stage]
    rules: PipelineRules

    @property
    def open_stages(self) -> list[Stage]:
        return [s for s in self.stages if s.kind == Stage.Kind.OPEN]

    def closing(self, kind: str) -> Stage:
        return next(s for s in self.stages if s.kind == kind)

    def next_open_after(self, stage: Stage) -> Stage | None:
        return next((s for s in self.open_stages if s.position > stage.position), None)

    def passed(self, current: Stage, target: Stage) -> list[Stage]:
        """The stages a move enters: for a forward move every stage after `current` up to
        and including `target` (never the lost stage); for any other move the target."""
        if target.position <= current.position or target.kind == Stage.Kind.LOST:
            return [target]
        return [
            s
            for s in self.stages
            if current.position < s.position <= target.position and s.kind != Stage.Kind.LOST
        ]


def pipeline_for(tenant: Tenant) -> Pipeline:
    stages = list(Stage.objects.for_tenant(tenant).filter(is_active=True).order_by("position"))
    rules, _ = PipelineRules.objects.get_or_create(tenant=tenant)
    if not stages:
        raise Conflict("This tenant has no stages yet.")
    return Pipeline(stages, rules)


@dataclass(frozen=True)
class Requirements:
    """What a move from the deal's stage to `target` needs, and what of it is missing.

    `needed` and `missing` are criterion codes (Opportunity field names), in the order of
    the stages passed; `qualification_missing` is the part owed for leaving the first stage.
    """

    target: Stage
    needed: list[str]
    missing: list[str]
    qualification_missing: list[str] = field(default_factory=list)

    @property
    def missing_labels(self) -> list[str]:
        return [CRITERION_LABELS[c] for c in self.missing]

    @property
    def checklist(self) -> list[tuple[str, bool]]:
        return [(CRITERION_LABELS[c], c not in self.missing) for c in self.needed]


def move_requirements(
    opportunity: Opportunity,
    target: Stage,
    pipeline: Pipeline,
    values: Mapping[str, Any] | None = None,
) -> Requirements:
    """The one answer to "what is missing for a move from the deal's stage to `target`"."""
    current = opportunity.stage
    needed: list[str] = []
    leaving_first = (
        target.kind != Stage.Kind.LOST
        and bool(pipeline.open_stages)
        and current.pk == pipeline.open_stages[0].pk
        and target.pk != current.pk
    )
    if leaving_first:
        needed += QUALIFICATION
    for stage in pipeline.passed(current, target):
        needed += [c for c in stage.entry_criteria if c not in needed]
    missing = [c for c in needed if not criterion_met(opportunity, c, values)]
    qualification = [c for c in missing if leaving_first and c in QUALIFICATION]
    return Requirements(target, needed, missing, qualification)


def missing_refusal(requirements: Requirements, action: str, leaving: Stage) -> TransitionRefused:
    """The refusal naming what is missing (`action`: "enter X", "close the deal as won")."""
    labels = requirements.missing_labels
    if requirements.missing == requirements.qualification_missing:
        message = f"Complete the qualification before leaving {leaving.name}: {', '.join(labels)}."
    else:
        message = f"To {action}, fill in: {', '.join(labels)}."
    return TransitionRefused(
        message, fields={"missing": labels, "missing_fields": list(requirements.missing)}
    )


def move_refusal(opportunity: Opportunity, target: Stage, pipeline: Pipeline) -> str | None:
    """Why the tenant's movement rules refuse a move to `target`, or None (what is missing
    is `move_requirements`)."""
    current = opportunity.stage
    if target.kind != Stage.Kind.OPEN:
        return "Use “close won” or “close lost” to close a deal."
    if target.pk == current.pk:
        return f"The deal is already in {target.name}."
    if target.position < current.position and not pipeline.rules.allow_backward:
        return "Deals cannot move back to an earlier stage."
    following = pipeline.next_open_after(current)
    if (
        following is not None
        and target.position > following.position
        and not pipeline.rules.allow_skip_forward
    ):
        return f"Deals move one stage at a time: the next stage is {following.name}."
    return None

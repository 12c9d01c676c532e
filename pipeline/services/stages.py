"""Writes of the stage configuration: stages, their order, the tenant's movement rules."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.errors import Conflict, NotFound, ValidationFailed
from accounts.models import Membership, Tenant
from accounts.permissions import require_vendor_admin
from accounts.services.audit import audit_record, snapshot
from pipeline.defaults import DEFAULT_LOST_REASONS, DEFAULT_STAGES, default_forecast_category
from pipeline.models import (
    EntryCriterion,
    ForecastCategory,
    LostReason,
    Opportunity,
    PipelineRules,
    Stage,
)
from pipeline.services.cosell_pool import cosell_install_defaults
from pipeline.services.history import history_record_stage_category

STAGE_FIELDS = [
    "name",
    "probability",
    "entry_criteria",
    "stale_after_days",
    "guidance",
    "is_active",
    "position",
    "forecast_category",
]
CHANGEABLE = {
    "name",
    "probability",
    "entry_criteria",
    "stale_after_days",
    "guidance",
    "forecast_category",
}
CLOSING_CATEGORIES = {
    Stage.Kind.WON: ForecastCategory.CLOSED,
    Stage.Kind.LOST: ForecastCategory.OMITTED,
}


def stages_install_defaults(*, tenant: Tenant) -> bool:
    """Give a tenant the default stages, rules and lost reasons, once, and the co-sell
    defaults whose rules name those stages. True if the stages were installed."""
    with transaction.atomic():
        installed = not Stage.objects.for_tenant(tenant).exists()
        if installed:
            Stage.objects.bulk_create(
                Stage(
                    tenant=tenant,
                    name=name,
                    probability=probability,
                    kind=kind,
                    forecast_category=default_forecast_category(kind, probability),
                    entry_criteria=list(criteria),
                    stale_after_days=stale,
                    guidance=guidance,
                    position=position,
                )
                for position, (name, probability, kind, criteria, stale, guidance) in enumerate(
                    DEFAULT_STAGES, start=1
                )
            )
            PipelineRules.objects.get_or_create(tenant=tenant)
            LostReason.objects.bulk_create(
                [
                    LostReason(tenant=tenant, code=code, label=label)
                    for code, label in DEFAULT_LOST_REASONS
                ],
                ignore_conflicts=True,
            )
        cosell_install_defaults(tenant=tenant)
    return installed


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(changes)
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"]).strip()
        if not cleaned["name"] or len(cleaned["name"]) > 100:
            raise ValidationFailed(
                "A stage needs a name of at most 100 characters.",
                fields={"name": ["1 to 100 characters."]},
            )
    if "probability" in cleaned and not 0 <= int(cleaned["probability"]) <= 100:
        raise ValidationFailed(
            "Win probability is a percentage from 0 to 100.",
            fields={"probability": ["Between 0 and 100."]},
        )
    if "entry_criteria" in cleaned:
        unknown = set(cleaned["entry_criteria"]) - set(EntryCriterion.values)
        if unknown:
            raise ValidationFailed(
                "Unknown entry criteria.",
                fields={"entry_criteria": [f"Unknown: {', '.join(sorted(unknown))}."]},
            )
        cleaned["entry_criteria"] = [
            c for c in EntryCriterion.values if c in set(cleaned["entry_criteria"])
        ]
    if (
        cleaned.get("stale_after_days") is not None
        and not 1 <= int(cleaned["stale_after_days"]) <= 3650
    ):
        raise ValidationFailed(
            "Stale after is 1 to 3650 days, or empty for never.",
            fields={"stale_after_days": ["1 to 3650, or empty."]},
        )
    return cleaned


def _check_category(stage: Stage, category: str) -> None:
    """Open stages: any category but closed (only winning closes a deal). The won and
    lost stages keep closed and omitted."""
    fixed = CLOSING_CATEGORIES.get(stage.kind)  # type: ignore[call-overload]
    if fixed is not None and category != fixed:
        raise ValidationFailed(
            f"The {stage.kind} stage always counts as {fixed}.",
            fields={"forecast_category": [f"The {stage.kind} stage is always {fixed}."]},
        )
    if fixed is None and category not in set(ForecastCategory.values) - {"closed"}:
        raise ValidationFailed(
            "An open stage's forecast category is pipeline, best case, commit or omitted.",
            fields={"forecast_category": ["Choose pipeline, best case, commit or omitted."]},
        )


def _ensure_unique_name(tenant: Tenant, name: str, exclude_id: int | None = None) -> None:
    clash = (
        Stage.objects.for_tenant(tenant).annotate(lname=Lower("name")).filter(lname=name.lower())
    )
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise ValidationFailed(
            "A stage with this name already exists.",
            fields={"name": ["A stage with this name already exists."]},
        )


def _lock(tenant: Tenant, stage_id: int) -> Stage:
    stage = Stage.objects.for_tenant(tenant).select_for_update().filter(pk=stage_id).first()
    if stage is None:
        raise NotFound
    return stage


@transaction.atomic
def stage_create(
    *,
    tenant: Tenant,
    actor: Membership,
    name: str,
    probability: int,
    entry_criteria: list[str] | None = None,
    stale_after_days: int | None = None,
    guidance: str = "",
    forecast_category: str = "",
) -> Stage:
    """A new open stage, placed after the last open stage (closing stages stay last). Its
    forecast category defaults by win probability."""
    require_vendor_admin(actor)
    data = _clean(
        {
            "name": name,
            "probability": probability,
            "entry_criteria": entry_criteria or [],
            "stale_after_days": stale_after_days,
            "guidance": guidance,
        }
    )
    _ensure_unique_name(tenant, data["name"])
    category = forecast_category or default_forecast_category(Stage.Kind.OPEN, data["probability"])
    _check_category(Stage(kind=Stage.Kind.OPEN), category)
    stages = Stage.objects.for_tenant(tenant).select_for_update()
    last_open = stages.filter(kind=Stage.Kind.OPEN).aggregate(last=Max("position"))["last"] or 0
    for closing in stages.filter(position__gt=last_open).order_by("-position"):
        closing.position += 1
        closing.save(update_fields=["position"])
    stage = Stage.objects.create(
        tenant=tenant,
        kind=Stage.Kind.OPEN,
        position=last_open + 1,
        forecast_category=category,
        **data,
    )
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="stage_created",
        subject=stage,
        after=snapshot(stage, STAGE_FIELDS),
    )
    return stage


@transaction.atomic
def stage_update(*, tenant: Tenant, actor: Membership, stage_id: int, **changes: Any) -> Stage:
    require_vendor_admin(actor)
    if set(changes) - CHANGEABLE:
        raise ValidationFailed(
            "Only name, probability, forecast category, entry criteria, stale-after days and "
            "guidance change here.",
            fields={field: ["Cannot be changed here."] for field in set(changes) - CHANGEABLE},
        )
    stage = _lock(tenant, stage_id)
    data = _clean(changes)
    if "name" in data:
        _ensure_unique_name(tenant, data["name"], exclude_id=stage.pk)
    if "forecast_category" in data:
        _check_category(stage, data["forecast_category"])
    before = snapshot(stage, STAGE_FIELDS)
    for field, value in data.items():
        setattr(stage, field, value)
    stage.save()
    history_record_stage_category(
        tenant=tenant, stage=stage, old=before["forecast_category"], actor=actor.user
    )
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="stage_updated",
        subject=stage,
        before=before,
        after=snapshot(stage, STAGE_FIELDS),
    )
    return stage


@transaction.atomic
def stage_reorder(*, tenant: Tenant, actor: Membership, stage_ids: list[int]) -> list[Stage]:
    """Put the open stages in the given order; closing stages (won, lost) stay last."""
    require_vendor_admin(actor)
    stages = {s.pk: s for s in Stage.objects.for_tenant(tenant).select_for_update()}
    open_ids = {pk for pk, s in stages.items() if s.kind == Stage.Kind.OPEN}
    if len(stage_ids) != len(set(stage_ids)) or set(stage_ids) != open_ids:
        raise ValidationFailed(
            "List every open stage exactly once.",
            fields={"stage_ids": ["List every open stage exactly once."]},
        )
    closing = sorted(
        (s for s in stages.values() if s.kind != Stage.Kind.OPEN), key=lambda s: (s.position, s.pk)
    )
    ordered = [stages[pk] for pk in stage_ids] + closing
    for position, stage in enumerate(ordered, start=1):
        stage.position = position
    Stage.objects.bulk_update(ordered, ["position"])
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="stages_reordered",
        subject=ordered[0],
        after={"order": [s.pk for s in ordered]},
    )
    return ordered


@transaction.atomic
def stage_set_active(*, tenant: Tenant, actor: Membership, stage_id: int, active: bool) -> Stage:
    """Deactivate (hidden from new moves) or reactivate a stage."""
    require_vendor_admin(actor)
    stage = _lock(tenant, stage_id)
    if stage.is_active == active:
        raise Conflict(f"The stage is already {'active' if active else 'inactive'}.")
    if not active and stage.kind != Stage.Kind.OPEN:
        raise Conflict(
            f"The tenant needs one active {stage.kind} stage; rename or change this one instead."
        )
    if (
        not active
        and not Stage.objects.for_tenant(tenant)
        .filter(kind=Stage.Kind.OPEN, is_active=True)
        .exclude(pk=stage.pk)
        .exists()
    ):
        raise Conflict("At least one open stage must stay active.")
    if not active and (
        in_stage := Opportunity.objects.for_tenant(tenant)
        .filter(stage=stage, status=Opportunity.Status.OPEN)
        .count()
    ):
        raise Conflict(
            "1 open deal is in this stage; move it first."
            if in_stage == 1
            else f"{in_stage} open deals are in this stage; move them first."
        )
    before = snapshot(stage, ["is_active"])
    stage.is_active = active
    try:
        with transaction.atomic():
            stage.save(update_fields=["is_active"])
    except IntegrityError as error:
        raise Conflict(f"Another active {stage.kind} stage exists.") from error
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="stage_activated" if active else "stage_deactivated",
        subject=stage,
        before=before,
        after=snapshot(stage, ["is_active"]),
    )
    return stage


@transaction.atomic
def stage_delete(*, tenant: Tenant, actor: Membership, stage_id: int) -> None:
    """Delete an unused open stage. A stage any deal uses or used can only be deactivated."""
    require_vendor_admin(actor)
    stage = _lock(tenant, stage_id)
    if stage.kind != Stage.Kind.OPEN:
        raise Conflict("The won and lost stages cannot be deleted.")
    before = snapshot(stage, STAGE_FIELDS)
    try:
        with transaction.atomic():
            stage.delete()
    except ProtectedError as error:
        raise Conflict("This stage is in use; deactivate it instead.") from error
    audit_record(
        tenant=tenant, actor=actor.user, verb="stage_deleted", subject=stage, before=before
    )


@transaction.atomic
def pipeline_rules_update(
    *, tenant: Tenant, actor: Membership, allow_skip_forward: bool, allow_backward: bool
) -> PipelineRules:
    require_vendor_admin(actor)
    rules, _ = PipelineRules.objects.select_for_update().get_or_create(tenant=tenant)
    before = snapshot(rules, ["allow_skip_forward", "allow_backward"])
    rules.allow_skip_forward, rules.allow_backward = allow_skip_forward, allow_backward
    rules.updated_at = timezone.now()
    rules.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="pipeline_rules_updated",
        subject=rules,
        before=before,
        after=snapshot(rules, ["allow_skip_forward", "allow_backward"]),
    )
    return rules


@transaction.atomic
def lost_reason_create(*, tenant: Tenant, actor: Membership, code: str, label: str) -> LostReason:
    """A new code for why deals are lost (a slug, unique in the tenant)."""
    require_vendor_admin(actor)
    code, label = code.strip().lower(), label.strip()
    if not code or len(code) > 40 or not code.replace("_", "").replace("-", "").isalnum():
        raise ValidationFailed(
            "A code is 1 to 40 letters, digits, '-' or '_'.",
            fields={"code": ["1 to 40 letters, digits, '-' or '_'."]},
        )
    if not label or len(label) > 100:
        raise ValidationFailed(
            "A label is 1 to 100 characters.", fields={"label": ["1 to 100 characters."]}
        )
    if LostReason.objects.for_tenant(tenant).filter(code=code).exists():
        raise ValidationFailed("This code exists already.", fields={"code": ["Already used."]})
    reason = LostReason.objects.create(tenant=tenant, code=code, label=label)
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="lost_reason_created",
        subject=reason,
        after={"code": code, "label": label},
    )
    return reason


@transaction.atomic
def lost_reason_set_active(
    *, tenant: Tenant, actor: Membership, reason_id: int, active: bool
) -> LostReason:
    """Retire a code (deals keep it) or bring it back; one must stay active."""
    require_vendor_admin(actor)
    reason = LostReason.objects.for_tenant(tenant).select_for_update().filter(pk=reason_id).first()
    if reason is None:
        raise NotFound
    if reason.is_active == active:
        raise Conflict(f"The reason is already {'active' if active else 'retired'}.")
    if (
        not active
        and not LostReason.objects.for_tenant(tenant)
        .filter(is_active=True)
        .exclude(pk=reason.pk)
        .exists()
    ):
        raise Conflict("Keep at least one active lost reason: closing lost needs one.")
    reason.is_active = active
    reason.save(update_fields=["is_active"])
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="lost_reason_activated" if active else "lost_reason_retired",
        subject=reason,
        after={"is_active": active},
    )
    return reason

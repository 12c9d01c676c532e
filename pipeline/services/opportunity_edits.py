"""Writes of an opportunity's own fields: create (partner or direct deal), edit, and the
owner's forecast category.

Stage and status never change here: the lifecycle (pipeline/services/opportunities.py)
moves a deal. Amounts and close dates follow pipeline/deal_rules.py.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.errors import NotFound, PermissionDenied, ValidationFailed
from accounts.models import Membership, Tenant, User
from accounts.permissions import require_vendor
from accounts.services.audit import audit_record, snapshot
from accounts.services.events import event_record
from pipeline.deal_rules import close_date_clean, money_clean
from pipeline.models import Customer, ForecastCategory, Opportunity, StageMove
from pipeline.services.criteria import pipeline_for, refuse
from pipeline.services.history import history_record, history_state

EDITABLE = {
    "name",
    "amount",
    "expected_close_date",
    "budget_confirmed",
    "decision_maker",
    "need",
    "timeline",
    "decision_maker_name",
    "next_step",
    "next_step_date",
    "competitor",
    "purchase_order_number",
}
AUDITED = sorted(EDITABLE | {"stage", "status"})


def lock_opportunity(tenant: Tenant, actor: Membership, opportunity_id: int) -> Opportunity:
    opportunity = (
        Opportunity.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("stage")
        .filter(tenant=tenant, pk=opportunity_id)
        .first()
    )
    if opportunity is None:
        raise NotFound
    return opportunity


def _clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    forbidden = set(changes) - EDITABLE
    if forbidden & {"stage", "stage_id", "status"}:
        raise ValidationFailed(
            "Stage and status change only through the lifecycle actions.",
            fields={
                f: ["Use move-stage, close-won, close-lost or reopen."]
                for f in forbidden & {"stage", "stage_id", "status"}
            },
        )
    if forbidden:
        raise ValidationFailed("Unknown fields.", fields={f: ["Unknown field."] for f in forbidden})
    cleaned = dict(changes)
    if cleaned.get("amount") not in (None, ""):
        cleaned["amount"] = money_clean(cleaned["amount"])
    elif "amount" in cleaned:
        cleaned["amount"] = None
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"]).strip()
        if not cleaned["name"] or len(cleaned["name"]) > 200:
            raise ValidationFailed(
                "A deal needs a name of at most 200 characters.",
                fields={"name": ["1 to 200 characters."]},
            )
    return cleaned


@transaction.atomic
def opportunity_update(
    *, tenant: Tenant, actor: Membership, opportunity_id: int, **changes: Any
) -> Opportunity:
    """Change non-lifecycle fields. A later expected close date counts as a slip."""
    cleaned = _clean_changes(changes)
    opportunity = lock_opportunity(tenant, actor, opportunity_id)
    if opportunity.status != Opportunity.Status.OPEN:
        raise refuse("A closed deal cannot be edited; reopen it first.")
    new_close = cleaned.get("expected_close_date")
    if new_close != opportunity.expected_close_date:  # an overdue date may stay as it is
        close_date_clean(new_close)
    before, history = snapshot(opportunity, AUDITED), history_state(opportunity)
    if (
        new_close
        and opportunity.expected_close_date
        and new_close > opportunity.expected_close_date
    ):
        opportunity.close_date_slips += 1
    for field, value in cleaned.items():
        setattr(opportunity, field, value)
    opportunity.updated_at = timezone.now()
    opportunity.save()
    history_record(opportunity, before=history, actor=actor.user, source="edit")
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="opportunity_updated",
        subject=opportunity,
        before=before,
        after=snapshot(opportunity, AUDITED),
    )
    return opportunity


@transaction.atomic
def opportunity_create(
    *,
    tenant: Tenant,
    actor: Membership,
    customer: Customer,
    name: str,
    owner: User,
    partner_id: int | None = None,
    currency: str = "",
    **fields: Any,
) -> Opportunity:
    """A new open deal in the first stage (direct when `partner_id` is None)."""
    cleaned = _clean_changes({"name": name, **fields})
    first = pipeline_for(tenant).open_stages[0]
    opportunity = Opportunity(
        tenant=tenant,
        partner_id=partner_id,
        owner=owner,
        customer=customer,
        stage=first,
        currency=currency or tenant.currency,
        **cleaned,
    )
    opportunity.save()
    StageMove.objects.create(
        tenant=tenant,
        opportunity=opportunity,
        from_stage=None,
        to_stage=first,
        from_status="",
        to_status=opportunity.status,
        actor=actor.user,
        note="Created",
    )
    history_record(opportunity, before=None, actor=actor.user, source="created")
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="opportunity_created",
        subject=opportunity,
        after=snapshot(opportunity, AUDITED),
    )
    event_record(
        tenant=tenant,
        name="opportunity.created",
        subject=opportunity,
        payload={"partner_id": partner_id},
    )
    return opportunity


def opportunity_create_direct(
    *,
    tenant: Tenant,
    actor: Membership,
    customer: Customer,
    name: str,
    owner: User | None = None,
    **fields: Any,
) -> Opportunity:
    """The vendor's own deal, with no partner (vendor roles)."""
    require_vendor(actor)
    close_date_clean(fields.get("expected_close_date"))
    if (
        owner is not None
        and not Membership.objects.for_tenant(tenant)
        .filter(user=owner, is_active=True, partner__isnull=True)
        .exists()
    ):
        raise ValidationFailed(
            "The owner must be one of the vendor's people.", fields={"owner_id": ["Not found."]}
        )
    return opportunity_create(
        tenant=tenant,
        actor=actor,
        customer=customer,
        name=name,
        owner=owner or actor.user,
        partner_id=None,
        **fields,
    )


OVERRIDABLE = [c for c in ForecastCategory.values if c != ForecastCategory.CLOSED]


def _override_clean(category: str | None, stage_category: str) -> str:
    """The override to store: "" (follow the stage) for None, "" or the stage's own
    category; never closed (a deal is closed by closing it as won)."""
    category = (category or "").strip()
    if category == ForecastCategory.CLOSED:
        raise ValidationFailed(
            "Closed is not a forecast category you can choose: close the deal as won instead.",
            fields={"forecast_category": ["Choose pipeline, best case, commit or omitted."]},
        )
    if category and category not in OVERRIDABLE:
        raise ValidationFailed(
            "Unknown forecast category.",
            fields={"forecast_category": ["Choose pipeline, best case, commit or omitted."]},
        )
    return "" if category == stage_category else category


@transaction.atomic
def opportunity_set_forecast_category(
    *, tenant: Tenant, actor: Membership, opportunity_id: int, category: str | None
) -> Opportunity:
    """Set the forecast category of an open deal (its owner, or the vendor's people).
    None, "" or the stage's own category clears the override: the deal follows its stage
    again. The change is field history and an audit row."""
    opportunity = lock_opportunity(tenant, actor, opportunity_id)
    if not actor.is_vendor and opportunity.owner_id != actor.user_id:
        raise PermissionDenied("Only the deal's owner can change its forecast category.")
    if opportunity.status != Opportunity.Status.OPEN:
        raise refuse("A closed deal's forecast category follows its stage; reopen it first.")
    override = _override_clean(category, opportunity.stage.forecast_category)
    if override == opportunity.forecast_category_override:
        return opportunity
    before, history = (
        snapshot(opportunity, ["forecast_category_override"]),
        history_state(opportunity),
    )
    opportunity.forecast_category_override = override
    opportunity.updated_at = timezone.now()
    opportunity.save(update_fields=["forecast_category_override", "updated_at"])
    history_record(opportunity, before=history, actor=actor.user, source="category")
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="opportunity_forecast_category_set",
        subject=opportunity,
        before=before | {"forecast_category": history["forecast_category"]},
        after=snapshot(opportunity, ["forecast_category_override"])
        | {"forecast_category": opportunity.forecast_category},
    )
    return opportunity


@transaction.atomic
def opportunity_owner_set(
    *, tenant: Tenant, actor: Membership, opportunity_id: int, owner: User
) -> Opportunity:
    """Hand an open deal to another owner (vendor roles): an active member of this tenant,
    one of the vendor's people or of the deal's partner. History and audit as any edit."""
    require_vendor(actor)
    opportunity = lock_opportunity(tenant, actor, opportunity_id)
    if opportunity.status != Opportunity.Status.OPEN:
        raise refuse("A closed deal cannot be edited; reopen it first.")
    allowed = Membership.objects.for_tenant(tenant).filter(user=owner, is_active=True)
    if opportunity.partner_id is None:
        allowed = allowed.filter(partner__isnull=True)
    else:
        allowed = allowed.filter(Q(partner__isnull=True) | Q(partner_id=opportunity.partner_id))
    if not allowed.exists():
        raise ValidationFailed(
            "The owner must be an active member of the vendor or of the deal's partner.",
            fields={"owner_id": ["Not found."]},
        )
    if opportunity.owner_id == owner.pk:
        return opportunity
    before, history = snapshot(opportunity, ["owner"]), history_state(opportunity)
    opportunity.owner = owner
    opportunity.updated_at = timezone.now()
    opportunity.save(update_fields=["owner", "updated_at"])
    history_record(opportunity, before=history, actor=actor.user, source="edit")
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="opportunity_owner_changed",
        subject=opportunity,
        before=before,
        after=snapshot(opportunity, ["owner"]),
    )
    return opportunity

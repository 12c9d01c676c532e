"""Working a deal: the activity timeline and co-sell requests to the vendor."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accounts.models import VENDOR_ROLES, Membership, Tenant, User
from accounts.permissions import require_vendor
from accounts.services.audit import audit_record
from accounts.services.events import event_record
from accounts.services.notifications import notification_create
from partners.selectors import partner_managers
from pipeline.models import Activity, CoSellRequest, Opportunity


def _visible(tenant: Tenant, actor: Membership, opportunity_id: int) -> Opportunity:
    opportunity = (
        Opportunity.objects.visible_to(actor)
        .select_related("partner", "owner")
        .filter(tenant=tenant, pk=opportunity_id)
        .first()
    )
    if opportunity is None:
        raise NotFound
    return opportunity


@transaction.atomic
def activity_add(
    *,
    tenant: Tenant,
    actor: Membership,
    opportunity_id: int,
    kind: str,
    body: str,
    occurred_at: datetime | None = None,
    vendor_internal: bool = False,
) -> Activity:
    opportunity = _visible(tenant, actor, opportunity_id)
    if kind not in Activity.Kind.values:
        raise ValidationFailed("Unknown activity kind.", fields={"kind": ["Choose a kind."]})
    body = body.strip()
    if not body or len(body) > 5000:
        raise ValidationFailed(
            "Describe the activity (at most 5000 characters).",
            fields={"body": ["1 to 5000 characters."]},
        )
    if vendor_internal and not actor.is_vendor:
        raise PermissionDenied("Only the vendor's people write internal notes.")
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed(
            "An activity cannot happen in the future.", fields={"occurred_at": ["Now or earlier."]}
        )
    activity = Activity.objects.create(
        tenant=tenant,
        opportunity=opportunity,
        kind=kind,
        body=body,
        occurred_at=occurred_at,
        author=actor.user,
        vendor_internal=vendor_internal,
    )
    Opportunity.objects.filter(pk=opportunity.pk, last_activity_at__lt=occurred_at).update(
        last_activity_at=occurred_at
    )
    return activity


def _deal_url(opportunity: Opportunity, portal: str) -> str:
    return reverse(f"{portal}:opportunity_detail", args=[opportunity.pk])


def _vendor_people_for(opportunity: Opportunity) -> list[User]:
    """The partner's channel manager (the active ones once that manager left); with none
    assigned, or for a direct deal, every active vendor person."""
    partner = opportunity.partner
    if partner is not None and partner.channel_manager_id is not None:
        return partner_managers(partner=partner)
    return [
        m.user
        for m in Membership.objects.for_tenant(opportunity.tenant_id)
        .filter(role__in=VENDOR_ROLES, is_active=True)
        .select_related("user")
    ]


@transaction.atomic
def cosell_request_create(
    *,
    tenant: Tenant,
    actor: Membership,
    opportunity_id: int,
    kind: str,
    need_by: date,
    details: str = "",
) -> CoSellRequest:
    """A partner asks for technical pre-sales, an executive sponsor, pricing or a PoC."""
    if not actor.is_partner:
        raise PermissionDenied("Co-sell requests come from the partner working the deal.")
    opportunity = _visible(tenant, actor, opportunity_id)
    if opportunity.status != Opportunity.Status.OPEN:
        raise Conflict("Co-sell help is for open deals.")
    if kind not in CoSellRequest.Kind.values:
        raise ValidationFailed("Unknown kind of help.", fields={"kind": ["Choose a kind."]})
    if need_by < timezone.localdate():
        raise ValidationFailed(
            "The need-by date is in the past.", fields={"need_by": ["Today or later."]}
        )
    request = CoSellRequest.objects.create(
        tenant=tenant,
        opportunity=opportunity,
        kind=kind,
        need_by=need_by,
        details=details.strip()[:2000],
        requested_by=actor.user,
    )
    audit_record(tenant=tenant, actor=actor.user, verb="cosell_requested", subject=request)
    event_record(
        tenant=tenant,
        name="cosell.requested",
        subject=request,
        payload={"opportunity_id": opportunity.pk, "kind": kind, "need_by": str(need_by)},
    )
    notification_create(
        tenant=tenant,
        recipients=_vendor_people_for(opportunity),
        verb="cosell_requested",
        message=f"{request.get_kind_display()} requested on “{opportunity.name}” by "
        f"{need_by.isoformat()}.",
        url=_deal_url(opportunity, "vendor"),
    )
    return request


def _lock_request(tenant: Tenant, actor: Membership, request_id: int) -> CoSellRequest:
    request = (
        CoSellRequest.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related("opportunity", "requested_by")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise NotFound
    return request


def _tell_partner(request: CoSellRequest, message: str) -> None:
    if request.requested_by is not None:
        notification_create(
            tenant=request.opportunity.tenant,
            recipients=[request.requested_by],
            verb="cosell_decided",
            message=message,
            url=_deal_url(request.opportunity, "partner"),
        )


@transaction.atomic
def cosell_request_assign(
    *, tenant: Tenant, actor: Membership, request_id: int, assignee: User
) -> CoSellRequest:
    require_vendor(actor)
    request = _lock_request(tenant, actor, request_id)
    if (
        not Membership.objects.for_tenant(tenant)
        .filter(user=assignee, role__in=VENDOR_ROLES, is_active=True)
        .exists()
    ):
        raise ValidationFailed(
            "Assign one of the vendor's people.", fields={"assignee_id": ["Not found."]}
        )
    if request.status != CoSellRequest.Status.REQUESTED:
        raise Conflict(f"The request is already {request.get_status_display().lower()}.")
    request.assign(assignee)
    request.save()
    audit_record(tenant=tenant, actor=actor.user, verb="cosell_assigned", subject=request)
    _tell_partner(
        request,
        f"{assignee.display_name} will help with "
        f"{request.get_kind_display().lower()} on “{request.opportunity}”.",
    )
    if assignee.pk != actor.user.pk:
        notification_create(
            tenant=tenant,
            recipients=[assignee],
            verb="cosell_assigned",
            message=f"You are assigned: {request.get_kind_display()} on “{request.opportunity}”.",
            url=_deal_url(request.opportunity, "vendor"),
        )
    return request


@transaction.atomic
def cosell_request_decline(
    *, tenant: Tenant, actor: Membership, request_id: int, reason: str
) -> CoSellRequest:
    require_vendor(actor)
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise ValidationFailed(
            "Say why (at most 500 characters).", fields={"reason": ["1 to 500 characters."]}
        )
    request = _lock_request(tenant, actor, request_id)
    if request.status not in (CoSellRequest.Status.REQUESTED, CoSellRequest.Status.ASSIGNED):
        raise Conflict(f"The request is already {request.get_status_display().lower()}.")
    request.decline(reason)
    request.save()
    audit_record(tenant=tenant, actor=actor.user, verb="cosell_declined", subject=request)
    _tell_partner(
        request,
        f"Your {request.get_kind_display().lower()} request on "
        f"“{request.opportunity}” was declined: {reason}",
    )
    return request


@transaction.atomic
def cosell_request_complete(*, tenant: Tenant, actor: Membership, request_id: int) -> CoSellRequest:
    require_vendor(actor)
    request = _lock_request(tenant, actor, request_id)
    if request.status != CoSellRequest.Status.ASSIGNED:
        raise Conflict("Only an assigned request can be marked done.")
    request.complete()
    request.save()
    audit_record(tenant=tenant, actor=actor.user, verb="cosell_done", subject=request)
    _tell_partner(request, f"{request.get_kind_display()} on “{request.opportunity}” is done.")
    return request

"""Co-sell requests: a partner asks for help on a deal; the vendor assigns someone from the
pool with headroom, who logs the first contact on a clock and completes the help.

requested → assigned → engaged → completed, or declined (with a reason) / cancelled on the
way. Every step writes an audit row and a line on the deal's activity log.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from pipeline.defaults import add_business_days
from pipeline.models import (
    Activity,
    CoSellRequest,
    CoSellResource,
    CoSellResourceType,
    Opportunity,
)
from pipeline.selectors.cosell import (
    cosell_settings_get,
    load_for,
    resource_loads,
    type_eligibility,
    unavailable_on,
    week_of,
    weekly_capacities,
)

TEXT_MAX = 2000


def _deal_url(opportunity: Opportunity, portal: str) -> str:
    return reverse(f"{portal}:opportunity_detail", args=[opportunity.pk])


def _log(request: CoSellRequest, author: User | None, body: str, *, contact: bool = False) -> None:
    """A line on the deal's activity log (a first contact also counts as deal activity)."""
    now = timezone.now()
    Activity.objects.create(
        tenant_id=request.tenant_id,
        opportunity_id=request.opportunity_id,
        kind=Activity.Kind.CALL if contact else Activity.Kind.NOTE,
        body=body[:5000],
        occurred_at=now,
        author=author,
    )
    if contact:
        Opportunity.objects.filter(pk=request.opportunity_id, last_activity_at__lt=now).update(
            last_activity_at=now
        )


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


def _text(value: str, name: str, *, required: bool) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > TEXT_MAX:
        low = 1 if required else 0
        raise ValidationFailed(
            f"{name.capitalize()}: {low} to {TEXT_MAX} characters.",
            fields={name: [f"{low} to {TEXT_MAX} characters."]},
        )
    return value


def _visible_deal(tenant: Tenant, actor: Membership, opportunity_id: int) -> Opportunity:
    opportunity = (
        Opportunity.objects.visible_to(actor)
        .select_related("partner", "owner", "stage")
        .filter(tenant=tenant, pk=opportunity_id)
        .first()
    )
    if opportunity is None:
        raise NotFound
    return opportunity


def _resource_type(tenant: Tenant, code: object) -> CoSellResourceType:
    found = (
        CoSellResourceType.objects.for_tenant(tenant)
        .filter(code=str(code), is_active=True)
        .prefetch_related("stages")
        .first()
    )
    if found is None:
        raise ValidationFailed(
            "Unknown kind of help.", fields={"resource_type": ["Choose a kind of help."]}
        )
    return found


def _sla_due(tenant: Tenant, opportunity: Opportunity) -> datetime:
    settings = cosell_settings_get(tenant=tenant)
    large = opportunity.amount is not None and opportunity.amount >= settings.large_deal_amount
    days = settings.large_deal_sla_business_days if large else settings.sla_business_days
    return add_business_days(timezone.now(), days)


@transaction.atomic
def cosell_request_create(
    *,
    tenant: Tenant,
    actor: Membership,
    opportunity_id: int,
    resource_type: str | CoSellResourceType,
    need: str,
    need_by: date,
    details: str = "",
) -> CoSellRequest:
    """A partner asks for one kind of help the deal qualifies for, with the need, the date
    it is needed by and a note. The first-contact clock starts now."""
    if not actor.is_partner:
        raise PermissionDenied("Co-sell requests come from the partner working the deal.")
    opportunity = _visible_deal(tenant, actor, opportunity_id)
    Opportunity.objects.select_for_update().filter(pk=opportunity.pk).first()  # one at a time
    code = resource_type.code if isinstance(resource_type, CoSellResourceType) else resource_type
    kind = _resource_type(tenant, code)
    need = _text(need, "need", required=True)
    details = _text(details, "details", required=False)
    if need_by < timezone.localdate():
        raise ValidationFailed(
            "The need-by date is in the past.", fields={"need_by": ["Today or later."]}
        )
    eligibility = type_eligibility(kind, opportunity)
    if not eligibility.eligible:
        why = " ".join(eligibility.reasons)
        raise Conflict(f"The deal does not qualify for {kind.name}: {why}")
    if CoSellRequest.objects.filter(
        tenant=tenant,
        opportunity=opportunity,
        resource_type=kind,
        status__in=CoSellRequest.OPEN_STATUSES,
    ).exists():
        raise Conflict(f"A {kind.name.lower()} request on this deal is already open.")
    request = CoSellRequest.objects.create(
        tenant=tenant,
        opportunity=opportunity,
        resource_type=kind,
        need=need,
        need_by=need_by,
        details=details,
        requested_by=actor.user,
        stage_at_request=opportunity.stage,
        sla_due_at=_sla_due(tenant, opportunity),
    )
    audit_record(tenant=tenant, actor=actor.user, verb="cosell_requested", subject=request)
    event_record(
        tenant=tenant,
        name="cosell.requested",
        subject=request,
        payload={
            "opportunity_id": opportunity.pk,
            "resource_type": kind.code,
            "need_by": str(need_by),
        },
    )
    _log(request, actor.user, f"Co-sell requested: {kind.name}, needed by {need_by}. {need}")
    notification_create(
        tenant=tenant,
        recipients=_vendor_people_for(opportunity),
        verb="cosell_requested",
        message=f"{kind.name} requested on “{opportunity.name}” by {need_by.isoformat()}.",
        url=reverse("vendor:cosell_queue"),
    )
    return request


def _lock_request(tenant: Tenant, actor: Membership, request_id: int) -> CoSellRequest:
    request = (
        CoSellRequest.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .select_related(
            "opportunity__partner",
            "opportunity__stage",
            "requested_by",
            "resource_type",
            "assigned_resource__person",
        )
        .filter(tenant=tenant, pk=request_id)
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


def _refuse_if_not(request: CoSellRequest, *statuses: str, doing: str) -> None:
    if request.status not in statuses:
        raise Conflict(
            f"The request is {request.get_status_display().lower()}; it cannot be {doing}."
        )


# --- Assignment ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """The outcome of an assignment: the request, and whether nobody had headroom (then the
    request stays requested and `capacity_refused_at` is set)."""

    request: CoSellRequest
    refused_for_capacity: bool = False


def _deal_product_lines(opportunity: Opportunity) -> set[str]:
    return set(
        Opportunity.objects.filter(pk=opportunity.pk)
        .exclude(registration__product_lines__code=None)
        .values_list("registration__product_lines__code", flat=True)
    )


def _candidates(
    tenant: Tenant, request: CoSellRequest, person: Membership | None
) -> list[CoSellResource]:
    """The pool members who serve the type and are active, locked in id order (so two
    assignments at once queue instead of both seeing the same headroom)."""
    pool = CoSellResource.objects.for_tenant(tenant).filter(
        types=request.resource_type,
        is_active=True,
        person__is_active=True,
        person__role__in=VENDOR_ROLES,
    )
    if person is not None:
        pool = pool.filter(person=person)
    return list(pool.select_for_update(of=("self",)).select_related("person__user").order_by("pk"))


def _with_headroom(
    tenant: Tenant, request: CoSellRequest, pool: list[CoSellResource]
) -> list[CoSellResource]:
    """Members available today with room this week for the request (their weekly capacity
    prorated for the working days they are away this week), least loaded first, then those
    covering the deal's region, then its product lines."""
    today = timezone.localdate()
    since, until = week_of(today)
    ids = [r.pk for r in pool]
    loads = resource_loads(tenant=tenant, resource_ids=ids, since=since, until=until)
    away = unavailable_on(ids, today)
    monday = today - timedelta(days=today.weekday())
    capacity = {pk: c for (pk, _), c in weekly_capacities(pool, [monday]).items()}
    partner = request.opportunity.partner
    region = partner.region if partner is not None else ""
    lines = _deal_product_lines(request.opportunity)
    room = [
        r
        for r in pool
        if r.pk not in away
        and capacity[r.pk] > 0
        and loads.get(r.pk, 0) + load_for(r, request.resource_type) <= capacity[r.pk]
    ]

    def rank(r: CoSellResource) -> tuple:
        return (
            loads.get(r.pk, 0) / capacity[r.pk],
            region not in r.regions,
            not (lines & set(r.product_lines)),
            r.pk,
        )

    return sorted(room, key=rank)


def _pool_person(tenant: Tenant, person_id: int) -> Membership:
    person = (
        Membership.objects.for_tenant(tenant)
        .filter(pk=person_id, role__in=VENDOR_ROLES, is_active=True)
        .select_related("user")
        .first()
    )
    if person is None:
        raise ValidationFailed(
            "Choose a person of the co-sell pool.", fields={"person_id": ["Not found."]}
        )
    return person


@transaction.atomic
def cosell_request_assign(
    *,
    tenant: Tenant,
    actor: Membership,
    request_id: int,
    person_id: int | None = None,
    reason: str = "",
) -> Assignment:
    """Assign the request to the least loaded eligible member with headroom this week, or,
    with `person_id`, to that member (an override: a reason is required). Never over a
    member's weekly capacity, nor to a member unavailable today."""
    require_vendor(actor)
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise ValidationFailed("At most 500 characters.", fields={"reason": ["At most 500."]})
    person = _pool_person(tenant, person_id) if person_id is not None else None
    if person is not None and not reason:
        raise ValidationFailed(
            "Say why you choose this person.", fields={"reason": ["Required with a person."]}
        )
    request = _lock_request(tenant, actor, request_id)
    _refuse_if_not(request, CoSellRequest.Status.REQUESTED, doing="assigned")
    pool = _candidates(tenant, request, person)
    if person is not None and not pool:
        raise ValidationFailed(
            f"{person.user.display_name} does not give {request.resource_type.name.lower()} "
            "help in the pool.",
            fields={"person_id": ["Not in the pool for this kind of help."]},
        )
    room = _with_headroom(tenant, request, pool)
    if not room:
        if person is not None:
            raise Conflict(
                f"{person.user.display_name} has no headroom this week or is unavailable today."
            )
        request.capacity_refused_at = timezone.now()
        request.save(update_fields=["capacity_refused_at"])
        audit_record(
            tenant=tenant, actor=actor.user, verb="cosell_refused_capacity", subject=request
        )
        return Assignment(request, refused_for_capacity=True)
    return Assignment(_assign(tenant, actor, request, room[0], reason))


def _assign(
    tenant: Tenant, actor: Membership, request: CoSellRequest, resource: CoSellResource, reason: str
) -> CoSellRequest:
    assignee = resource.person.user
    request.assign(resource, assignee, load_for(resource, request.resource_type), reason)
    request.save()
    audit_record(tenant=tenant, actor=actor.user, verb="cosell_assigned", subject=request)
    kind = request.resource_type.name
    _log(request, actor.user, f"Co-sell assigned: {assignee.display_name} ({kind}).")
    _tell_partner(
        request, f"{assignee.display_name} will help as {kind.lower()} on “{request.opportunity}”."
    )
    if assignee.pk != actor.user.pk:
        notification_create(
            tenant=tenant,
            recipients=[assignee],
            verb="cosell_assigned",
            message=f"You are assigned: {kind} on “{request.opportunity}”. "
            f"First contact due {timezone.localtime(request.sla_due_at):%Y-%m-%d %H:%M}.",
            url=_deal_url(request.opportunity, "vendor"),
        )
    return request


# --- The rest of the lifecycle -----------------------------------------------------------------


@transaction.atomic
def cosell_request_engage(
    *, tenant: Tenant, actor: Membership, request_id: int, note: str = ""
) -> CoSellRequest:
    """The assignee logs the first contact with the partner: the clock stops."""
    require_vendor(actor)
    note = _text(note, "note", required=False)
    request = _lock_request(tenant, actor, request_id)
    _refuse_if_not(request, CoSellRequest.Status.ASSIGNED, doing="engaged")
    if request.assignee_id != actor.user_id:
        raise PermissionDenied("Only the assigned person logs the first contact.")
    request.engage()
    request.save()
    audit_record(tenant=tenant, actor=actor.user, verb="cosell_engaged", subject=request)
    body = f"First co-sell contact by {actor.user.display_name} ({request.resource_type.name})."
    _log(request, actor.user, f"{body} {note}".strip(), contact=True)
    return request


@transaction.atomic
def cosell_request_complete(*, tenant: Tenant, actor: Membership, request_id: int) -> CoSellRequest:
    require_vendor(actor)
    request = _lock_request(tenant, actor, request_id)
    _refuse_if_not(request, CoSellRequest.Status.ENGAGED, doing="completed")
    request.complete()
    request.save()
    audit_record(tenant=tenant, actor=actor.user, verb="cosell_completed", subject=request)
    _log(request, actor.user, f"Co-sell completed: {request.resource_type.name}.")
    _tell_partner(request, f"{request.resource_type.name} on “{request.opportunity}” is done.")
    return request


@transaction.atomic
def cosell_request_decline(
    *, tenant: Tenant, actor: Membership, request_id: int, reason: str
) -> CoSellRequest:
    require_vendor(actor)
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationFailed(
            "Say why (at most 500 characters).", fields={"reason": ["1 to 500 characters."]}
        )
    request = _lock_request(tenant, actor, request_id)
    _refuse_if_not(
        request, CoSellRequest.Status.REQUESTED, CoSellRequest.Status.ASSIGNED, doing="declined"
    )
    request.decline(reason)
    request.save()
    audit_record(tenant=tenant, actor=actor.user, verb="cosell_declined", subject=request)
    _log(request, actor.user, f"Co-sell declined ({request.resource_type.name}): {reason}")
    _tell_partner(
        request,
        f"Your {request.resource_type.name.lower()} request on "
        f"“{request.opportunity}” was declined: {reason}",
    )
    return request


@transaction.atomic
def cosell_request_cancel(*, tenant: Tenant, actor: Membership, request_id: int) -> CoSellRequest:
    """The partner who asked (or the vendor) withdraws a request nobody engaged on yet."""
    request = _lock_request(tenant, actor, request_id)
    _refuse_if_not(
        request, CoSellRequest.Status.REQUESTED, CoSellRequest.Status.ASSIGNED, doing="cancelled"
    )
    request.cancel()
    request.save()
    audit_record(tenant=tenant, actor=actor.user, verb="cosell_cancelled", subject=request)
    _log(request, actor.user, f"Co-sell request cancelled: {request.resource_type.name}.")
    if actor.is_partner and request.assignee is not None:
        notification_create(
            tenant=tenant,
            recipients=[request.assignee],
            verb="cosell_cancelled",
            message=f"The {request.resource_type.name.lower()} request on "
            f"“{request.opportunity}” was cancelled.",
            url=_deal_url(request.opportunity, "vendor"),
        )
    return request


# --- The first-contact clock --------------------------------------------------------------------


@transaction.atomic
def cosell_sla_sweep(*, tenant: Tenant) -> int:
    """Mark every request past its first-contact deadline with no contact as breached,
    once, and tell the partner's channel manager (active members only). Returns how many."""
    now = timezone.now()
    overdue = list(
        CoSellRequest.objects.for_tenant(tenant)
        .filter(
            status__in=(CoSellRequest.Status.REQUESTED, CoSellRequest.Status.ASSIGNED),
            engaged_at__isnull=True,
            sla_breached_at__isnull=True,
            sla_due_at__lt=now,
        )
        .select_for_update(of=("self",), skip_locked=True)
        .select_related("opportunity__partner", "resource_type", "assignee")
    )
    for request in overdue:
        request.sla_breached_at = now
        request.save(update_fields=["sla_breached_at"])
        audit_record(tenant=tenant, actor=None, verb="cosell_sla_breached", subject=request)
        who = request.assignee.display_name if request.assignee else "nobody yet"
        notification_create(
            tenant=tenant,
            recipients=_vendor_people_for(request.opportunity),
            verb="cosell_sla_breached",
            message=f"First co-sell contact overdue: {request.resource_type.name} on "
            f"“{request.opportunity}” (assigned: {who}).",
            url=reverse("vendor:cosell_queue"),
        )
    return len(overdue)

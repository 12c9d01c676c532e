"""Answering offers: accept, decline with a reason; the sweep that expires offers past
their window (the lead is routed to the next candidate, never back to a decliner or a
timeout) and reminds partners before the window ends.

Decline reasons act: `no_capacity` lowers the partner's effective capacity for a week
(leads/services/routing.py), `not_my_territory` asks the channel manager to check the
partner's territories."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed

from accounts.errors import Conflict, NotFound, ValidationFailed
from accounts.models import Membership, Role, Tenant
from accounts.permissions import require_partner, require_vendor
from accounts.queue import enqueue_on_commit
from accounts.services.audit import audit_record
from accounts.services.notifications import notification_create
from leads.models import Lead, LeadOffer
from leads.services.events import lead_event
from leads.services.intake import ROUTE_TASK
from partners.selectors import partner_managers

NOTE_MAX = 1000
Reason = LeadOffer.Reason


def _open_offer(*, actor: Membership, lead_id: int) -> LeadOffer:
    """The acting partner's open offer of a lead, locked with its lead; 404 otherwise."""
    offer = (
        LeadOffer.objects.visible_to(actor)
        .select_for_update(of=("self",))
        .filter(lead_id=lead_id)
        .order_by("-offered_at")
        .first()
    )
    if offer is None:
        raise NotFound
    offer.lead = Lead.objects.for_tenant(actor.tenant_id).select_for_update().get(pk=lead_id)
    if not can_proceed(offer.accept):
        raise Conflict(f"This offer is already {offer.get_status_display().lower()}.")
    return offer


@transaction.atomic
def offer_accept(*, tenant: Tenant, actor: Membership, lead_id: int) -> LeadOffer:
    require_partner(actor)
    offer = _open_offer(actor=actor, lead_id=lead_id)
    if offer.expires_at <= timezone.now():
        raise Conflict("The acceptance window has ended.")
    offer.accept(by=actor.user)
    offer.save()
    offer.lead.accept(partner=offer.partner, owner=actor.user)
    offer.lead.updated_at = timezone.now()
    offer.lead.save()
    audit_record(tenant=tenant, actor=actor.user, verb="lead_accepted", subject=offer.lead)
    lead_event(tenant=tenant, name="lead.accepted", lead=offer.lead, offer=offer)
    return offer


def decline_clean(reason_code: object, note: object) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    if reason_code not in Reason.values:
        errors["reason_code"] = [f"One of: {', '.join(Reason.values)}."]
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        errors["note"] = [f"Text of at most {NOTE_MAX} characters."]
    elif reason_code == Reason.OTHER and not note.strip():
        errors["note"] = ["Say why, when the reason is “other”."]
    if errors:
        raise ValidationFailed("Check the highlighted fields.", fields=errors)
    return str(reason_code), str(note).strip()


@transaction.atomic
def offer_decline(
    *, tenant: Tenant, actor: Membership, lead_id: int, reason_code: object, note: object = ""
) -> LeadOffer:
    require_partner(actor)
    reason, text = decline_clean(reason_code, note)
    offer = _open_offer(actor=actor, lead_id=lead_id)
    offer.decline(by=actor.user, reason_code=reason, note=text)
    offer.save()
    _reroute(offer.lead)
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="lead_declined",
        subject=offer.lead,
        after={"reason_code": reason, "note": text},
    )
    lead_event(
        tenant=tenant, name="lead.declined", lead=offer.lead, offer=offer, reason_code=reason
    )
    if reason == Reason.NOT_MY_TERRITORY:
        _ask_to_check_territories(tenant, offer)
    return offer


def _reroute(lead: Lead) -> None:
    lead.reroute()
    lead.updated_at = timezone.now()
    lead.save()
    enqueue_on_commit(ROUTE_TASK, lead.tenant_id, lead.pk)


def _ask_to_check_territories(tenant: Tenant, offer: LeadOffer) -> None:
    partner = offer.partner
    notification_create(
        tenant=tenant,
        recipients=partner_managers(partner=partner),
        verb="lead_territory_check",
        message=f"{partner.name} declined a lead in {offer.lead.country} as not their "
        "territory: check the partner's territories.",
        url=reverse("vendor:lead_detail", args=[offer.lead_id]),
    )


@transaction.atomic
def offer_withdraw(*, tenant: Tenant, actor: Membership, lead_id: int) -> Lead:
    """A vendor role pulls an open offer back; the lead waits in the routing queue (that
    partner is not offered it again)."""
    require_vendor(actor)
    lead = Lead.objects.for_tenant(tenant).select_for_update().filter(pk=lead_id).first()
    offer = (
        LeadOffer.objects.for_tenant(tenant)
        .select_for_update()
        .filter(lead_id=lead_id, status=LeadOffer.Status.OFFERED)
        .first()
    )
    if lead is None:
        raise NotFound
    if offer is None:
        raise Conflict("The lead has no open offer.")
    offer.withdraw(by=actor.user)
    offer.save()
    lead.reroute()
    lead.queue(reason="The vendor withdrew the offer.")
    lead.updated_at = timezone.now()
    lead.save()
    audit_record(tenant=tenant, actor=actor.user, verb="lead_offer_withdrawn", subject=lead)
    lead_event(tenant=tenant, name="lead.withdrawn", lead=lead, offer=offer)
    return lead


def offers_expire(*, tenant: Tenant, limit: int = 200) -> int:
    """Expire the offers whose window has ended and route their leads again."""
    expired = 0
    due = (
        LeadOffer.objects.for_tenant(tenant)
        .filter(status=LeadOffer.Status.OFFERED, expires_at__lte=timezone.now())
        .values_list("pk", flat=True)[:limit]
    )
    for offer_id in list(due):
        with transaction.atomic():
            offer = (
                LeadOffer.objects.for_tenant(tenant)
                .select_for_update(skip_locked=True)
                .filter(pk=offer_id, status=LeadOffer.Status.OFFERED)
                .select_related("lead")
                .first()
            )
            if offer is None:
                continue
            offer.lead = Lead.objects.for_tenant(tenant).select_for_update().get(pk=offer.lead_id)
            offer.expire()
            offer.save()
            _reroute(offer.lead)
            audit_record(tenant=tenant, actor=None, verb="lead_offer_expired", subject=offer.lead)
            lead_event(tenant=tenant, name="lead.expired", lead=offer.lead, offer=offer)
            expired += 1
    return expired


def offers_remind(*, tenant: Tenant, limit: int = 200) -> int:
    """Remind each partner once, `reminder_hours` business hours before its window ends."""
    due = list(
        LeadOffer.objects.for_tenant(tenant)
        .select_for_update(skip_locked=True, of=("self",))
        .filter(
            status=LeadOffer.Status.OFFERED,
            reminded_at__isnull=True,
            remind_at__lte=timezone.now(),
        )
        .select_related("lead", "partner")[:limit]
    )
    for offer in due:
        people = [
            m.user
            for m in Membership.objects.for_tenant(tenant)
            .filter(
                partner=offer.partner,
                is_active=True,
                role__in=[Role.PARTNER_ADMIN, Role.PARTNER_REP],
            )
            .select_related("user")
        ]
        notification_create(
            tenant=tenant,
            recipients=people,
            verb="lead_offer_reminder",
            message=f"The lead {offer.lead.company_name} waits for your answer until "
            f"{timezone.localtime(offer.expires_at):%Y-%m-%d %H:%M}.",
            url=reverse("partner:lead_inbox"),
        )
        offer.reminded_at = timezone.now()
        offer.save(update_fields=["reminded_at"])
    return len(due)


IMPORT_ROUTING_GRACE = timedelta(minutes=30)


def leads_unrouted(*, tenant: Tenant, older_than: timedelta) -> list[int]:
    """Leads still awaiting routing a while after their last change (their task was lost).
    A fresh import's leads are left to its batch tasks for a while (thousands of them may
    wait their turn in those batches, and one task each would only compete with them)."""
    now = timezone.now()
    return list(
        Lead.objects.for_tenant(tenant)
        .filter(status=Lead.Status.NEW, updated_at__lt=now - older_than)
        .exclude(lead_import__finished_at__gte=now - IMPORT_ROUTING_GRACE)
        .values_list("pk", flat=True)[:500]
    )

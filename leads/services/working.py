"""Working an accepted lead: its status (contacted, qualified, disqualified with a reason)
and its conversion into a deal registration, pre-filled from the lead, submitted (so it is
screened like any other) and keeping the lead's source."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from accounts.errors import Conflict, NotFound, ValidationFailed
from accounts.models import Membership, Tenant
from accounts.permissions import require_partner
from accounts.services.audit import audit_record
from deals.models import DealRegistration
from deals.services.registrations import registration_create
from leads.models import Lead
from leads.services.events import lead_event

STATUS_CHANGES = {
    Lead.Status.CONTACTED: "contact",
    Lead.Status.QUALIFIED: "qualify",
    Lead.Status.DISQUALIFIED: "disqualify",
}
NOTE_MAX = 1000
DEFAULT_CLOSE_IN = timedelta(days=90)


def _lock_own(actor: Membership, lead_id: int) -> Lead:
    """The lead, locked, if the actor's partner accepted it; NotFound otherwise."""
    require_partner(actor)
    lead = (
        Lead.objects.for_tenant(actor.tenant_id)
        .select_for_update()
        .filter(pk=lead_id, partner_id=actor.partner_id)
        .first()
    )
    if lead is None:
        raise NotFound
    return lead


@transaction.atomic
def lead_status_update(
    *, tenant: Tenant, actor: Membership, lead_id: int, status: object, note: object = ""
) -> Lead:
    if status not in STATUS_CHANGES:
        raise ValidationFailed(
            "Unknown status.", fields={"status": [f"One of: {', '.join(STATUS_CHANGES)}."]}
        )
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        raise ValidationFailed(
            "Note too long.", fields={"note": [f"At most {NOTE_MAX} characters."]}
        )
    if status == Lead.Status.DISQUALIFIED and not note.strip():
        raise ValidationFailed("Say why.", fields={"note": ["Give the reason for disqualifying."]})
    lead = _lock_own(actor, lead_id)
    change = getattr(lead, STATUS_CHANGES[status])  # type: ignore[index]
    if not can_proceed(change):
        raise Conflict(
            f"The lead is {lead.get_status_display().lower()}; it cannot become {status}."
        )
    before = lead.status
    change(note=note.strip())
    lead.updated_at = timezone.now()
    lead.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="lead_status_changed",
        subject=lead,
        before={"status": before},
        after={"status": lead.status, "note": lead.status_note},
    )
    lead_event(tenant=tenant, name="lead.status_changed", lead=lead, previous_status=before)
    return lead


def registration_data(lead: Lead, *, amount: Any, expected_close_date: Any) -> dict[str, Any]:
    """The registration's fields, pre-filled from the lead."""
    close = expected_close_date or timezone.localdate() + DEFAULT_CLOSE_IN
    return {
        "customer_name": lead.company_name,
        "customer_website": lead.company_website,
        "customer_country": str(lead.country),
        "contact_name": lead.contact_name,
        "contact_email": lead.contact_email,
        "contact_phone": lead.contact_phone,
        "product_lines": list(lead.product_lines),
        "amount": amount if amount is not None else lead.estimated_value,
        "currency": lead.currency,
        "expected_close_date": close,
        "description": lead.notes,
    }


@transaction.atomic
def lead_convert(
    *,
    tenant: Tenant,
    actor: Membership,
    lead_id: int,
    amount: Decimal | None = None,
    expected_close_date: date | None = None,
) -> DealRegistration:
    """Submit a registration pre-filled from the lead (screened on commit like any other);
    ValidationFailed names what the registration still needs, and nothing is stored."""
    lead = _lock_own(actor, lead_id)
    if not can_proceed(lead.convert):
        raise Conflict(f"The lead is {lead.get_status_display().lower()}; it cannot be converted.")
    data = registration_data(lead, amount=amount, expected_close_date=expected_close_date)
    registration = registration_create(tenant=tenant, actor=actor, submit=True, **data)
    registration.source = lead.source or f"Lead #{lead.pk}"
    registration.save(update_fields=["source"])
    lead.convert(registration=registration)
    lead.updated_at = timezone.now()
    lead.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="lead_converted",
        subject=lead,
        after={"registration": registration.pk},
    )
    lead_event(tenant=tenant, name="lead.converted", lead=lead, registration_id=registration.pk)
    return registration

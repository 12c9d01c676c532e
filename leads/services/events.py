"""The lead lifecycle in the outbox: each change records its event in the transaction that
makes it (so a rolled-back change records nothing); integrations turns them into webhooks
and change-feed entries (`lead.created`, `lead.offered`, `lead.accepted`, `lead.declined`,
`lead.expired`, `lead.withdrawn`, `lead.status_changed`, `lead.converted`)."""

from __future__ import annotations

from typing import Any

from accounts.models import DomainEvent, Tenant
from accounts.services.events import event_record
from leads.models import Lead, LeadOffer


def lead_event(
    *, tenant: Tenant | int, name: str, lead: Lead, offer: LeadOffer | None = None, **extra: Any
) -> DomainEvent:
    payload: dict[str, Any] = {"status": lead.status, **extra}
    if offer is not None:
        payload.update(offer_id=offer.pk, partner_id=offer.partner_id, offer_status=offer.status)
    return event_record(
        tenant=tenant if isinstance(tenant, Tenant) else lead.tenant,
        name=name,
        subject=lead,
        payload=payload,
    )

"""The lead lifecycle in the outbox: each change records its event in the transaction that
makes it (so a rolled-back change records nothing); integrations turns them into webhooks
and change-feed entries (`lead.created`, `lead.offered`, `lead.accepted`, `lead.declined`,
`lead.expired`, `lead.withdrawn`, `lead.status_changed`, `lead.converted`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from accounts.models import DomainEvent, Tenant
from accounts.services.events import event_record, event_record_many
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


def lead_events_created(*, tenant: Tenant, leads: Sequence[Lead]) -> list[DomainEvent]:
    """`lead.created` for many stored leads at once (an import's): one bulk outbox insert in
    the transaction that stores them, so a rejected or rolled-back import records none."""
    return event_record_many(
        tenant=tenant,
        name="lead.created",
        subjects=leads,
        payloads=[{"status": lead.status} for lead in leads],
    )

"""Which outbox events become which webhook event types (the types endpoints subscribe to).
How each is written out is in integrations/payloads.py."""

from __future__ import annotations

PING = "webhook.ping"

# outbox event name → webhook event type
EVENT_TYPES: dict[str, str] = {
    "registration.submitted": "registration.submitted",
    "registration.approved": "registration.decided",
    "registration.rejected": "registration.decided",
    "registration.info_requested": "registration.decided",
    "registration.marked_duplicate": "registration.decided",
    "registration.expired": "registration.expired",
    "opportunity.created": "opportunity.created",
    "opportunity.stage_changed": "opportunity.stage_changed",
    "opportunity.won": "opportunity.won",
    "opportunity.lost": "opportunity.lost",
    "opportunity.reopened": "opportunity.reopened",
    "commission.accrued": "commission.accrued",
    "commission.clawed_back": "commission.clawed_back",
    "cosell.requested": "cosell.requested",
    "lead.created": "lead.created",
    "lead.offered": "lead.offered",
    "lead.accepted": "lead.accepted",
    "lead.declined": "lead.declined",
    "lead.expired": "lead.expired",
    "lead.withdrawn": "lead.withdrawn",
    "lead.status_changed": "lead.status_changed",
    "lead.converted": "lead.converted",
}
WEBHOOK_TYPES: tuple[str, ...] = tuple(sorted(set(EVENT_TYPES.values())))

"""The outbox handler of integrations (registered in IntegrationsConfig.ready): every event
that has a webhook type is written out once, fanned out to the endpoints subscribed to it
and appended to the tenant's change feed, in the one transaction that marks the event
delivered to this handler (so both happen, or neither and the outbox retries)."""

from __future__ import annotations

from typing import Any

from accounts.models import DomainEvent
from accounts.services.events import event_handler
from integrations.catalogue import EVENT_TYPES
from integrations.payloads import event_data
from integrations.services.crm_push import crm_push_enqueue
from integrations.services.deliveries import webhook_fan_out
from integrations.services.feed import feed_append


def publish(event: DomainEvent) -> None:
    written: dict[int, dict[str, Any]] = {}

    def render(event: DomainEvent) -> dict[str, Any]:  # read once for both
        if event.pk not in written:
            written[event.pk] = event_data(event)
        return written[event.pk]

    webhook_fan_out(event=event, render=render)
    feed_append(event=event, render=render)  # last: the feed's counter row is locked to commit


for _name in EVENT_TYPES:
    event_handler(_name)(publish)


# --- CRM sync: a deal to push once its registration is approved, and whenever it moves ---------

CRM_PUSH_EVENTS = (
    "registration.approved",
    "opportunity.stage_changed",
    "opportunity.won",
    "opportunity.lost",
    "opportunity.reopened",
)


def crm_push_on_event(event: DomainEvent) -> None:
    crm_push_enqueue(event=event)


for _name in CRM_PUSH_EVENTS:
    event_handler(_name)(crm_push_on_event)

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

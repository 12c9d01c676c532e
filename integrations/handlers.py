"""Outbox handlers of integrations (registered in IntegrationsConfig.ready): every event
that has a webhook type is fanned out to the endpoints subscribed to it, and appended to
the tenant's change feed. Two handlers: each is delivered (and retried) on its own."""

from __future__ import annotations

from accounts.models import DomainEvent
from accounts.services.events import event_handler
from integrations.catalogue import EVENT_TYPES
from integrations.payloads import event_data
from integrations.services.deliveries import webhook_fan_out
from integrations.services.feed import feed_append


def send_webhooks(event: DomainEvent) -> None:
    webhook_fan_out(event=event, render=event_data)


def append_to_feed(event: DomainEvent) -> None:
    feed_append(event=event, render=event_data)


for _name in EVENT_TYPES:
    event_handler(_name)(send_webhooks)
    event_handler(_name)(append_to_feed)

"""Outbox handlers of integrations (registered in IntegrationsConfig.ready): every event
that has a webhook type is fanned out to the endpoints subscribed to it."""

from __future__ import annotations

from accounts.models import DomainEvent
from accounts.services.events import event_handler
from integrations.catalogue import EVENT_TYPES
from integrations.payloads import event_data
from integrations.services.deliveries import webhook_fan_out


def send_webhooks(event: DomainEvent) -> None:
    webhook_fan_out(event=event, render=event_data)


for _name in EVENT_TYPES:
    event_handler(_name)(send_webhooks)

"""Domain-event handlers of the leads app (registered in LeadsConfig.ready): a new tenant
starts with the default routing policy (territory required, product-line specialization
optional, capacity and never-declined required)."""

from __future__ import annotations

from accounts.models import DomainEvent
from accounts.services.events import event_handler
from leads.services.policy import routing_policy_for


@event_handler("tenant.created")
def install_routing_policy(event: DomainEvent) -> None:
    routing_policy_for(event.tenant_id)

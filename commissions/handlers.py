"""Domain-event handlers of the commissions app (registered in CommissionsConfig.ready)."""

from __future__ import annotations

from accounts.models import DomainEvent
from accounts.services.events import event_handler
from commissions.services.attribution import commission_attribute, commission_claw_back


@event_handler("opportunity.won")
def attribute_won_deal(event: DomainEvent) -> None:
    commission_attribute(event=event)


@event_handler("opportunity.reopened")
def claw_back_reopened_deal(event: DomainEvent) -> None:
    commission_claw_back(event=event)

"""Domain-event handlers of the deals app (registered in DealsConfig.ready): a registered
deal that closes converts its registration; reopening puts protection back in force; a
new tenant gets its registration defaults."""

from __future__ import annotations

import logging

from accounts.models import DomainEvent
from accounts.services.events import event_handler
from deals.models import DealRegistration
from deals.services.configuration import registration_defaults_install
from deals.services.protection import ProtectionTaken, claims_release, claims_take
from deals.services.timeline import timeline_record

logger = logging.getLogger(__name__)


@event_handler("tenant.created")
def install_registration_defaults(event: DomainEvent) -> None:
    registration_defaults_install(tenant=event.tenant)


def _registration_of(event: DomainEvent, status: str) -> DealRegistration | None:
    return (
        DealRegistration.objects.for_tenant(event.tenant_id)
        .select_for_update(of=("self",), no_key=True)
        .select_related("tenant")
        .filter(opportunity_id=int(event.subject_id), status=status)
        .first()
    )


@event_handler("opportunity.won")
def convert_won(event: DomainEvent) -> None:
    registration = _registration_of(event, DealRegistration.Status.APPROVED)
    if registration is not None:
        registration.convert_won()
        _converted(registration, "converted_won", "The deal was won.")


@event_handler("opportunity.lost")
def convert_lost(event: DomainEvent) -> None:
    registration = _registration_of(event, DealRegistration.Status.APPROVED)
    if registration is not None:
        registration.convert_lost()
        _converted(registration, "converted_lost", "The deal was lost.")


def _converted(registration: DealRegistration, verb: str, message: str) -> None:
    registration.save()
    claims_release(registration)
    timeline_record(
        registration,
        verb=verb,
        actor=None,
        from_status=DealRegistration.Status.APPROVED,
        message=message,
    )


@event_handler("opportunity.reopened")
def protect_again(event: DomainEvent) -> None:
    registration = (
        DealRegistration.objects.for_tenant(event.tenant_id)
        .select_for_update(of=("self",), no_key=True)
        .filter(opportunity_id=int(event.subject_id))
        .filter(status__in=[DealRegistration.Status.WON, DealRegistration.Status.LOST])
        .first()
    )
    if registration is None:
        return
    from_status = registration.status
    registration.reconvert_open()
    registration.save()
    try:
        claims_take(registration)
        message = "The deal was reopened: protection is back in force."
    except ProtectionTaken:
        message = "The deal was reopened; another registration now holds the customer."
        logger.info("registration %s reopened without its claims", registration.pk)
    timeline_record(
        registration, verb="reopened", actor=None, from_status=from_status, message=message
    )

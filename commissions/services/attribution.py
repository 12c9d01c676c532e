"""Attribution: the ledger entries a won or reopened deal produces, from its domain event.

Each entry names the event that produced it, and a unique constraint on (tenant, event)
makes a second delivery — a duplicated task, or two workers racing — insert nothing: the
database decides, not a check-then-insert. A reopened deal gets a clawback that nets its
latest accrual (one clawback per accrual, also a constraint); closing it won again is a
new event, so a new accrual.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import DomainEvent
from commissions.models import CommissionEntry
from commissions.services.calculation import commission_calculate
from pipeline.models import Opportunity

logger = logging.getLogger(__name__)


def _opportunity(event: DomainEvent) -> Opportunity | None:
    return (
        Opportunity.objects.for_tenant(event.tenant_id)
        .select_related("partner__tier", "tenant")
        .filter(pk=int(event.subject_id))
        .first()
    )


def _insert_once(entry: CommissionEntry) -> CommissionEntry | None:
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        logger.info("event %s already has its commission entry", entry.source_event_id)
        return None
    return entry


def commission_attribute(*, event: DomainEvent) -> CommissionEntry | None:
    """The accrual of an `opportunity.won` event (None: direct deal, no plan, or done)."""
    opportunity = _opportunity(event)
    if opportunity is None or opportunity.partner_id is None:
        return None
    amount = Decimal(event.payload["amount"])
    close_date = date.fromisoformat(event.payload["close_date"])
    breakdown = commission_calculate(opportunity=opportunity, amount=amount, close_date=close_date)
    if breakdown is None:
        logger.warning("no commission plan in force on %s for deal %s", close_date, opportunity.pk)
        return None
    return _insert_once(
        CommissionEntry(
            tenant_id=event.tenant_id,
            opportunity=opportunity,
            partner_id=opportunity.partner_id,
            owner_id=opportunity.owner_id,
            kind=CommissionEntry.Kind.ACCRUAL,
            amount=breakdown.amount,
            currency=opportunity.tenant.currency,
            breakdown=breakdown.as_json(),
            version_id=breakdown.version_id,
            source_event=event,
            closed_on=close_date,
        )
    )


def commission_claw_back(*, event: DomainEvent) -> CommissionEntry | None:
    """The clawback of an `opportunity.reopened` event: nets the deal's latest accrual."""
    accrual = (
        CommissionEntry.objects.for_tenant(event.tenant_id)
        .filter(
            opportunity_id=int(event.subject_id),
            kind=CommissionEntry.Kind.ACCRUAL,
            clawback__isnull=True,
        )
        .order_by("-id")
        .first()
    )
    if accrual is None:
        return None
    return _insert_once(
        CommissionEntry(
            tenant_id=event.tenant_id,
            opportunity_id=accrual.opportunity_id,
            partner_id=accrual.partner_id,
            owner_id=accrual.owner_id,
            kind=CommissionEntry.Kind.CLAWBACK,
            amount=-accrual.amount,
            currency=accrual.currency,
            breakdown={"reverses": accrual.pk, "reason": "The deal was reopened."},
            version_id=accrual.version_id,
            source_event=event,
            reverses=accrual,
            closed_on=timezone.localdate(),
        )
    )

"""Attribution: the ledger entries a won or reopened deal produces, from its domain event.

Each entry names the event that produced it, and a unique constraint on (tenant, event)
makes a second delivery — a duplicated task, or two workers racing — insert nothing: the
database decides, not a check-then-insert. A reopened deal gets a clawback that nets its
latest accrual (one clawback per accrual, also a constraint); closing it won again is a
new event, so a new accrual.

A won partner deal that no plan version covers on its close date is recorded as an
`UnattributedWin`, not skipped. When a version covering the date is written, the plan
services enqueue `commission_attribute_pending`, which runs each waiting event through
`commission_attribute` again: the same path, the same once-per-event constraint. Attribution
(shared) and plan writes (exclusive) take one advisory lock per tenant, so a deal judged
"no plan" while a version is being written is recorded before that version's retry looks.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import DomainEvent, Tenant
from accounts.services.events import event_record
from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PlanVersion, UnattributedWin
from commissions.services.calculation import commission_calculate
from pipeline.models import Opportunity

logger = logging.getLogger(__name__)

PLANS_LOCK = 7401  # the advisory-lock namespace of a tenant's plan versions
BATCH = 500


def plans_lock(*, tenant_id: int, shared: bool) -> None:
    """Held to the end of the transaction: shared by attribution, exclusive by plan writes."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [PLANS_LOCK, tenant_id])


def _opportunity(event: DomainEvent) -> Opportunity | None:
    return (
        Opportunity.objects.for_tenant(event.tenant_id)
        .select_related("partner__tier", "tenant")
        .filter(pk=int(event.subject_id))
        .first()
    )


def _insert_once(entry: CommissionEntry, *, tenant: Tenant) -> CommissionEntry | None:
    """Insert the entry unless its event has one; a new entry records `commission.accrued`
    or `commission.clawed_back` in the outbox, in the same transaction."""
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        logger.info("event %s already has its commission entry", entry.source_event_id)
        return None
    accrual = entry.kind == CommissionEntry.Kind.ACCRUAL
    event_record(
        tenant=tenant,
        name="commission.accrued" if accrual else "commission.clawed_back",
        subject=entry,
        payload={
            "opportunity_id": entry.opportunity_id,
            "partner_id": entry.partner_id,
            "amount": str(entry.amount),
        },
    )
    return entry


def commission_attribute(*, event: DomainEvent) -> CommissionEntry | None:
    """The accrual of an `opportunity.won` event (None: direct deal, done already, or no
    plan in force on the close date — then the deal is recorded as not attributed)."""
    opportunity = _opportunity(event)
    if opportunity is None or opportunity.partner_id is None:
        return None
    plans_lock(tenant_id=event.tenant_id, shared=True)
    amount = Decimal(event.payload["amount"])
    close_date = date.fromisoformat(event.payload["close_date"])
    breakdown = commission_calculate(opportunity=opportunity, amount=amount, close_date=close_date)
    if breakdown is None:
        logger.warning("no commission plan in force on %s for deal %s", close_date, opportunity.pk)
        UnattributedWin.objects.bulk_create(
            [
                UnattributedWin(
                    tenant_id=event.tenant_id,
                    opportunity=opportunity,
                    partner_id=opportunity.partner_id,
                    source_event=event,
                    closed_on=close_date,
                    amount=amount,
                )
            ],
            ignore_conflicts=True,  # a second delivery of the event records nothing more
        )
        return None
    entry = _insert_once(
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
        ),
        tenant=opportunity.tenant,
    )
    if entry is not None:
        _resolve_waiting(event_id=event.pk, tenant_id=event.tenant_id, entry=entry)
    return entry


def _resolve_waiting(*, tenant_id: int, event_id: int, entry: CommissionEntry | None) -> None:
    UnattributedWin.objects.for_tenant(tenant_id).filter(
        source_event_id=event_id, resolved_at__isnull=True
    ).update(resolved_at=timezone.now(), attributed_entry=entry)


def commission_attribute_pending(*, tenant_id: int) -> int:
    """Attribute the won deals waiting for a plan whose close date a version now covers;
    returns how many accruals were written. Idempotent: run it as often as you like."""
    with tenant_context(tenant_id):
        earliest = (
            PlanVersion.objects.for_tenant(tenant_id)
            .order_by("effective_from")
            .values_list("effective_from", flat=True)
            .first()
        )
        if earliest is None:
            return 0
        waiting = list(
            UnattributedWin.objects.for_tenant(tenant_id)
            .filter(resolved_at__isnull=True, closed_on__gte=earliest)
            .order_by("closed_on", "id")
            .values_list("pk", flat=True)[:BATCH]
        )
    attributed = 0
    for waiting_id in waiting:
        with tenant_context(tenant_id):
            attributed += _attribute_waiting(tenant_id=tenant_id, waiting_id=waiting_id)
    return attributed


def _attribute_waiting(*, tenant_id: int, waiting_id: int) -> bool:
    waiting = (
        UnattributedWin.objects.for_tenant(tenant_id)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("source_event")
        .filter(pk=waiting_id, resolved_at__isnull=True)
        .first()
    )
    if waiting is None:
        return False
    entry = commission_attribute(event=waiting.source_event)
    if entry is None:  # attributed meanwhile by another delivery of the event
        done = (
            CommissionEntry.objects.for_tenant(tenant_id)
            .filter(source_event_id=waiting.source_event_id)
            .first()
        )
        if done is not None:
            _resolve_waiting(tenant_id=tenant_id, event_id=waiting.source_event_id, entry=done)
    return entry is not None


def commission_claw_back(*, event: DomainEvent) -> CommissionEntry | None:
    """The clawback of an `opportunity.reopened` event: nets the deal's latest accrual. A
    reopened deal still waiting for a plan stops waiting: there is nothing to attribute."""
    UnattributedWin.objects.for_tenant(event.tenant_id).filter(
        opportunity_id=int(event.subject_id), resolved_at__isnull=True
    ).update(resolved_at=timezone.now())
    accrual = (
        CommissionEntry.objects.for_tenant(event.tenant_id)
        .filter(
            opportunity_id=int(event.subject_id),
            kind=CommissionEntry.Kind.ACCRUAL,
            clawback__isnull=True,
        )
        .select_related("tenant")
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
        ),
        tenant=accrual.tenant,
    )

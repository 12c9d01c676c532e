"""Which deal an outbox event asks CRM sync to push, enqueued once the event's handler
transaction commits (nothing is sent for a rolled-back change)."""

from __future__ import annotations

from accounts.models import DomainEvent
from accounts.queue import enqueue_on_commit
from deals.models import DealRegistration
from integrations.models import CrmConnection, CrmRecordState

PUSH_TASK = "integrations.tasks.crm_push"


def _deal_of(event: DomainEvent) -> tuple[int | None, bool]:
    """(the deal's id, whether it is new to sync) for an event, if it names one."""
    if not event.subject_id.isdigit():
        return None, False
    if event.subject_type == "deals.dealregistration":
        opportunity_id = (
            DealRegistration.objects.filter(tenant_id=event.tenant_id, pk=int(event.subject_id))
            .values_list("opportunity_id", flat=True)
            .first()
        )
        return opportunity_id, True
    if event.subject_type == "pipeline.opportunity":
        return int(event.subject_id), False
    return None, False


def crm_push_enqueue(*, event: DomainEvent) -> int:
    """A push task per active CRM connection: for an approved registration's deal, and for
    a deal sync already knows (its other moves). Returns how many were queued."""
    opportunity_id, new = _deal_of(event)
    if opportunity_id is None:
        return 0
    connections = CrmConnection.objects.filter(tenant_id=event.tenant_id, is_active=True)
    if not new:
        linked = CrmRecordState.objects.filter(opportunity_id=opportunity_id)
        connections = connections.filter(pk__in=linked.values("connection_id"))
    queued = 0
    for connection_id in connections.values_list("pk", flat=True):
        enqueue_on_commit(PUSH_TASK, event.tenant_id, connection_id, opportunity_id)
        queued += 1
    return queued

"""Celery tasks of integrations: thin wrappers around the delivery services."""

from __future__ import annotations

from celery import Task, shared_task

from accounts.models import Tenant
from accounts.queue import SWEEP_TASK_OPTIONS, TASK_OPTIONS
from accounts.tenancy import tenant_context
from integrations.services import crm_sync, deliveries, idempotency


@shared_task(**TASK_OPTIONS)
def webhook_deliver(tenant_id: int, delivery_id: int) -> bool | None:
    return deliveries.webhook_deliver(tenant_id=tenant_id, delivery_id=delivery_id)


@shared_task(**TASK_OPTIONS)
def webhook_send(tenant_id: int) -> int:
    """Drain the tenant's due deliveries; out of time with more due, queue a successor."""
    drained = deliveries.webhook_send_due(tenant_id=tenant_id)
    if drained.more:
        webhook_send.delay(tenant_id)
    return drained.sent


@shared_task(**SWEEP_TASK_OPTIONS)
def webhook_sweep() -> int:
    """Beat: a send task for every tenant with a due delivery (retries, redeliveries, lost
    tasks, ended leases); returns how many deliveries were due."""
    count = 0
    for tenant in Tenant.objects.only("pk"):
        due = len(deliveries.webhook_due(tenant=tenant.pk))
        if due:
            webhook_send.delay(tenant.pk)
            count += due
    return count


@shared_task(**SWEEP_TASK_OPTIONS)
def webhook_attempt_purge() -> int:
    """Beat, daily: attempts are kept for 30 days."""
    return sum(
        deliveries.webhook_attempt_purge(tenant=tenant.pk) for tenant in Tenant.objects.only("pk")
    )


@shared_task(**SWEEP_TASK_OPTIONS)
def idempotency_key_purge() -> int:
    """Beat, hourly: Idempotency-Key answers are kept for 24 hours."""
    return sum(
        idempotency.idempotency_purge(tenant=tenant.pk) for tenant in Tenant.objects.only("pk")
    )


# --- CRM sync -----------------------------------------------------------------------------------

CRM_RETRIES = 8


@shared_task(bind=True, **{**TASK_OPTIONS, "max_retries": CRM_RETRIES})
def crm_push(self: Task, tenant_id: int, connection_id: int, opportunity_id: int) -> bool | str:
    # crm_push opens its own short transactions: none is held during the CRM's HTTP call
    result = crm_sync.crm_push(
        tenant=tenant_id, connection_id=connection_id, opportunity_id=opportunity_id
    )
    if result == crm_sync.RETRY:
        _retry_or_give_up(self, tenant_id, connection_id, opportunity_id)
    return result


@shared_task(bind=True, **{**TASK_OPTIONS, "max_retries": CRM_RETRIES})
def crm_pull(self: Task, tenant_id: int, connection_id: int) -> int | str:
    result = crm_sync.crm_pull(tenant=tenant_id, connection_id=connection_id)
    with tenant_context(tenant_id):
        edited = crm_sync.crm_deals_edited_here(tenant=tenant_id, connection_id=connection_id)
    if result == crm_sync.RETRY:
        _retry_or_give_up(self, tenant_id, connection_id, None)
    for opportunity_id in edited:  # then send what changed here since the last sync
        crm_push.delay(tenant_id, connection_id, opportunity_id)
    return result


def _retry_or_give_up(
    task: Task, tenant_id: int, connection_id: int, opportunity_id: int | None
) -> None:
    """429 and 5xx: again after 2, 4, 8 … s (at most two minutes); then on the status page."""
    if task.request.retries < CRM_RETRIES:
        raise task.retry(countdown=min(2 ** (task.request.retries + 1), 120))
    with tenant_context(tenant_id):
        crm_sync.crm_gave_up(
            tenant=tenant_id, connection_id=connection_id, opportunity_id=opportunity_id
        )


@shared_task(**SWEEP_TASK_OPTIONS)
def crm_poll_sweep() -> int:
    """Beat: a pull task for every active CRM connection."""
    count = 0
    for tenant in Tenant.objects.only("pk"):
        with tenant_context(tenant.pk):
            connections = list(crm_sync.crm_connections_due(tenant=tenant.pk))
        for connection_id in connections:
            crm_pull.delay(tenant.pk, connection_id)
            count += 1
    return count


@shared_task(**SWEEP_TASK_OPTIONS)
def crm_push_sweep() -> int:
    """Beat: re-queue the pushes that were lost (the worker died after the commit, the
    broker was down): approved registrations' deals never sent and linked deals edited
    since their last sync. Resending is idempotent (upsert by our id)."""
    count = 0
    for tenant in Tenant.objects.only("pk"):
        with tenant_context(tenant.pk):
            lost = [
                (connection_id, opportunity_id)
                for connection_id in crm_sync.crm_connections_due(tenant=tenant.pk)
                for opportunity_id in crm_sync.crm_pushes_lost(
                    tenant=tenant.pk, connection_id=connection_id
                )
            ]
        for connection_id, opportunity_id in lost:
            crm_push.delay(tenant.pk, connection_id, opportunity_id)
            count += 1
    return count

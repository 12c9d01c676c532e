"""Celery tasks of integrations: thin wrappers around the delivery services."""

from __future__ import annotations

from celery import shared_task

from accounts.models import Tenant
from accounts.queue import SWEEP_TASK_OPTIONS, TASK_OPTIONS
from integrations.services import deliveries, idempotency


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

"""Celery tasks of integrations: thin wrappers around the delivery services."""

from __future__ import annotations

from celery import shared_task

from accounts.models import Tenant
from accounts.queue import SWEEP_TASK_OPTIONS, TASK_OPTIONS
from integrations.services import deliveries


@shared_task(**TASK_OPTIONS)
def webhook_deliver(tenant_id: int, delivery_id: int) -> bool | None:
    return deliveries.webhook_deliver(tenant_id=tenant_id, delivery_id=delivery_id)


@shared_task(**SWEEP_TASK_OPTIONS)
def webhook_sweep() -> int:
    """Beat: queue every due delivery (retries, redeliveries, lost tasks, ended leases)."""
    count = 0
    for tenant in Tenant.objects.only("pk"):
        for delivery_id in deliveries.webhook_due(tenant=tenant.pk):
            webhook_deliver.delay(tenant.pk, delivery_id)
            count += 1
    return count


@shared_task(**SWEEP_TASK_OPTIONS)
def webhook_attempt_purge() -> int:
    """Beat, daily: attempts are kept for 30 days."""
    return sum(
        deliveries.webhook_attempt_purge(tenant=tenant.pk) for tenant in Tenant.objects.only("pk")
    )

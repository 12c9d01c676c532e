"""Celery tasks of the commissions app: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from accounts.models import Tenant
from accounts.queue import SWEEP_TASK_OPTIONS, TASK_OPTIONS
from commissions.services.attribution import commission_attribute_pending as attribute_pending


@shared_task(**TASK_OPTIONS)
def commission_attribute_pending(tenant_id: int) -> int:
    """Attribute the tenant's won deals that waited for a plan (enqueued on commit of a plan
    version's creation or change)."""
    if not Tenant.objects.filter(pk=tenant_id).exists():
        return 0
    return attribute_pending(tenant_id=tenant_id)


@shared_task(**SWEEP_TASK_OPTIONS)
def commission_attribute_pending_sweep() -> int:
    """Beat: the same for every tenant, in case the on-commit task never reached the broker."""
    return sum(
        attribute_pending(tenant_id=pk) for pk in Tenant.objects.values_list("pk", flat=True)
    )

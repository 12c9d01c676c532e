"""Celery tasks of the partners app: thin wrappers around services."""

from __future__ import annotations

import logging

from celery import shared_task

from accounts.models import Tenant
from accounts.queue import LOST_AFTER, SWEEP_TASK_OPTIONS, TASK_OPTIONS
from partners import services

logger = logging.getLogger(__name__)


@shared_task(**TASK_OPTIONS)
def invitation_send(tenant_id: int, invitation_id: int) -> bool:
    return services.invitation_send(tenant_id=tenant_id, invitation_id=invitation_id)


@shared_task(**SWEEP_TASK_OPTIONS)
def invitation_send_sweep() -> int:
    """Beat: e-mail invitations whose send task was lost (broker down at commit time)."""
    sent = 0
    for tenant in Tenant.objects.only("pk"):
        pending = services.invitation_send_pending(
            tenant_id=tenant.pk, older_than_seconds=int(LOST_AFTER.total_seconds())
        )
        for invitation_id in pending:
            try:
                sent += services.invitation_send(tenant_id=tenant.pk, invitation_id=invitation_id)
            except OSError:
                logger.warning(
                    "invitation %s not e-mailed; next sweep retries", invitation_id, exc_info=True
                )
    return sent

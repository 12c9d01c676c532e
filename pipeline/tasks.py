"""Celery tasks of the pipeline app: thin wrappers around services, one tenant at a time."""

from __future__ import annotations

import logging

from celery import shared_task

from accounts.models import Tenant
from accounts.queue import SWEEP_TASK_OPTIONS, TASK_OPTIONS, send_task_now
from accounts.tenancy import tenant_context
from pipeline.services import cosell_requests, staleness

logger = logging.getLogger(__name__)


@shared_task(**SWEEP_TASK_OPTIONS)
def stale_scan() -> int:
    """Beat (hourly): alert on stale open deals, once per deal, reason and period."""
    alerts = 0
    for tenant in Tenant.objects.only("pk"):
        try:
            with tenant_context(tenant):
                alerts += staleness.stale_scan(tenant=tenant).alerts
        except Exception:  # one tenant's failure must not starve the others; next run retries
            logger.exception("stale scan failed for tenant %s", tenant.pk)
    return alerts


@shared_task(**SWEEP_TASK_OPTIONS)
def stale_digest() -> int:
    """Beat (daily): record each person's digest of new stale alerts and hand every unsent
    digest to the worker (one e-mail per person and day)."""
    queued = 0
    for tenant in Tenant.objects.only("pk"):
        with tenant_context(tenant):
            digest_ids = staleness.stale_digest_prepare(tenant=tenant)
        for digest_id in digest_ids:  # committed: the send task sees the digest
            queued += send_task_now("pipeline.tasks.stale_digest_send", tenant.pk, digest_id)
    return queued


@shared_task(**TASK_OPTIONS)
def stale_digest_send(tenant_id: int, digest_id: int) -> bool:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return False
    with tenant_context(tenant):
        return staleness.stale_digest_send(tenant=tenant, digest_id=digest_id)


@shared_task(**SWEEP_TASK_OPTIONS)
def cosell_sla_sweep() -> int:
    """Beat (every 10 minutes): mark co-sell requests past their first-contact deadline as
    breached, once each, and tell the partner's channel manager."""
    breached = 0
    for tenant in Tenant.objects.only("pk"):
        try:
            with tenant_context(tenant):
                breached += cosell_requests.cosell_sla_sweep(tenant=tenant)
        except Exception:  # one tenant's failure must not starve the others; next run retries
            logger.exception("co-sell SLA sweep failed for tenant %s", tenant.pk)
    return breached

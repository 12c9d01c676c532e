"""Celery tasks of the analytics app: thin wrappers around services, one tenant at a time."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from accounts.models import Tenant
from accounts.queue import SWEEP_TASK_OPTIONS, TASK_OPTIONS
from accounts.tenancy import tenant_context
from analytics.selectors.calibration_cache import (
    calibration_current,
    refresh_started,
)
from analytics.services import deal_facts as deal_facts_service
from analytics.services.snapshots import forecast_snapshot_take

logger = logging.getLogger(__name__)


@shared_task(**SWEEP_TASK_OPTIONS)
def forecast_snapshot() -> int:
    """Beat (weekly, Monday morning): every tenant's forecast snapshot of the week."""
    written = 0
    for tenant in Tenant.objects.all():
        try:
            with tenant_context(tenant):
                written += forecast_snapshot_take(tenant=tenant, today=timezone.localdate())
        except Exception:  # one tenant's failure must not starve the others
            logger.exception("forecast snapshot failed for tenant %s", tenant.pk)
    return written


@shared_task(**SWEEP_TASK_OPTIONS)
def calibration_refresh(tenant_id: int) -> None:
    """On commit of a closing or reopening stage move (debounced): count the tenant's
    calibration again and store it, off the request path."""
    refresh_started(tenant_id)
    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant):
        calibration_current(tenant=tenant)


@shared_task(**SWEEP_TASK_OPTIONS)
def calibration_refresh_sweep() -> None:
    """Beat: every tenant's stored calibration, refreshed when a deal moved since (and
    stored again before it expires)."""
    for tenant in Tenant.objects.all():
        try:
            with tenant_context(tenant):
                calibration_current(tenant=tenant)
        except Exception:  # one tenant's failure must not starve the others
            logger.exception("calibration refresh failed for tenant %s", tenant.pk)


@shared_task(**TASK_OPTIONS)
def deal_facts_refresh(tenant_id: int, opportunity_ids: list[int]) -> int:
    """On commit of a change to these deals (one task per transaction): their facts."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return 0
    with tenant_context(tenant):
        return deal_facts_service.deal_facts_refresh(tenant=tenant, opportunity_ids=opportunity_ids)


@shared_task(**SWEEP_TASK_OPTIONS)
def deal_facts_sweep() -> int:
    """Beat (hourly): every tenant's facts recomputed, the drifted rows rewritten."""
    repaired = 0
    for tenant in Tenant.objects.all():
        try:
            repaired += deal_facts_service.deal_facts_refresh_all(tenant=tenant)
        except Exception:  # one tenant's failure must not starve the others
            logger.exception("deal facts sweep failed for tenant %s", tenant.pk)
    return repaired

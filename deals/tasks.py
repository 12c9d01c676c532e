"""Celery tasks of the deals app: thin wrappers around services, one tenant at a time."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from accounts.models import Tenant
from accounts.queue import LOST_AFTER, SWEEP_TASK_OPTIONS, TASK_OPTIONS, send_task_now
from accounts.tenancy import tenant_context
from deals.models import DealRegistration
from deals.services import alerts
from deals.services.screening import registration_screen as screen

logger = logging.getLogger(__name__)

# A registration still `submitted` LOST_AFTER after submitting lost its screening task: the
# sweep screens it again. Screening a registration twice changes nothing (state guard).


@shared_task(**TASK_OPTIONS)
def registration_screen(tenant_id: int, registration_id: int) -> str | None:
    """Screen one submitted registration (enqueued on commit of submit)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return None
    with tenant_context(tenant):
        result = screen(tenant=tenant, registration_id=registration_id)
    return result.status if result else None


@shared_task(**SWEEP_TASK_OPTIONS)
def registration_screen_sweep() -> int:
    """Beat: re-enqueue screening of registrations still `submitted` after a while (their
    task never reached the broker, or its worker died)."""
    queued = 0
    cutoff = timezone.now() - LOST_AFTER
    for tenant in Tenant.objects.only("pk"):
        with tenant_context(tenant):
            waiting = list(
                DealRegistration.objects.for_tenant(tenant)
                .filter(status=DealRegistration.Status.SUBMITTED, submitted_at__lt=cutoff)
                .values_list("pk", flat=True)[:500]
            )
        for registration_id in waiting:
            queued += send_task_now("deals.tasks.registration_screen", tenant.pk, registration_id)
    return queued


def _each_tenant(job, label: str) -> int:  # noqa: ANN001
    total = 0
    for tenant in Tenant.objects.only("pk"):
        try:
            with tenant_context(tenant):
                total += job(tenant=tenant)
        except Exception:  # one tenant's failure must not starve the others; next run retries
            logger.exception("%s failed for tenant %s", label, tenant.pk)
    return total


@shared_task(**SWEEP_TASK_OPTIONS)
def protection_sweep() -> int:
    """Beat (hourly): expire lapsed protection, then send the due expiry reminders."""
    expired = _each_tenant(alerts.protection_expire, "protection expiry")
    return expired + _each_tenant(alerts.protection_remind, "protection reminders")


@shared_task(**SWEEP_TASK_OPTIONS)
def review_escalate() -> int:
    """Beat (every 15 minutes): escalate registrations waiting past the review SLA."""
    return _each_tenant(alerts.review_escalate, "review escalation")

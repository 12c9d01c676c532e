"""Celery tasks of the leads app: route a lead (enqueued on commit of its creation, a
decline or an expiry), and the beat sweep that expires offers, sends reminders and routes
leads whose routing task was lost."""

from __future__ import annotations

import logging

from celery import shared_task

from accounts.models import Tenant
from accounts.queue import LOST_AFTER, SWEEP_TASK_OPTIONS, TASK_OPTIONS, send_task_now
from accounts.tenancy import tenant_context
from leads.services import imports, offers, stale
from leads.services.routing import lead_route as route

logger = logging.getLogger(__name__)


@shared_task(**TASK_OPTIONS)
def lead_route(tenant_id: int, lead_id: int) -> str | None:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return None
    with tenant_context(tenant):
        result = route(tenant=tenant, lead_id=lead_id)
    return result.status if result else None


@shared_task(**TASK_OPTIONS)
def lead_route_batch(
    tenant_id: int, lead_ids: list[int], then: list[list[int]] | None = None
) -> int:
    """Route many leads (an import's), each in its own transaction; answers how many were
    offered to a partner. A lead already routed is left alone, as by `lead_route`. `then`:
    the next batches of this import's lane, the first sent when this one is done."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return 0
    offered = 0
    for lead_id in lead_ids:
        with tenant_context(tenant):
            result = route(tenant=tenant, lead_id=int(lead_id))
        offered += bool(result and result.offer_id)
    if then:
        following, *rest = then
        send_task_now(
            "leads.tasks.lead_route_batch", tenant_id, following, *([rest] if rest else [])
        )
    return offered


@shared_task(**TASK_OPTIONS)
def lead_import_process(tenant_id: int, import_id: int) -> str | None:
    """Check an uploaded CSV's rows and store all its leads or none (leads/services/imports)."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return None
    return imports.lead_import_process(tenant=tenant, import_id=import_id)


@shared_task(**SWEEP_TASK_OPTIONS)
def lead_offer_sweep() -> int:
    """Beat (every 10 s): expire offers past their window (their leads are routed again
    within a minute), remind partners before a window ends, re-enqueue lost routings and
    lost imports."""
    done = 0
    for tenant in Tenant.objects.only("pk"):
        try:
            with tenant_context(tenant):
                done += offers.offers_expire(tenant=tenant)
                done += offers.offers_remind(tenant=tenant)
                waiting = offers.leads_unrouted(tenant=tenant, older_than=LOST_AFTER)
                uploads = imports.imports_waiting(tenant=tenant, older_than=LOST_AFTER)
            for lead_id in waiting:
                done += send_task_now("leads.tasks.lead_route", tenant.pk, lead_id)
            for import_id in uploads:
                done += send_task_now(imports.PROCESS_TASK, tenant.pk, import_id)
        except Exception:  # one tenant's failure must not starve the others
            logger.exception("lead offer sweep failed for tenant %s", tenant.pk)
    return done


@shared_task(**SWEEP_TASK_OPTIONS)
def leads_stale_flag() -> int:
    """Beat (hourly): flag the leads that went stale and tell their channel managers, once
    per lead going stale (leads/services/stale.py)."""
    flagged = 0
    for tenant in Tenant.objects.only("pk"):
        try:
            with tenant_context(tenant):
                flagged += stale.leads_stale_flag(tenant=tenant)
        except Exception:  # one tenant's failure must not starve the others
            logger.exception("stale lead sweep failed for tenant %s", tenant.pk)
    return flagged

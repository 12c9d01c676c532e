"""Celery tasks of the accounts app: thin wrappers around services."""

from __future__ import annotations

import logging

from celery import shared_task

from accounts.models import Tenant
from accounts.queue import LOST_AFTER, SWEEP_TASK_OPTIONS, TASK_OPTIONS
from accounts.services import events, notifications
from accounts.services.events import DispatchResult

logger = logging.getLogger(__name__)


@shared_task(**TASK_OPTIONS)
def event_dispatch(tenant_id: int, event_id: int) -> int:
    result: DispatchResult = events.event_dispatch(tenant_id=tenant_id, event_id=event_id)
    return result.delivered


DISPATCH_CHUNK = 200


@shared_task(**TASK_OPTIONS)
def event_dispatch_many(tenant_id: int, event_ids: list[int]) -> int:
    """The events of one bulk write (an import's `lead.created`), dispatched in id order: a
    chunk here, then the rest in a successor task (short tasks; the order kept)."""
    chunk, rest = event_ids[:DISPATCH_CHUNK], event_ids[DISPATCH_CHUNK:]
    result: DispatchResult = events.event_dispatch_many(tenant_id=tenant_id, event_ids=chunk)
    if rest:
        event_dispatch_many.delay(tenant_id, rest)
    return result.delivered


@shared_task(**SWEEP_TASK_OPTIONS)
def outbox_sweep() -> int:
    """Beat: deliver events whose dispatch never reached the broker or whose handler failed."""
    count = 0
    for tenant in Tenant.objects.only("pk"):
        for event_id in events.outbox_pending(tenant=tenant):
            events.event_dispatch(tenant_id=tenant.pk, event_id=event_id)
            count += 1
    return count


@shared_task(**TASK_OPTIONS)
def notification_send_email(tenant_id: int, notification_id: int) -> bool:
    return notifications.notification_send_email(
        tenant_id=tenant_id, notification_id=notification_id
    )


@shared_task(**SWEEP_TASK_OPTIONS)
def notification_email_sweep() -> int:
    """Beat: e-mail notifications whose task was lost (broker down at commit time)."""
    sent = 0
    for tenant in Tenant.objects.only("pk"):
        pending = notifications.notification_email_pending(
            tenant=tenant, older_than_seconds=int(LOST_AFTER.total_seconds())
        )
        for notification_id in pending:
            try:
                sent += notifications.notification_send_email(
                    tenant_id=tenant.pk, notification_id=notification_id
                )
            except OSError:  # one failing address or SMTP hiccup must not stop the batch
                logger.warning(
                    "notification %s not e-mailed; next sweep retries",
                    notification_id,
                    exc_info=True,
                )
    return sent


@shared_task(**TASK_OPTIONS)
def email_send(subject: str, body: str, recipients: list[str]) -> int:
    """A transactional e-mail with no database record behind it (password reset)."""
    from django.core.mail import send_mail

    return send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)

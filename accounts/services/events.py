"""The domain-event outbox: how lower apps reach higher ones without importing them.

A service records an event with `event_record()` inside its own transaction; when that
commits, a task dispatches it. Each registered handler gets the event exactly once: a
delivery row per (event, handler), locked while the handler runs and marked delivered in
the same transaction as the handler's own writes. A failed handler is retried with
backoff by the beat sweep; so is an event whose dispatch task never reached the broker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import DomainEvent, EventDelivery, Tenant
from accounts.queue import enqueue_on_commit
from accounts.tenancy import tenant_context

logger = logging.getLogger(__name__)

Handler = Callable[[DomainEvent], None]
_handlers: dict[str, dict[str, Handler]] = {}

MAX_BACKOFF = timedelta(hours=1)
DISPATCH_MANY_TASK = "accounts.tasks.event_dispatch_many"


def event_handler(event_name: str) -> Callable[[Handler], Handler]:
    """Register a handler for an event name; apps call this from their AppConfig.ready()."""

    def register(handler: Handler) -> Handler:
        _handlers.setdefault(event_name, {})[f"{handler.__module__}.{handler.__qualname__}"] = (
            handler
        )
        return handler

    return register


def handlers_for(event_name: str) -> dict[str, Handler]:
    return dict(_handlers.get(event_name, {}))


def event_record(
    *,
    tenant: Tenant,
    name: str,
    subject: models.Model | None = None,
    payload: dict[str, Any] | None = None,
) -> DomainEvent:
    event = DomainEvent.objects.create(
        tenant=tenant,
        name=name,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=str(subject.pk) if subject is not None else "",
        payload=payload or {},
    )
    enqueue_on_commit("accounts.tasks.event_dispatch", tenant.pk, event.pk)
    return event


def event_record_many(
    *,
    tenant: Tenant,
    name: str,
    subjects: Sequence[models.Model],
    payloads: Sequence[dict[str, Any]],
) -> list[DomainEvent]:
    """Many events of one name at once (a bulk import's rows): one INSERT per thousand, and
    one dispatch task for them all that delivers them in id order (their commit order: they
    commit together), instead of a task per event."""
    created = DomainEvent.objects.bulk_create(
        [
            DomainEvent(
                tenant=tenant,
                name=name,
                subject_type=subject._meta.label_lower,
                subject_id=str(subject.pk),
                payload=payload,
            )
            for subject, payload in zip(subjects, payloads, strict=True)
        ],
        batch_size=1000,
    )
    if created:
        enqueue_on_commit(DISPATCH_MANY_TASK, tenant.pk, [event.pk for event in created])
    return created


def event_dispatch_many(*, tenant_id: int, event_ids: Sequence[int]) -> DispatchResult:
    """`event_dispatch` for each event, in the order given; ones done already are skipped."""
    delivered = failed = 0
    for event_id in event_ids:
        result = event_dispatch(tenant_id=tenant_id, event_id=int(event_id))
        delivered, failed = delivered + result.delivered, failed + result.failed
    return DispatchResult(delivered, failed)


@dataclass(frozen=True)
class DispatchResult:
    delivered: int
    failed: int


def event_dispatch(*, tenant_id: int, event_id: int) -> DispatchResult:
    """Deliver one event to every handler that has not had it yet."""
    with tenant_context(tenant_id):
        event = DomainEvent.objects.filter(pk=event_id).first()
        if event is None or event.dispatched_at is not None:
            return DispatchResult(0, 0)
        EventDelivery.objects.bulk_create(
            [
                EventDelivery(tenant_id=tenant_id, event=event, handler=name)
                for name in handlers_for(event.name)
            ],
            ignore_conflicts=True,
        )
    delivered = failed = 0
    for name in handlers_for(event.name):
        ok = _deliver(tenant_id=tenant_id, event_id=event_id, handler_name=name)
        delivered, failed = delivered + (ok is True), failed + (ok is False)
    _mark_dispatched_if_done(tenant_id=tenant_id, event_id=event_id)
    return DispatchResult(delivered, failed)


def _deliver(*, tenant_id: int, event_id: int, handler_name: str) -> bool | None:
    """Run one handler; True delivered, False failed, None not due or taken by another."""
    with tenant_context(tenant_id):
        delivery = (
            # of=("self",): lock the delivery only; the joined event row stays free for the
            # event's other handlers and for `_mark_dispatched_if_done`.
            EventDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event")
            .filter(
                event_id=event_id,
                handler=handler_name,
                status__in=[EventDelivery.Status.PENDING, EventDelivery.Status.FAILED],
                next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        handler = handlers_for(delivery.event.name).get(handler_name) if delivery else None
        if delivery is None or handler is None:
            return None
        delivery.attempts += 1
        try:
            with transaction.atomic():
                handler(delivery.event)
        except Exception as error:
            logger.exception("event handler %s failed on event %s", handler_name, event_id)
            delivery.status = EventDelivery.Status.FAILED
            delivery.last_error = f"{type(error).__name__}: {error}"[:2000]
            delivery.next_attempt_at = timezone.now() + min(
                timedelta(seconds=10 * 2 ** (delivery.attempts - 1)), MAX_BACKOFF
            )
            delivery.save(update_fields=["attempts", "status", "last_error", "next_attempt_at"])
            return False
        delivery.status = EventDelivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.save(update_fields=["attempts", "status", "delivered_at"])
        return True


def _mark_dispatched_if_done(*, tenant_id: int, event_id: int) -> None:
    with tenant_context(tenant_id):
        undelivered = EventDelivery.objects.filter(event_id=event_id).exclude(
            status=EventDelivery.Status.DELIVERED
        )
        if not undelivered.exists():
            DomainEvent.objects.filter(pk=event_id, dispatched_at__isnull=True).update(
                dispatched_at=timezone.now()
            )


def outbox_pending(*, tenant: Tenant, limit: int = 500) -> list[int]:
    """Events of a tenant owed to a handler now: never dispatched, or with a delivery due.

    Events whose only undelivered handlers are backing off are left out, so failing events
    cannot fill the batch and starve newer ones.
    """
    undelivered = EventDelivery.objects.filter(event=OuterRef("pk")).exclude(
        status=EventDelivery.Status.DELIVERED
    )
    due = undelivered.filter(next_attempt_at__lte=timezone.now())
    with tenant_context(tenant):
        return list(
            DomainEvent.objects.filter(dispatched_at__isnull=True)
            .filter(~Exists(undelivered) | Exists(due))
            .order_by("created_at", "id")
            .values_list("pk", flat=True)[:limit]
        )

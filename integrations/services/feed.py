"""The change feed: every event with a webhook type, numbered per tenant without gaps.

Appended by an outbox handler, in the transaction that marks the event delivered to it. The
number comes from the tenant's counter row (an upsert that locks it until the entry
commits), so a later number can only be taken after the earlier entry has committed: a
reader always sees a gapless prefix and, resuming after the last number it read, misses
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection

from accounts.models import DomainEvent
from integrations.catalogue import EVENT_TYPES
from integrations.models import FeedCounter, FeedEntry

COUNTER = FeedCounter._meta.db_table  # the model's table name, not input
NEXT_SEQ = (
    f"INSERT INTO {COUNTER} (tenant_id, last) VALUES (%s, 1) "  # noqa: S608
    f"ON CONFLICT (tenant_id) DO UPDATE SET last = {COUNTER}.last + 1 RETURNING last"
)


def _next_seq(tenant_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(NEXT_SEQ, [tenant_id])
        return int(cursor.fetchone()[0])


def feed_append(
    *, event: DomainEvent, render: Callable[[DomainEvent], dict[str, Any]]
) -> FeedEntry | None:
    """The event's feed entry (idempotent); runs inside the outbox delivery's transaction."""
    event_type = EVENT_TYPES.get(event.name)
    if event_type is None:
        return None
    existing = FeedEntry.objects.filter(tenant_id=event.tenant_id, event=event).first()
    if existing is not None:
        return existing
    data = render(event)  # before the counter is locked: hold it as briefly as possible
    return FeedEntry.objects.create(
        tenant_id=event.tenant_id,
        seq=_next_seq(event.tenant_id),
        event=event,
        event_type=event_type,
        timestamp=event.created_at,
        data=data,
    )

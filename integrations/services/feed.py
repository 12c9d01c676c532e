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

COUNTER = FeedCounter._meta.db_table  # the models' table names, not input
ENTRY = FeedEntry._meta.db_table
# The number and the entry in one statement: the counter row stays locked from here to the
# commit, so nothing else runs in between (one round trip fewer while others wait on it).
APPEND = (
    f"WITH next AS (INSERT INTO {COUNTER} (tenant_id, last) VALUES (%s, 1) "  # noqa: S608
    f"ON CONFLICT (tenant_id) DO UPDATE SET last = {COUNTER}.last + 1 RETURNING last) "
    f"INSERT INTO {ENTRY} (tenant_id, seq, event_id, event_type, timestamp, data) "
    "SELECT %s, last, %s, %s, %s, %s FROM next RETURNING id, seq"
)


def _append(event: DomainEvent, event_type: str, data: dict[str, Any]) -> FeedEntry:
    entry = FeedEntry(
        tenant_id=event.tenant_id,
        event=event,
        event_type=event_type,
        timestamp=event.created_at,
        data=data,
    )
    stored = FeedEntry._meta.get_field("data").get_db_prep_save(data, connection)
    params = [event.tenant_id, event.tenant_id, event.pk, event_type, event.created_at, stored]
    with connection.cursor() as cursor:
        cursor.execute(APPEND, params)
        entry.pk, entry.seq = cursor.fetchone()
    return entry


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
    return _append(event, event_type, data)

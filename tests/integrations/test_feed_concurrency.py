"""The change feed under concurrent writers: eight threads record and dispatch events
(their own transactions, real PostgreSQL) while a reader follows the feed with `after`;
the reader sees every event exactly once, numbered 1..N without a gap, and never a
number before the ones below it."""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import connection

from accounts.services.events import event_dispatch, event_record
from accounts.tenancy import tenant_context
from integrations.models import FeedEntry
from integrations.selectors import feed_read
from tests.accounts.factories import TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)
WRITERS, EACH = 8, 15


def test_a_reader_following_the_feed_while_others_write_misses_nothing(transactional_db):
    tenant = TenantFactory(name="Acme Software")
    start = threading.Barrier(WRITERS + 1)
    recorded: list[int] = []
    lock = threading.Lock()
    writing = threading.Event()
    writing.set()

    def write(worker: int) -> None:
        try:
            start.wait()
            for n in range(EACH):
                with tenant_context(tenant):
                    event = event_record(
                        tenant=tenant, name="opportunity.won", payload={"w": worker, "n": n}
                    )
                with lock:
                    recorded.append(event.pk)
                time.sleep(random.uniform(0, 0.004))  # noqa: S311
                event_dispatch(tenant_id=tenant.pk, event_id=event.pk)
        finally:
            connection.close()

    seen: list[tuple[int, int]] = []

    def read() -> None:
        after = 0
        try:
            start.wait()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                done = not writing.is_set()
                with tenant_context(tenant):
                    page = feed_read(tenant=tenant, after=after, limit=7)
                seen.extend((entry.seq, entry.event_id) for entry in page.entries)
                after = page.next_after
                if done and not page.entries:
                    return
        finally:
            connection.close()

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    reader = threading.Thread(target=read)
    for thread in [*writers, reader]:
        thread.start()
    for thread in writers:
        thread.join()
    writing.clear()
    reader.join()

    total = WRITERS * EACH
    assert [seq for seq, _ in seen] == list(range(1, total + 1))
    assert sorted(event_id for _, event_id in seen) == sorted(recorded)
    with tenant_context(tenant):
        assert FeedEntry.objects.count() == total

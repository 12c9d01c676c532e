"""The domain-event outbox with a real Celery worker, a real Redis and PostgreSQL.

Recorded in the transaction of the change, dispatched on commit, delivered once per
(event, handler) even when dispatch runs twice at once, retried with backoff by the beat
sweep after a handler failure, and not lost when the broker is down at commit time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from celery.worker import WorkController
from django.utils import timezone

from accounts.models import DomainEvent, EventDelivery, Tenant
from accounts.services.events import event_record
from accounts.tenancy import tenant_context
from prm.celery import app as celery_app
from tests.accounts.factories import TenantFactory
from tests.worker.conftest import (
    WAIT_SECONDS,
    PrivateBroker,
    StartWorker,
    TaskLog,
    queued_messages,
    send_task,
)
from tests.worker.handlers import (
    ACCRUE,
    CLOSE,
    DEAL_WON,
    SLOW,
    SLOW_HANDLER,
    accrue_probe,
    close_probe,
    handled_count,
    slow_probe,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DISPATCH = "accounts.tasks.event_dispatch"
SWEEP = "accounts.tasks.outbox_sweep"
DELIVERED, FAILED = EventDelivery.Status.DELIVERED, EventDelivery.Status.FAILED


@pytest.fixture
def tenant(transactional_db: None) -> Tenant:
    return TenantFactory(name="Acme Software", slug="acme")


def record_won(tenant: Tenant, amount: int = 1000) -> DomainEvent:
    with tenant_context(tenant):
        return event_record(tenant=tenant, name=DEAL_WON, payload={"amount": amount})


def stored(tenant: Tenant, event_id: int) -> tuple[DomainEvent, dict[str, EventDelivery]]:
    with tenant_context(tenant):
        event = DomainEvent.objects.get(pk=event_id)
        return event, {d.handler: d for d in EventDelivery.objects.filter(event_id=event_id)}


def handled(tenant: Tenant, event_id: int, handler: str) -> int:
    with tenant_context(tenant):
        return handled_count(event_id, handler)


def test_committed_event_is_delivered_once_to_every_handler_by_the_worker(
    tenant: Tenant, worker: WorkController, task_log: TaskLog
):
    event = record_won(tenant)

    [run] = task_log.wait(DISPATCH)
    assert (run.args, run.retval, run.state) == ((tenant.pk, event.pk), 2, "SUCCESS")
    stored_event, deliveries = stored(tenant, event.pk)
    assert stored_event.dispatched_at is not None
    assert {name: (d.status, d.attempts, d.last_error) for name, d in deliveries.items()} == {
        ACCRUE: (DELIVERED, 1, ""),
        CLOSE: (DELIVERED, 1, ""),
    }
    assert (accrue_probe.calls, close_probe.calls) == ([event.pk], [event.pk])

    send_task(DISPATCH, tenant.pk, event.pk)  # the same task again, e.g. redelivered
    assert task_log.wait(DISPATCH, 2)[1].retval == 0
    assert (accrue_probe.calls, close_probe.calls) == ([event.pk], [event.pk])
    assert (handled(tenant, event.pk, ACCRUE), handled(tenant, event.pk, CLOSE)) == (1, 1)


class ChangeFailed(Exception):
    pass


def fail_after(tenant: Tenant, write: Callable[[], object]) -> None:
    """Run `write` in a tenant transaction that then fails, rolling it back."""
    with tenant_context(tenant):
        write()
        raise ChangeFailed


def test_event_rolled_back_with_its_transaction_is_never_dispatched(
    tenant: Tenant, start_celery_worker: StartWorker, task_log: TaskLog
):
    celery_app.control.purge()  # no worker runs yet: what the commit publishes stays queued
    written: list[DomainEvent] = []
    with pytest.raises(ChangeFailed):
        fail_after(tenant, lambda: written.append(event_record(tenant=tenant, name=DEAL_WON)))
    [doomed] = written
    assert queued_messages() == 0  # nothing published for the rolled-back event
    marker = record_won(tenant)
    assert queued_messages() == 1

    with start_celery_worker(purge=False):
        [run] = task_log.wait(DISPATCH)
        send_task(SWEEP)
        [sweep] = task_log.wait(SWEEP)

    assert run.args == (tenant.pk, marker.pk)
    assert sweep.retval == 0
    assert [r.args for r in task_log.of(DISPATCH)] == [(tenant.pk, marker.pk)]
    with tenant_context(tenant):
        assert not DomainEvent.objects.filter(pk=doomed.pk).exists()
        assert list(DomainEvent.objects.values_list("pk", flat=True)) == [marker.pk]
    assert (accrue_probe.calls, close_probe.calls) == ([marker.pk], [marker.pk])


def test_dispatch_running_twice_at_once_delivers_once(
    tenant: Tenant, worker: WorkController, task_log: TaskLog
):
    with tenant_context(tenant):
        event = event_record(tenant=tenant, name=SLOW)
    assert slow_probe.entered.wait(WAIT_SECONDS), "the first dispatch never reached its handler"

    # While the first dispatch holds the delivery: a duplicate task, another, and the sweep.
    send_task(DISPATCH, tenant.pk, event.pk)
    send_task(DISPATCH, tenant.pk, event.pk)
    send_task(SWEEP)
    duplicates = task_log.wait(DISPATCH, 2)
    [sweep] = task_log.wait(SWEEP)
    assert [(r.args, r.retval) for r in duplicates] == [((tenant.pk, event.pk), 0)] * 2
    assert sweep.retval == 1  # it tried the pending event, and skipped the locked delivery
    assert stored(tenant, event.pk)[0].dispatched_at is None

    slow_probe.release.set()
    first = task_log.wait(DISPATCH, 3)[2]
    assert (first.args, first.retval) == ((tenant.pk, event.pk), 1)
    stored_event, deliveries = stored(tenant, event.pk)
    assert stored_event.dispatched_at is not None
    assert [(d.handler, d.status, d.attempts) for d in deliveries.values()] == [
        (SLOW_HANDLER, DELIVERED, 1)
    ]
    assert slow_probe.calls == [event.pk]
    assert handled(tenant, event.pk, SLOW_HANDLER) == 1


def test_failing_handler_backs_off_and_the_sweep_delivers_it_once_it_recovers(
    tenant: Tenant, worker: WorkController, task_log: TaskLog
):
    accrue_probe.failing.set()
    before = timezone.now()
    event = record_won(tenant)

    [run] = task_log.wait(DISPATCH)
    assert run.retval == 1  # the healthy handler; the failing one did not count
    stored_event, deliveries = stored(tenant, event.pk)
    failed = deliveries[ACCRUE]
    assert (failed.status, failed.attempts, failed.last_error) == (
        FAILED,
        1,
        "RuntimeError: commission service unavailable",
    )
    assert before + timedelta(seconds=10) <= failed.next_attempt_at
    assert failed.next_attempt_at <= timezone.now() + timedelta(seconds=10)
    assert (deliveries[CLOSE].status, deliveries[CLOSE].attempts) == (DELIVERED, 1)
    assert stored_event.dispatched_at is None
    assert handled(tenant, event.pk, ACCRUE) == 0  # its writes rolled back with it

    accrue_probe.failing.clear()  # recovered, but the retry is not due yet
    send_task(SWEEP)
    assert task_log.wait(SWEEP)[0].retval == 0
    assert accrue_probe.calls == [event.pk]

    with tenant_context(tenant):  # time passes: the backoff ends
        EventDelivery.objects.filter(pk=failed.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
    send_task(SWEEP)
    assert task_log.wait(SWEEP, 2)[1].retval == 1

    stored_event, deliveries = stored(tenant, event.pk)
    assert stored_event.dispatched_at is not None
    assert (deliveries[ACCRUE].status, deliveries[ACCRUE].attempts) == (DELIVERED, 2)
    assert deliveries[ACCRUE].delivered_at is not None
    assert (deliveries[CLOSE].status, deliveries[CLOSE].attempts) == (DELIVERED, 1)
    assert (accrue_probe.calls, close_probe.calls) == ([event.pk, event.pk], [event.pk])
    assert (handled(tenant, event.pk, ACCRUE), handled(tenant, event.pk, CLOSE)) == (1, 1)

    send_task(SWEEP)
    assert task_log.wait(SWEEP, 3)[2].retval == 0
    assert [r.args for r in task_log.of(DISPATCH)] == [(tenant.pk, event.pk)]


def test_broker_down_at_commit_loses_nothing(
    tenant: Tenant,
    private_broker: PrivateBroker,
    start_celery_worker: StartWorker,
    task_log: TaskLog,
    caplog: pytest.LogCaptureFixture,
):
    private_broker.stop()
    caplog.set_level(logging.WARNING, logger="accounts.queue")

    started = time.monotonic()
    with tenant_context(tenant):  # more events than the producer pool has connections
        events = [event_record(tenant=tenant, name=DEAL_WON, payload={"n": n}) for n in range(12)]
    elapsed = time.monotonic() - started

    assert elapsed < 3, f"enqueueing with the broker down took {elapsed:.1f} s"
    warnings = [r for r in caplog.records if r.name == "accounts.queue"]
    assert [r.getMessage() for r in warnings] == [
        f"could not enqueue {DISPATCH}({tenant.pk}, {e.pk}); its beat sweep will retry"
        for e in events
    ]
    assert all(r.levelno == logging.WARNING and r.exc_info for r in warnings)
    for event in events:  # committed, and still owed to its handlers
        stored_event, deliveries = stored(tenant, event.pk)
        assert (stored_event.dispatched_at, deliveries) == (None, {})
    assert accrue_probe.calls == []

    private_broker.start()
    assert queued_messages() == 0  # no dispatch ever reached a broker
    with start_celery_worker():
        send_task(SWEEP)  # beat's next tick, through the producer that failed above
        [sweep] = task_log.wait(SWEEP)
        send_task(SWEEP)
        second = task_log.wait(SWEEP, 2)[1]

    assert (sweep.retval, second.retval) == (12, 0)
    assert task_log.of(DISPATCH) == []
    ids = [e.pk for e in events]
    assert (accrue_probe.calls, close_probe.calls) == (ids, ids)
    for event in events:
        stored_event, deliveries = stored(tenant, event.pk)
        assert stored_event.dispatched_at is not None
        assert sorted((d.handler, d.status, d.attempts) for d in deliveries.values()) == [
            (ACCRUE, DELIVERED, 1),
            (CLOSE, DELIVERED, 1),
        ]
        assert (handled(tenant, event.pk, ACCRUE), handled(tenant, event.pk, CLOSE)) == (1, 1)

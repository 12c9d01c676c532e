"""The domain-event outbox service: record with the change, dispatch once per handler, back
off after a failure, and never let two dispatchers run one handler twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, connections
from django.utils import timezone

from accounts.models import AuditEntry, DomainEvent, EventDelivery, Tenant
from accounts.services.audit import audit_record
from accounts.services.events import (
    MAX_BACKOFF,
    DispatchResult,
    event_dispatch,
    event_handler,
    event_record,
    handlers_for,
    outbox_pending,
)
from accounts.tenancy import tenant_context
from tests.accounts.factories import TenantFactory
from tests.conftest import World

PAID = "test.events.invoice_paid"
FLAKY = "test.events.flaky"
CONTENDED = "test.events.contended"
NOBODY = "test.events.nobody_listens"
DISPATCH = "accounts.tasks.event_dispatch"

LEDGER = f"{__name__}.ledger_post"
RECEIPT = f"{__name__}.receipt_send"
FLAKY_HANDLER = f"{__name__}.flaky_post"
HOLDER = f"{__name__}.holder"
QUICK = f"{__name__}.quick"

DELIVERED, FAILED = EventDelivery.Status.DELIVERED, EventDelivery.Status.FAILED

calls: dict[str, list[int]] = {}
flaky_failing = threading.Event()
holder_entered, holder_release = threading.Event(), threading.Event()


def _ran(handler: str, event: DomainEvent) -> None:
    calls.setdefault(handler, []).append(event.pk)
    audit_record(tenant=event.tenant, actor=None, verb=f"handled:{handler}", subject=event)


@event_handler(PAID)
def ledger_post(event: DomainEvent) -> None:
    _ran(LEDGER, event)


@event_handler(PAID)
def receipt_send(event: DomainEvent) -> None:
    _ran(RECEIPT, event)


@event_handler(FLAKY)
def flaky_post(event: DomainEvent) -> None:
    _ran(FLAKY_HANDLER, event)  # written, then rolled back when it fails
    if flaky_failing.is_set():
        raise ValueError("ledger locked")


@event_handler(CONTENDED)
def holder(event: DomainEvent) -> None:
    _ran(HOLDER, event)
    holder_entered.set()
    if not holder_release.wait(10):
        raise TimeoutError("never released")


@event_handler(CONTENDED)
def quick(event: DomainEvent) -> None:
    _ran(QUICK, event)


@pytest.fixture(autouse=True)
def _reset_handlers() -> Iterator[None]:
    calls.clear()
    flaky_failing.clear()
    holder_entered.clear()
    holder_release.clear()
    yield
    holder_release.set()


def record(tenant: Tenant, name: str = PAID, **payload: object) -> DomainEvent:
    with tenant_context(tenant):
        return event_record(tenant=tenant, name=name, payload=payload)


def deliveries(tenant: Tenant, event_id: int) -> dict[str, EventDelivery]:
    with tenant_context(tenant):
        return {d.handler: d for d in EventDelivery.objects.filter(event_id=event_id)}


def reloaded(tenant: Tenant, event_id: int) -> DomainEvent:
    with tenant_context(tenant):
        return DomainEvent.objects.get(pk=event_id)


def handled(tenant: Tenant, event_id: int, handler: str) -> int:
    with tenant_context(tenant):
        return AuditEntry.objects.filter(
            verb=f"handled:{handler}", subject_id=str(event_id)
        ).count()


def test_handlers_are_registered_by_event_name_under_their_dotted_path():
    assert list(handlers_for(PAID)) == [LEDGER, RECEIPT]
    assert handlers_for(PAID)[LEDGER] is ledger_post
    assert handlers_for(NOBODY) == {}


def test_event_is_stored_with_its_subject_and_dispatch_enqueued_only_on_commit(
    world: World, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with tenant_context(world.tenant):
            event = event_record(
                tenant=world.tenant, name=PAID, subject=world.partner, payload={"amount": "1200.00"}
            )
        assert sent_tasks == []

    assert sent_tasks == [(DISPATCH, (world.tenant.pk, event.pk))]
    stored = reloaded(world.tenant, event.pk)
    assert (
        stored.tenant_id,
        stored.name,
        stored.subject_type,
        stored.subject_id,
        stored.payload,
        stored.dispatched_at,
    ) == (
        world.tenant.pk,
        PAID,
        "partners.partnerorganization",
        str(world.partner.pk),
        {"amount": "1200.00"},
        None,
    )


def test_event_without_subject_or_payload(world: World, sent_tasks):
    event = reloaded(world.tenant, record(world.tenant).pk)
    assert (event.subject_type, event.subject_id, event.payload) == ("", "", {})


class ChangeFailed(Exception):
    pass


def fail_after(tenant: Tenant, write: Callable[[], object]) -> None:
    """Run `write` in a tenant transaction that then fails, rolling it back."""
    with tenant_context(tenant):
        write()
        raise ChangeFailed


def test_event_rolled_back_with_its_transaction_is_neither_stored_nor_enqueued(
    world: World, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ChangeFailed):
        fail_after(world.tenant, lambda: event_record(tenant=world.tenant, name=PAID))

    assert (callbacks, sent_tasks) == ([], [])
    with tenant_context(world.tenant):
        assert not DomainEvent.objects.exists()


def test_dispatch_delivers_once_to_each_handler_and_marks_the_event(world: World):
    event = record(world.tenant)

    assert event_dispatch(tenant_id=world.tenant.pk, event_id=event.pk) == DispatchResult(2, 0)
    assert event_dispatch(tenant_id=world.tenant.pk, event_id=event.pk) == DispatchResult(0, 0)

    assert calls == {LEDGER: [event.pk], RECEIPT: [event.pk]}
    assert {
        h: (d.status, d.attempts, d.last_error)
        for h, d in deliveries(world.tenant, event.pk).items()
    } == {LEDGER: (DELIVERED, 1, ""), RECEIPT: (DELIVERED, 1, "")}
    assert reloaded(world.tenant, event.pk).dispatched_at is not None
    assert (handled(world.tenant, event.pk, LEDGER), handled(world.tenant, event.pk, RECEIPT)) == (
        1,
        1,
    )


def test_event_nobody_handles_is_marked_dispatched(world: World):
    event = record(world.tenant, NOBODY)
    assert event_dispatch(tenant_id=world.tenant.pk, event_id=event.pk) == DispatchResult(0, 0)
    assert deliveries(world.tenant, event.pk) == {}
    assert reloaded(world.tenant, event.pk).dispatched_at is not None


def test_dispatch_pinned_to_another_tenant_finds_nothing(world: World):
    event = record(world.tenant)
    assert event_dispatch(tenant_id=world.other_tenant.pk, event_id=event.pk) == DispatchResult(
        0, 0
    )
    assert calls == {}
    assert deliveries(world.tenant, event.pk) == {}
    assert reloaded(world.tenant, event.pk).dispatched_at is None


def test_failing_handler_backs_off_then_is_delivered_once_it_recovers(world: World):
    flaky_failing.set()
    event = record(world.tenant, FLAKY)

    before = timezone.now()
    assert event_dispatch(tenant_id=world.tenant.pk, event_id=event.pk) == DispatchResult(0, 1)
    failed = deliveries(world.tenant, event.pk)[FLAKY_HANDLER]
    assert (failed.status, failed.attempts, failed.last_error) == (
        FAILED,
        1,
        "ValueError: ledger locked",
    )
    assert before + timedelta(seconds=10) <= failed.next_attempt_at
    assert failed.next_attempt_at <= timezone.now() + timedelta(seconds=10)
    assert handled(world.tenant, event.pk, FLAKY_HANDLER) == 0  # its writes rolled back
    assert reloaded(world.tenant, event.pk).dispatched_at is None

    flaky_failing.clear()  # recovered, but not due yet: nothing runs
    assert event_dispatch(tenant_id=world.tenant.pk, event_id=event.pk) == DispatchResult(0, 0)
    assert calls == {FLAKY_HANDLER: [event.pk]}

    make_due(world.tenant, failed.pk)
    assert event_dispatch(tenant_id=world.tenant.pk, event_id=event.pk) == DispatchResult(1, 0)
    delivered = deliveries(world.tenant, event.pk)[FLAKY_HANDLER]
    assert (delivered.status, delivered.attempts) == (DELIVERED, 2)
    assert delivered.delivered_at is not None
    assert handled(world.tenant, event.pk, FLAKY_HANDLER) == 1
    assert reloaded(world.tenant, event.pk).dispatched_at is not None


def make_due(tenant: Tenant, delivery_id: int) -> None:
    with tenant_context(tenant):
        EventDelivery.objects.filter(pk=delivery_id).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )


@pytest.mark.parametrize(
    ("attempts_before", "backoff"),
    [
        (0, timedelta(seconds=10)),
        (1, timedelta(seconds=20)),
        (3, timedelta(seconds=80)),
        (8, timedelta(seconds=2560)),
        (9, MAX_BACKOFF),  # 5120 s, capped at an hour
        (30, MAX_BACKOFF),
    ],
)
def test_backoff_doubles_from_ten_seconds_up_to_an_hour(
    world: World, attempts_before: int, backoff: timedelta
):
    flaky_failing.set()
    event = record(world.tenant, FLAKY)
    with tenant_context(world.tenant):
        EventDelivery.objects.create(
            tenant=world.tenant,
            event=event,
            handler=FLAKY_HANDLER,
            status=FAILED,
            attempts=attempts_before,
            next_attempt_at=timezone.now() - timedelta(seconds=1),
        )

    before = timezone.now()
    assert event_dispatch(tenant_id=world.tenant.pk, event_id=event.pk) == DispatchResult(0, 1)
    after = timezone.now()

    delivery = deliveries(world.tenant, event.pk)[FLAKY_HANDLER]
    assert delivery.attempts == attempts_before + 1
    assert before + backoff <= delivery.next_attempt_at <= after + backoff


def test_one_delivery_per_event_and_handler_is_a_database_constraint(world: World):
    event = record(world.tenant)
    event_dispatch(tenant_id=world.tenant.pk, event_id=event.pk)
    with pytest.raises(IntegrityError), tenant_context(world.tenant):
        EventDelivery.objects.create(tenant=world.tenant, event=event, handler=LEDGER)


def test_outbox_pending_lists_events_owed_to_a_handler_now_oldest_first(world: World):
    start = timezone.now() - timedelta(hours=1)
    tenant = world.tenant
    never_dispatched = stored_event(tenant, start + timedelta(minutes=5))
    failed_due = stored_event(
        tenant,
        start + timedelta(minutes=1),
        deliveries={LEDGER: (DELIVERED, timezone.now()), RECEIPT: (FAILED, timezone.now())},
    )
    backing_off = stored_event(
        tenant, start, deliveries={LEDGER: (FAILED, timezone.now() + timedelta(minutes=5))}
    )
    delivered_unmarked = stored_event(
        tenant, start + timedelta(minutes=2), deliveries={LEDGER: (DELIVERED, timezone.now())}
    )
    stored_event(tenant, start, dispatched=True)
    stored_event(world.other_tenant, start)

    assert outbox_pending(tenant=tenant) == [
        failed_due.pk,
        delivered_unmarked.pk,
        never_dispatched.pk,
    ]
    assert outbox_pending(tenant=tenant, limit=1) == [failed_due.pk]
    assert backing_off.pk not in outbox_pending(tenant=tenant)


def stored_event(
    tenant: Tenant,
    created_at: datetime,
    *,
    dispatched: bool = False,
    deliveries: dict[str, tuple[str, datetime]] | None = None,
) -> DomainEvent:
    with tenant_context(tenant):
        event = DomainEvent.objects.create(
            tenant=tenant,
            name=PAID,
            created_at=created_at,
            dispatched_at=timezone.now() if dispatched else None,
        )
        for handler, (status, next_attempt_at) in (deliveries or {}).items():
            EventDelivery.objects.create(
                tenant=tenant,
                event=event,
                handler=handler,
                status=status,
                next_attempt_at=next_attempt_at,
            )
    return event


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_never_run_a_handler_twice_nor_wait_for_each_other(sent_tasks):
    tenant = TenantFactory()
    event = record(tenant, CONTENDED)
    results: list[DispatchResult] = []

    def first_dispatcher() -> None:
        try:
            results.append(event_dispatch(tenant_id=tenant.pk, event_id=event.pk))
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_dispatcher)
    thread.start()
    try:
        assert holder_entered.wait(10), "the first dispatcher never reached its handler"
        started = time.monotonic()
        # The holder's delivery is locked: skipped at once. The quick handler's is free.
        second = event_dispatch(tenant_id=tenant.pk, event_id=event.pk)
        assert time.monotonic() - started < 2
        assert event.pk in outbox_pending(tenant=tenant)
    finally:
        holder_release.set()
        thread.join(10)

    assert second == DispatchResult(1, 0)
    assert results == [DispatchResult(1, 0)]
    assert calls == {HOLDER: [event.pk], QUICK: [event.pk]}
    assert {h: (d.status, d.attempts) for h, d in deliveries(tenant, event.pk).items()} == {
        HOLDER: (DELIVERED, 1),
        QUICK: (DELIVERED, 1),
    }
    assert reloaded(tenant, event.pk).dispatched_at is not None
    assert (handled(tenant, event.pk, HOLDER), handled(tenant, event.pk, QUICK)) == (1, 1)

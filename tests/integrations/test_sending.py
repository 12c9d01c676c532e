"""Sending in batches: a fan-out's messages go out right after it commits, at once (a thread
each), with no task per delivery; the send task drains every due delivery of a tenant a
batch at a time, recording each batch in one transaction (a query count that does not grow
with the batch)."""

from __future__ import annotations

import threading

import pytest

from accounts.services.events import event_dispatch
from accounts.tenancy import tenant_context
from integrations.models import WebhookAttempt, WebhookDelivery
from integrations.services.deliveries import Drained, webhook_endpoint_ping, webhook_send_due
from tests.conftest import World
from tests.integrations.conftest import endpoint_for
from tests.integrations.receiver import Receiver
from tests.integrations.test_deliveries import won_event

pytestmark = pytest.mark.django_db


def statuses(world: World) -> list[str]:
    with tenant_context(world.tenant):
        return list(WebhookDelivery.objects.order_by("id").values_list("status", flat=True))


def pings(world: World, receiver: Receiver, count: int) -> None:
    endpoint = endpoint_for(world.vendor_admin, receiver.url)
    with tenant_context(world.tenant):
        for _ in range(count):
            webhook_endpoint_ping(
                tenant=world.tenant, actor=world.vendor_admin, endpoint_id=endpoint.pk
            )


def test_a_fan_out_is_sent_on_commit_to_every_endpoint_at_once(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks, sent_tasks
):
    first = endpoint_for(world.vendor_admin, receiver.url + "/a", ["opportunity.won"])
    second = endpoint_for(world.vendor_admin, receiver.url + "/b", ["opportunity.won"])
    event = won_event(world)
    receiver.hold = threading.Event()  # each request waits until both have arrived
    both_in_flight: list[list] = []

    def release_when_both_arrived() -> None:
        both_in_flight.append(receiver.wait(2, timeout=10))  # raises if they come one by one
        receiver.hold.set()  # type: ignore[union-attr]

    releasing = threading.Thread(target=release_when_both_arrived)
    releasing.start()
    with django_capture_on_commit_callbacks(execute=True):
        event_dispatch(tenant_id=world.tenant.pk, event_id=event.pk)
    releasing.join(30)

    [arrived] = both_in_flight  # sent concurrently
    assert sorted(r.path for r in arrived) == ["/hooks/a", "/hooks/b"]
    by_path = {r.path: r for r in arrived}
    assert by_path["/hooks/a"].verified(first.secret)["type"] == "opportunity.won"
    assert by_path["/hooks/b"].verified(second.secret)["type"] == "opportunity.won"
    assert statuses(world) == ["succeeded", "succeeded"]
    assert not [name for name, _ in sent_tasks if name.startswith("integrations.")]


def test_the_send_task_drains_every_due_delivery_batch_by_batch(world: World, receiver: Receiver):
    pings(world, receiver, 7)

    drained = webhook_send_due(tenant_id=world.tenant.pk, batch=3)

    assert drained == Drained(sent=7, more=False)
    assert len(receiver.wait(7)) == 7
    assert statuses(world) == ["succeeded"] * 7
    assert webhook_send_due(tenant_id=world.tenant.pk) == Drained(sent=0, more=False)
    with tenant_context(world.tenant):
        assert WebhookAttempt.objects.count() == 7


def test_a_drain_out_of_time_says_more_may_be_due(world: World, receiver: Receiver):
    pings(world, receiver, 2)

    assert webhook_send_due(tenant_id=world.tenant.pk, seconds=0) == Drained(sent=0, more=True)
    assert receiver.requests == []
    assert statuses(world) == ["pending", "pending"]


def test_a_batch_costs_the_same_queries_whatever_its_size(
    world: World, receiver: Receiver, django_assert_num_queries
):
    pings(world, receiver, 1)
    with django_assert_num_queries(11):  # claim (5), record (6)
        webhook_send_due(tenant_id=world.tenant.pk)
    pings(world, receiver, 6)
    with django_assert_num_queries(11):
        assert webhook_send_due(tenant_id=world.tenant.pk).sent == 6

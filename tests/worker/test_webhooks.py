"""Outbound webhooks through a real Celery worker, Redis and PostgreSQL, to a real HTTP
receiver on 127.0.0.1: a committed change reaches the endpoint signed (verified with the
`standardwebhooks` package); a rolled-back change sends nothing, sweeps included; a failed
attempt is retried by the beat sweep with the same webhook-id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.tenancy import tenant_context
from integrations.models import WebhookDelivery, WebhookEndpoint
from pipeline.models import Opportunity
from pipeline.services.opportunities import opportunity_close_won
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World, build_world
from tests.integrations.conftest import endpoint_for
from tests.integrations.receiver import Receiver, running_receiver
from tests.pipeline.factories import OpportunityFactory, make_ready_to_win
from tests.worker.conftest import StartWorker, TaskLog, send_task, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def committed_world(transactional_db: None) -> World:
    world = build_world()
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    return world


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def ready_deal(world: World, name: str) -> Opportunity:
    deal = OpportunityFactory(tenant=world.tenant, name=name, amount=10000)
    make_ready_to_win(world.tenant, deal.pk)
    return deal


def close_won(world: World, deal: Opportunity) -> None:
    with tenant_context(world.tenant):
        opportunity_close_won(
            tenant=world.tenant,
            actor=world.channel_manager,
            opportunity_id=deal.pk,
            close_date=timezone.localdate(),
        )


def deliveries(world: World) -> list[WebhookDelivery]:
    with tenant_context(world.tenant):
        return list(WebhookDelivery.objects.order_by("id"))


def test_a_committed_change_is_delivered_signed_by_the_worker(
    committed_world: World, receiver: Receiver, worker: object, task_log: TaskLog
):
    w = committed_world
    endpoint = endpoint_for(w.vendor_admin, receiver.url, ["opportunity.won"])
    deal = ready_deal(w, "Globex renewal")

    close_won(w, deal)

    [request] = receiver.wait(1)
    body = request.verified(endpoint.secret)
    assert (body["type"], body["data"]["id"], body["data"]["status"]) == (
        "opportunity.won",
        deal.pk,
        "won",
    )
    # Sent by the worker that dispatched the event, right after the fan-out committed.
    [delivery] = wait_until(
        lambda: [d for d in deliveries(w) if d.status == "succeeded"], what="the send recorded"
    )
    assert delivery.message_id == request.headers["webhook-id"]
    assert task_log.of("integrations.tasks.webhook_send") == []  # no task per delivery


def test_a_rolled_back_change_sends_nothing_even_after_the_sweeps(
    committed_world: World, receiver: Receiver, worker: object, task_log: TaskLog
):
    w = committed_world
    endpoint_for(w.vendor_admin, receiver.url, ["opportunity.won"])
    deal = ready_deal(w, "Rolled back")

    def change_then_fail() -> None:
        with transaction.atomic():
            close_won(w, deal)
            raise RuntimeError("the request failed after the service")

    with pytest.raises(RuntimeError):
        change_then_fail()

    send_task("accounts.tasks.outbox_sweep")
    send_task("integrations.tasks.webhook_sweep")
    task_log.wait("accounts.tasks.outbox_sweep")
    task_log.wait("integrations.tasks.webhook_sweep")
    assert receiver.requests == []
    assert deliveries(w) == []
    assert task_log.of("accounts.tasks.event_dispatch") == []
    with tenant_context(w.tenant):
        assert Opportunity.objects.get(pk=deal.pk).status == "open"


def test_a_failed_attempt_is_retried_by_the_sweep_with_the_same_id(
    committed_world: World, receiver: Receiver, start_celery_worker: StartWorker, task_log: TaskLog
):
    w = committed_world
    endpoint = endpoint_for(w.vendor_admin, receiver.url, ["opportunity.won"])
    receiver.status = 503
    with start_celery_worker():
        close_won(w, ready_deal(w, "Flaky receiver"))
        receiver.wait(1)
        wait_until(lambda: deliveries(w)[0].attempts == 1, what="the failure recorded")
        receiver.status = 200
        with tenant_context(w.tenant):  # the retry is due (instead of waiting 30 s)
            WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        send_task("integrations.tasks.webhook_sweep")  # queues one send task for the tenant
        first, second = receiver.wait(2)
        [drain] = task_log.wait("integrations.tasks.webhook_send")

        wait_until(lambda: deliveries(w)[0].status == "succeeded", what="the retry recorded")
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert second.verified(endpoint.secret)["type"] == "opportunity.won"
    assert deliveries(w)[0].attempts == 2
    assert drain.retval == 1
    with tenant_context(w.tenant):
        assert WebhookEndpoint.objects.get().failing_since is None

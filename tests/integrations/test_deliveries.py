"""Webhook deliveries through a real HTTP receiver on 127.0.0.1: signed per Standard
Webhooks (verified with the `standardwebhooks` package), retried with backoff, the endpoint
disabled on 410 or after five days of failures, every attempt logged, kept 30 days."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounts.models import DomainEvent, Notification
from accounts.services.events import event_dispatch, event_record
from accounts.tenancy import tenant_context
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.services import deliveries, endpoints
from integrations.services.deliveries import RETRY_DELAYS, retry_delay, webhook_deliver
from pipeline.services.stages import stages_install_defaults
from tests.accounts.factories import MembershipFactory
from tests.conftest import World
from tests.integrations.conftest import endpoint_for
from tests.integrations.receiver import Receiver
from tests.pipeline.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def won_event(world: World) -> DomainEvent:
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    opportunity = OpportunityFactory(tenant=world.tenant, name="Globex renewal", amount=12500)
    with tenant_context(world.tenant):
        return event_record(tenant=world.tenant, name="opportunity.won", subject=opportunity)


def dispatch(world: World, event: DomainEvent) -> list[WebhookDelivery]:
    event_dispatch(tenant_id=world.tenant.pk, event_id=event.pk)
    with tenant_context(world.tenant):
        return list(WebhookDelivery.objects.filter(event=event).order_by("id"))


def deliver(delivery: WebhookDelivery) -> bool | None:
    return webhook_deliver(tenant_id=delivery.tenant_id, delivery_id=delivery.pk)


def reload(world: World, row):  # type: ignore[no-untyped-def]
    with tenant_context(world.tenant):
        return type(row).objects.get(pk=row.pk)


def make_due(world: World, delivery: WebhookDelivery) -> None:
    with tenant_context(world.tenant):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_an_event_reaches_the_subscribed_endpoint_signed_and_verifiable(
    world: World, receiver: Receiver
):
    endpoint = endpoint_for(world.vendor_admin, receiver.url)
    endpoint_for(world.vendor_admin, receiver.url + "/other", ["registration.decided"])
    [delivery] = dispatch(world, won_event(world))  # only the endpoint subscribed to it

    assert deliver(delivery) is True

    [request] = receiver.wait()
    body = request.verified(endpoint.secret)
    assert request.path == "/hooks"
    assert request.headers["webhook-id"] == delivery.message_id
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["content-type"] == "application/json"
    assert body["type"] == "opportunity.won"
    assert body["data"]["name"] == "Globex renewal"
    assert body["data"]["amount"] == "12500.00"
    assert set(body) == {"type", "timestamp", "data"}
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoints.secret_generate()).verify(request.body, request.headers)
    stored = reload(world, delivery)
    assert (stored.status, stored.attempts, stored.last_status_code) == ("succeeded", 1, 200)


def test_a_delivery_is_sent_once_even_when_its_task_runs_twice(world: World, receiver: Receiver):
    endpoint_for(world.vendor_admin, receiver.url)
    [delivery] = dispatch(world, won_event(world))

    assert deliver(delivery) is True
    assert deliver(delivery) is None  # already delivered: nothing sent
    assert len(receiver.requests) == 1


def test_a_failure_is_retried_with_the_same_webhook_id_and_logged(world: World, receiver: Receiver):
    endpoint = endpoint_for(world.vendor_admin, receiver.url)
    [delivery] = dispatch(world, won_event(world))
    receiver.status, receiver.answer = 503, b"x" * 5000

    before = timezone.now()
    assert deliver(delivery) is False
    failed = reload(world, delivery)
    assert failed.status == "pending"
    assert before + timedelta(seconds=30) <= failed.next_attempt_at
    assert failed.next_attempt_at <= timezone.now() + timedelta(seconds=60)  # first retry < 1 min
    assert deliver(delivery) is None  # not due yet

    receiver.status, receiver.answer = 204, b""
    make_due(world, delivery)
    assert deliver(delivery) is True

    first, second = receiver.wait(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert second.verified(endpoint.secret)["type"] == "opportunity.won"
    with tenant_context(world.tenant):
        attempts = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("id"))
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is None
    assert [a.status_code for a in attempts] == [503, 204]
    assert len(attempts[0].response_body) == 2048  # the first 2 KB of the answer
    assert all(a.latency_ms >= 0 for a in attempts)


def test_retries_back_off_with_jitter_over_more_than_72_hours():
    assert retry_delay(1) <= timedelta(seconds=60)
    assert sum(RETRY_DELAYS, timedelta()) >= timedelta(hours=72)
    delays = [retry_delay(n) for n in range(1, len(RETRY_DELAYS) + 1)]
    assert all(
        d is not None and base <= d <= base * 1.2
        for d, base in zip(delays, RETRY_DELAYS, strict=True)
    )
    assert retry_delay(len(RETRY_DELAYS) + 1) is None  # then the delivery has failed
    assert len({retry_delay(3) for _ in range(5)}) > 1  # jitter


def test_after_the_last_retry_the_delivery_has_failed(world: World, receiver: Receiver):
    endpoint_for(world.vendor_admin, receiver.url)
    [delivery] = dispatch(world, won_event(world))
    receiver.status = 500
    with tenant_context(world.tenant):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(round_attempts=len(RETRY_DELAYS))

    assert deliver(delivery) is False

    stored = reload(world, delivery)
    assert (stored.status, stored.next_attempt_at) == ("failed", None)


def test_410_disables_the_endpoint_at_once_and_tells_active_vendor_admins(
    world: World, receiver: Receiver
):
    retired = MembershipFactory(tenant=world.tenant, role="vendor_admin", is_active=False)
    endpoint = endpoint_for(world.vendor_admin, receiver.url)
    [delivery] = dispatch(world, won_event(world))
    receiver.status = 410

    assert deliver(delivery) is False

    stored = reload(world, endpoint)
    assert (stored.status, stored.disabled_reason) == (
        "disabled",
        "The endpoint answered 410 Gone.",
    )
    assert reload(world, delivery).status == "failed"
    with tenant_context(world.tenant):
        told = set(
            Notification.objects.filter(verb="webhook_endpoint_disabled").values_list(
                "recipient_id", flat=True
            )
        )
    assert told == {world.vendor_admin.user_id}
    assert retired.user_id not in told


def test_five_days_of_failures_disable_the_endpoint(world: World, receiver: Receiver):
    endpoint = endpoint_for(world.vendor_admin, receiver.url)
    [delivery] = dispatch(world, won_event(world))
    receiver.status = 500
    with tenant_context(world.tenant):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - timedelta(days=4, hours=23)
        )
    assert deliver(delivery) is False
    assert reload(world, endpoint).status == "active"  # not five days yet

    with tenant_context(world.tenant):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - timedelta(days=5)
        )
    make_due(world, delivery)
    assert deliver(delivery) is False

    stored = reload(world, endpoint)
    assert (stored.status, stored.disabled_reason) == (
        "disabled",
        "Every attempt failed for five days.",
    )
    make_due(world, delivery)
    assert deliver(delivery) is None  # a disabled endpoint is not called
    assert len(receiver.requests) == 2


def test_rotation_signs_with_old_and_new_secret_for_24_hours(world: World, receiver: Receiver):
    endpoint = endpoint_for(world.vendor_admin, receiver.url)
    old = endpoint.secret
    with tenant_context(world.tenant):
        rotated = endpoints.webhook_endpoint_rotate_secret(
            tenant=world.tenant, actor=world.vendor_admin, endpoint_id=endpoint.pk
        )
    [delivery] = dispatch(world, won_event(world))
    deliver(delivery)

    [request] = receiver.wait()
    assert rotated.secret != old
    assert rotated.secret.startswith("whsec_")
    assert request.verified(old)["type"] == request.verified(rotated.secret)["type"]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    with tenant_context(world.tenant):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
        )
        ping = deliveries.webhook_endpoint_ping(
            tenant=world.tenant, actor=world.vendor_admin, endpoint_id=endpoint.pk
        )
    deliver(ping)
    later = receiver.wait(2)[1]
    assert later.verified(rotated.secret)["type"] == "webhook.ping"
    with pytest.raises(WebhookVerificationError):
        later.verified(old)  # after 24 hours the old secret no longer signs


def test_redirects_are_not_followed(world: World, receiver: Receiver):
    receiver.status, receiver.headers = 302, {"Location": receiver.url + "/elsewhere"}
    endpoint_for(world.vendor_admin, receiver.url)
    [delivery] = dispatch(world, won_event(world))

    assert deliver(delivery) is False

    assert [r.path for r in receiver.requests] == ["/hooks"]
    assert reload(world, delivery).last_status_code == 302


@override_settings(PRODUCTION=True)
@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.7", "169.254.169.254", "[::1]"]
)
def test_in_production_private_addresses_are_refused_at_send_time(
    world: World, receiver: Receiver, host: str
):
    endpoint_for(world.vendor_admin, f"http://{host}:{receiver.url.split(':')[2]}")
    [delivery] = dispatch(world, won_event(world))

    assert deliver(delivery) is False

    assert receiver.requests == []
    with tenant_context(world.tenant):
        [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code is None
    assert "private address" in attempt.error


def test_a_slow_endpoint_times_out(world: World, receiver: Receiver, monkeypatch):
    import threading

    monkeypatch.setattr("integrations.transport.TIMEOUT_SECONDS", 0.5)
    receiver.hold = threading.Event()
    endpoint_for(world.vendor_admin, receiver.url)
    [delivery] = dispatch(world, won_event(world))

    assert deliver(delivery) is False

    with tenant_context(world.tenant):
        [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code is None
    assert "timed out" in attempt.error


def test_redeliver_all_failed_since_a_time(world: World, receiver: Receiver):
    endpoint = endpoint_for(world.vendor_admin, receiver.url)
    first, second = dispatch(world, won_event(world)) + dispatch(world, won_event(world))
    with tenant_context(world.tenant):
        WebhookDelivery.objects.filter(pk=first.pk).update(
            status="failed", created_at=timezone.now() - timedelta(days=2)
        )
        WebhookDelivery.objects.filter(pk=second.pk).update(status="failed", round_attempts=13)
        count = deliveries.webhook_redeliver_failed(
            tenant=world.tenant,
            actor=world.vendor_admin,
            since=timezone.now() - timedelta(days=1),
            endpoint_id=endpoint.pk,
        )
    assert count == 1
    assert (reload(world, first).status, reload(world, second).status) == ("failed", "pending")
    assert reload(world, second).round_attempts == 0
    assert deliver(second) is True
    assert receiver.wait()[0].headers["webhook-id"] == second.message_id


def test_attempts_are_kept_30_days(world: World, receiver: Receiver):
    endpoint_for(world.vendor_admin, receiver.url)
    [old, recent] = dispatch(world, won_event(world)) + dispatch(world, won_event(world))
    deliver(old), deliver(recent)
    with tenant_context(world.tenant):
        WebhookAttempt.objects.filter(delivery=old).update(
            attempted_at=timezone.now() - timedelta(days=31)
        )
        WebhookDelivery.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timedelta(days=31)
        )

    assert deliveries.webhook_attempt_purge(tenant=world.tenant) == 1

    with tenant_context(world.tenant):
        assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [recent.pk]
        assert WebhookAttempt.objects.filter(delivery=recent).count() == 1


def test_the_body_is_the_same_on_every_attempt(world: World, receiver: Receiver):
    endpoint_for(world.vendor_admin, receiver.url)
    [delivery] = dispatch(world, won_event(world))
    receiver.status = 500
    deliver(delivery)
    make_due(world, delivery)
    deliver(delivery)

    first, second = receiver.wait(2)
    assert first.body == second.body
    assert json.loads(first.body)["timestamp"] == json.loads(second.body)["timestamp"]
    assert not mail.outbox


def test_a_disabled_endpoint_gets_no_new_messages_and_an_event_without_a_type_none(
    world: World, receiver: Receiver
):
    endpoint = endpoint_for(world.vendor_admin, receiver.url)
    with tenant_context(world.tenant):
        endpoints.webhook_endpoint_disable(
            tenant=world.tenant, actor=world.vendor_admin, endpoint_id=endpoint.pk
        )
        untyped = event_record(tenant=world.tenant, name="tenant.created", subject=world.tenant)

    assert dispatch(world, won_event(world)) == []
    assert dispatch(world, untyped) == []
    assert receiver.requests == []

"""Webhook deliveries: fan-out from the outbox, sending with retries, redelivery, purge.

A delivery is created by the outbox handler in the transaction that marks the event
delivered to it, so a rolled-back change never reaches an endpoint. Sending claims the row
with FOR UPDATE SKIP LOCKED and moves `next_attempt_at` a lease ahead before the HTTP call
(made outside any transaction); a worker killed mid-send leaves the row due again when
the lease ends, and the beat sweep sends it. The result is recorded under the row lock.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from accounts.errors import NotFound
from accounts.models import DomainEvent, Membership, Tenant
from accounts.permissions import require_vendor_admin
from accounts.queue import enqueue_on_commit
from accounts.services.audit import audit_record
from accounts.tenancy import tenant_context
from integrations import transport
from integrations.catalogue import EVENT_TYPES, PING
from integrations.models import RESPONSE_KEPT, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.services.endpoints import lock_endpoint, webhook_endpoint_auto_disable

DELIVER_TASK = "integrations.tasks.webhook_deliver"
LEASE = timedelta(seconds=30)  # > transport.TIMEOUT_SECONDS: a live send never loses it
# Delay after the n-th failed attempt of a round; with up to +20 % jitter, never less.
# The first retry comes within a minute; the last attempt is more than 72 hours after the first.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    *(timedelta(hours=10),) * 7,
)
JITTER = 0.2
FAILING_LIMIT = timedelta(days=5)
KEPT_FOR = timedelta(days=30)
PENDING, SUCCEEDED, FAILED = (
    WebhookDelivery.Status.PENDING,
    WebhookDelivery.Status.SUCCEEDED,
    WebhookDelivery.Status.FAILED,
)


def message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def message_body(event_type: str, timestamp: datetime, data: dict) -> str:
    return json.dumps(
        {"type": event_type, "timestamp": timestamp.isoformat(), "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )


def retry_delay(round_attempts: int) -> timedelta | None:
    """How long after the `round_attempts`-th failure to try again; None: give up."""
    if round_attempts > len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[round_attempts - 1] * (1 + random.uniform(0, JITTER))  # noqa: S311


def _enqueue(deliveries: list[WebhookDelivery]) -> None:
    for delivery in deliveries:
        enqueue_on_commit(DELIVER_TASK, delivery.tenant_id, delivery.pk)


def webhook_fan_out(
    *, event: DomainEvent, render: Callable[[DomainEvent], dict[str, Any]]
) -> list[WebhookDelivery]:
    """One delivery per active endpoint subscribed to the event's type (idempotent);
    `render(event)` writes the resource out, once, only when some endpoint wants it."""
    event_type = EVENT_TYPES.get(event.name)
    if event_type is None:
        return []
    endpoints = list(
        WebhookEndpoint.objects.for_tenant(event.tenant_id).filter(
            status=WebhookEndpoint.Status.ACTIVE, event_types__contains=[event_type]
        )
    )
    if not endpoints:
        return []
    body = message_body(event_type, event.created_at, render(event))
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                tenant_id=event.tenant_id,
                endpoint=endpoint,
                event=event,
                message_id=message_id(),
                event_type=event_type,
                body=body,
            )
            for endpoint in endpoints
        ],
        ignore_conflicts=True,
    )
    created = list(WebhookDelivery.objects.filter(tenant_id=event.tenant_id, event=event))
    _enqueue(created)
    return created


@transaction.atomic
def webhook_endpoint_ping(
    *, tenant: Tenant, actor: Membership, endpoint_id: int
) -> WebhookDelivery:
    """A test message to one endpoint (active or not: an admin checks it before enabling)."""
    require_vendor_admin(actor)
    endpoint = lock_endpoint(tenant=tenant, endpoint_id=endpoint_id)
    now = timezone.now()
    data = {"endpoint_id": endpoint.pk, "message": "Test message from PRM."}
    delivery = WebhookDelivery.objects.create(
        tenant=tenant,
        endpoint=endpoint,
        message_id=message_id(),
        event_type=PING,
        body=message_body(PING, now, data),
    )
    _enqueue([delivery])
    return delivery


# --- Sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    message_id: str
    url: str
    body: str
    secrets: list[str]


def signature_headers(claim: Claim, now: datetime) -> dict[str, str]:
    signatures = [
        Webhook(secret).sign(claim.message_id, now, claim.body) for secret in claim.secrets
    ]
    return {
        "webhook-id": claim.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def _claim(*, tenant_id: int, delivery_id: int, force_endpoint: bool) -> Claim | None:
    with tenant_context(tenant_id):
        due = WebhookDelivery.objects.filter(
            pk=delivery_id, status=PENDING, next_attempt_at__lte=timezone.now()
        )
        if not force_endpoint:
            due = due.filter(endpoint__status=WebhookEndpoint.Status.ACTIVE)
        delivery = (
            due.select_for_update(skip_locked=True, of=("self",)).select_related("endpoint").first()
        )
        if delivery is None:
            return None
        delivery.next_attempt_at = timezone.now() + LEASE
        delivery.save(update_fields=["next_attempt_at"])
        endpoint = delivery.endpoint
        return Claim(
            delivery.pk,
            delivery.message_id,
            endpoint.url,
            delivery.body,
            endpoint.signing_secrets(),
        )


def webhook_deliver(*, tenant_id: int, delivery_id: int) -> bool | None:
    """Send one due delivery once; True delivered, False failed, None not due or taken."""
    with tenant_context(tenant_id):
        is_ping = WebhookDelivery.objects.filter(pk=delivery_id, event_type=PING).exists()
    claim = _claim(tenant_id=tenant_id, delivery_id=delivery_id, force_endpoint=is_ping)
    if claim is None:
        return None
    attempted_at = timezone.now()
    answer = transport.post(claim.url, claim.body.encode(), signature_headers(claim, attempted_at))
    _record(tenant_id=tenant_id, delivery_id=delivery_id, at=attempted_at, answer=answer)
    return answer.ok


def _record(*, tenant_id: int, delivery_id: int, at: datetime, answer: transport.Answer) -> None:
    with tenant_context(tenant_id):
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .get(pk=delivery_id)
        )
        WebhookAttempt.objects.create(
            tenant_id=tenant_id,
            delivery=delivery,
            attempted_at=at,
            status_code=answer.status_code,
            latency_ms=answer.latency_ms,
            response_body=answer.body[:RESPONSE_KEPT],
            error=answer.error,
        )
        delivery.attempts += 1
        delivery.round_attempts += 1
        delivery.last_attempt_at, delivery.last_status_code = at, answer.status_code
        _settle(delivery, answer, now=timezone.now())
        delivery.save()


def _settle(delivery: WebhookDelivery, answer: transport.Answer, *, now: datetime) -> None:
    """The delivery's next state, and the endpoint's health, after one attempt."""
    endpoint = delivery.endpoint
    if answer.ok:
        delivery.status, delivery.next_attempt_at = SUCCEEDED, None
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return
    delay = retry_delay(delivery.round_attempts)
    if answer.status_code == 410 or delay is None:
        delivery.status, delivery.next_attempt_at = FAILED, None
    else:
        delivery.next_attempt_at = now + delay
    if delivery.event_type == PING:
        return  # a test message never disables an endpoint
    if answer.status_code == 410:
        webhook_endpoint_auto_disable(endpoint, reason="The endpoint answered 410 Gone.")
    elif endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=now)
    elif now - endpoint.failing_since >= FAILING_LIMIT:
        webhook_endpoint_auto_disable(endpoint, reason="Every attempt failed for five days.")


def webhook_due(*, tenant: Tenant | int, limit: int = 500) -> list[int]:
    """Deliveries to active endpoints whose next attempt is due (or whose lease ended)."""
    with tenant_context(tenant):
        return list(
            WebhookDelivery.objects.filter(
                status=PENDING,
                next_attempt_at__lte=timezone.now(),
                endpoint__status=WebhookEndpoint.Status.ACTIVE,
            )
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )


# --- Redelivery and retention -------------------------------------------------------------


def _again(deliveries: list[WebhookDelivery]) -> None:
    now = timezone.now()
    for delivery in deliveries:
        delivery.status, delivery.next_attempt_at, delivery.round_attempts = PENDING, now, 0
    WebhookDelivery.objects.bulk_update(deliveries, ["status", "next_attempt_at", "round_attempts"])
    _enqueue(deliveries)


@transaction.atomic
def webhook_redeliver(*, tenant: Tenant, actor: Membership, delivery_id: int) -> WebhookDelivery:
    """Send one message again (same webhook-id), with a fresh retry schedule."""
    require_vendor_admin(actor)
    delivery = (
        WebhookDelivery.objects.for_tenant(tenant).select_for_update().filter(pk=delivery_id)
    ).first()
    if delivery is None:
        raise NotFound()
    _again([delivery])
    audit_record(tenant=tenant, actor=actor.user, verb="webhook_redelivered", subject=delivery)
    return delivery


@transaction.atomic
def webhook_redeliver_failed(
    *, tenant: Tenant, actor: Membership, since: datetime, endpoint_id: int | None = None
) -> int:
    """Send again every failed delivery created since `since` (of one endpoint, or all)."""
    require_vendor_admin(actor)
    failed = WebhookDelivery.objects.for_tenant(tenant).filter(status=FAILED, created_at__gte=since)
    if endpoint_id is not None:
        lock_endpoint(tenant=tenant, endpoint_id=endpoint_id)  # 404 outside the tenant
        failed = failed.filter(endpoint_id=endpoint_id)
    deliveries = list(failed.select_for_update(skip_locked=True).order_by("id"))
    _again(deliveries)
    return len(deliveries)


def webhook_attempt_purge(*, tenant: Tenant | int, now: datetime | None = None) -> int:
    """Forget attempts older than 30 days, and finished deliveries left with none."""
    cutoff = (now or timezone.now()) - KEPT_FOR
    with tenant_context(tenant):
        attempts, _ = WebhookAttempt.objects.filter(attempted_at__lt=cutoff).delete()
        WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status=PENDING).filter(
            attempt_log__isnull=True
        ).delete()
    return attempts

"""Webhook deliveries: fan-out from the outbox, sending with retries, redelivery, purge.

A delivery is created by the outbox handler in the transaction that marks the event
delivered to it, so a rolled-back change never reaches an endpoint. Sending claims rows
with FOR UPDATE SKIP LOCKED and moves their `next_attempt_at` a lease ahead before the HTTP
calls (made outside any transaction); a worker killed mid-send leaves the rows due again
when the lease ends, and the beat sweep sends them. Each result is recorded under the row
lock.

Sending claims a batch (at most SEND_BATCH rows), POSTs the batch at once (a thread per
message, no database work in them) and records the answers in one transaction. A fan-out's
messages are sent right after it commits, by the worker that dispatched the event: no task
per delivery, no second trip through the queue. Retries, redeliveries and rows whose lease
ended are drained by the send task (`webhook_send_due`, queued by the sweep and by
redelivery), batch after batch until none is due; senders side by side skip each other's
rows.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
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

DELIVER_TASK = "integrations.tasks.webhook_deliver"  # one message (a test ping)
SEND_TASK = "integrations.tasks.webhook_send"  # drain the tenant's due deliveries
LEASE = timedelta(seconds=30)  # > transport.TIMEOUT_SECONDS: a live send never loses it
SEND_BATCH = 8  # claimed, then POSTed at once (a thread each): a batch lasts ≤ the timeout
DRAIN_SECONDS = 20.0  # a send task claims no new batch after this; its successor goes on
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
    """One send task for the tenant once the transaction commits (it drains them all)."""
    if deliveries:
        enqueue_on_commit(SEND_TASK, deliveries[0].tenant_id)


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
    ids = [delivery.pk for delivery in created]
    transaction.on_commit(
        partial(webhook_send_now, tenant_id=event.tenant_id, delivery_ids=ids), robust=True
    )
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
    enqueue_on_commit(DELIVER_TASK, tenant.pk, delivery.pk)  # sent even to a paused endpoint
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


def _due() -> Any:
    return WebhookDelivery.objects.filter(status=PENDING, next_attempt_at__lte=timezone.now())


def _claim(*, tenant_id: int, due: Any, limit: int) -> list[Claim]:
    """Lock up to `limit` due rows others have not locked, and lease them (one statement
    each way); the rows stay pending, so a send that never records leaves them due again."""
    with tenant_context(tenant_id):
        deliveries = list(
            due.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .order_by("next_attempt_at", "id")[:limit]
        )
        if not deliveries:
            return []
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(
            next_attempt_at=timezone.now() + LEASE
        )
    return [_claim_of(d) for d in deliveries]


def _claim_of(delivery: WebhookDelivery) -> Claim:
    endpoint = delivery.endpoint
    return Claim(
        delivery.pk, delivery.message_id, endpoint.url, delivery.body, endpoint.signing_secrets()
    )


@dataclass(frozen=True)
class Sent:
    claim: Claim
    at: datetime
    answer: transport.Answer


def _post(claim: Claim) -> Sent:
    at = timezone.now()
    answer = transport.post(claim.url, claim.body.encode(), signature_headers(claim, at))
    return Sent(claim, at, answer)


def _send(claims: list[Claim]) -> Iterable[Sent]:
    """POST every claimed message at once, a thread each (no database work in them)."""
    if len(claims) == 1:
        return [_post(claims[0])]
    with ThreadPoolExecutor(max_workers=len(claims), thread_name_prefix="webhook") as pool:
        return list(pool.map(_post, claims))


def _send_and_record(tenant_id: int, claims: list[Claim]) -> list[bool]:
    sent = list(_send(claims))
    _record(tenant_id=tenant_id, sent=sent)
    return [one.answer.ok for one in sent]


def webhook_deliver(*, tenant_id: int, delivery_id: int) -> bool | None:
    """Send one due delivery once (a test ping even to a paused endpoint); True delivered,
    False failed, None not due or taken."""
    due = _due().filter(Q(event_type=PING) | Q(endpoint__status=WebhookEndpoint.Status.ACTIVE))
    claims = _claim(tenant_id=tenant_id, due=due.filter(pk=delivery_id), limit=1)
    return _send_and_record(tenant_id, claims)[0] if claims else None


def webhook_send_now(*, tenant_id: int, delivery_ids: list[int]) -> int:
    """Send a fan-out's deliveries right after it commits, in the worker that made them (no
    second trip through the queue), a batch at a time. A row another sender holds, or one
    left unsent because this worker died, is due again when its lease ends: the sweep's."""
    due = _due().filter(pk__in=delivery_ids, endpoint__status=WebhookEndpoint.Status.ACTIVE)
    sent = 0
    while sent < len(delivery_ids):
        claims = _claim(tenant_id=tenant_id, due=due, limit=SEND_BATCH)
        sent += len(_send_and_record(tenant_id, claims)) if claims else 0
        if len(claims) < SEND_BATCH:  # none left that this worker may take
            break
    return sent


@dataclass(frozen=True)
class Drained:
    sent: int
    more: bool  # stopped for time with deliveries perhaps still due


def webhook_send_due(
    *, tenant_id: int, batch: int = SEND_BATCH, seconds: float = DRAIN_SECONDS
) -> Drained:
    """Send the tenant's due deliveries to active endpoints, a batch at a time, until none
    is left to claim or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    sent = 0
    due = _due().filter(endpoint__status=WebhookEndpoint.Status.ACTIVE)
    while time.monotonic() < deadline:
        claims = _claim(tenant_id=tenant_id, due=due, limit=batch)
        sent += len(_send_and_record(tenant_id, claims)) if claims else 0
        if len(claims) < batch:  # none left that this task may take
            return Drained(sent, more=False)
    return Drained(sent, more=True)


RECORDED_FIELDS = (
    "attempts",
    "round_attempts",
    "last_attempt_at",
    "last_status_code",
    "status",
    "next_attempt_at",
)


def _record(*, tenant_id: int, sent: list[Sent]) -> None:
    """Log the attempts and settle their deliveries: one transaction for the batch, the
    rows locked in id order; deliveries of one endpoint share its row (one disable)."""
    by_id = {one.claim.delivery_id: one for one in sent}
    with tenant_context(tenant_id):
        deliveries = list(
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk__in=by_id)
            .order_by("id")
        )
        endpoints = {d.endpoint_id: d.endpoint for d in deliveries}
        WebhookAttempt.objects.bulk_create([_attempt(d, by_id[d.pk]) for d in deliveries])
        now = timezone.now()
        for delivery in deliveries:
            one = by_id[delivery.pk]
            delivery.endpoint = endpoints[delivery.endpoint_id]
            delivery.attempts += 1
            delivery.round_attempts += 1
            delivery.last_attempt_at, delivery.last_status_code = one.at, one.answer.status_code
            _settle(delivery, one.answer, now=now)
        WebhookDelivery.objects.bulk_update(deliveries, RECORDED_FIELDS)


def _attempt(delivery: WebhookDelivery, one: Sent) -> WebhookAttempt:
    return WebhookAttempt(
        tenant_id=delivery.tenant_id,
        delivery=delivery,
        attempted_at=one.at,
        status_code=one.answer.status_code,
        latency_ms=one.answer.latency_ms,
        response_body=one.answer.body[:RESPONSE_KEPT],
        error=one.answer.error,
    )


def _settle(delivery: WebhookDelivery, answer: transport.Answer, *, now: datetime) -> None:
    """The delivery's next state, and the endpoint's health, after one attempt."""
    endpoint = delivery.endpoint
    if answer.ok:
        delivery.status, delivery.next_attempt_at = SUCCEEDED, None
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            endpoint.failing_since = None
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
        endpoint.failing_since = now
    elif now - endpoint.failing_since >= FAILING_LIMIT:
        webhook_endpoint_auto_disable(endpoint, reason="Every attempt failed for five days.")


def webhook_due(*, tenant: Tenant | int, limit: int = 500) -> list[int]:
    """Deliveries to active endpoints whose next attempt is due (or whose lease ended)."""
    with tenant_context(tenant):
        return list(
            _due()
            .filter(endpoint__status=WebhookEndpoint.Status.ACTIVE)
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

"""Outbound webhooks (Standard Webhooks v1): endpoints, one delivery per (event, endpoint),
and every attempt at sending it."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import DomainEvent
from accounts.tenancy import TenantScopedModel

URL_MAX = 2000
DESCRIPTION_MAX = 500
RESPONSE_KEPT = 2048  # the first 2 KB of each answer is logged


class WebhookEndpoint(TenantScopedModel):
    """A URL a vendor admin registered, the event types it receives and its signing secret.

    After a rotation the previous secret still signs (beside the new one) until
    `previous_secret_expires_at`, so receivers can switch without missing a message.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"

    url = models.URLField(max_length=URL_MAX)
    event_types = ArrayField(models.CharField(max_length=64))
    description = models.CharField(max_length=DESCRIPTION_MAX, blank=True)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    disabled_reason = models.CharField(max_length=200, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["tenant", "status"])]

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self) -> list[str]:
        secrets = [self.secret]
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and expires > timezone.now():
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(TenantScopedModel):
    """One message (one `webhook-id`) to one endpoint, retried until it succeeds or gives up.

    `body` is the exact JSON sent on every attempt. While a worker sends, `next_attempt_at`
    holds a short lease: a worker killed mid-send leaves the row due again when it expires.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        DomainEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=64)
    body = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    round_attempts = models.PositiveIntegerField(default=0)  # since creation or redelivery
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "endpoint", "event"],
                name="webhookdelivery_once_per_event",
                condition=Q(event__isnull=False),
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["tenant", "next_attempt_at"],
                name="webhookdelivery_due",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["tenant", "endpoint", "-id"], name="webhookdelivery_endpoint"),
            models.Index(fields=["tenant", "status", "-id"], name="webhookdelivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id}: {self.status}"


class WebhookAttempt(TenantScopedModel):
    """One HTTP request of a delivery: what came back and how long it took (kept 30 days)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["tenant", "delivery", "-attempted_at"]),
            models.Index(fields=["tenant", "attempted_at"], name="webhookattempt_age"),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.attempted_at}: {self.status_code or self.error}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class FeedCounter(TenantScopedModel):
    """The last change-feed sequence number of a tenant. Its row is locked from the moment a
    number is taken until that entry commits, so numbers are gapless and commit in order."""

    last = models.BigIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant"], name="feedcounter_one_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.last}"


class FeedEntry(TenantScopedModel):
    """One event of the tenant's change feed: `seq` is gapless per tenant, in commit order."""

    seq = models.BigIntegerField()
    event = models.ForeignKey(
        DomainEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    event_type = models.CharField(max_length=64)
    timestamp = models.DateTimeField()
    data = models.JSONField(default=dict)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "seq"], name="feedentry_seq"),
            models.UniqueConstraint(
                fields=["tenant", "event"],
                name="feedentry_once_per_event",
                condition=Q(event__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}#{self.seq} {self.event_type}"


IDEMPOTENCY_KEY_MAX = 255


class IdempotencyKey(TenantScopedModel):
    """The first answer to a write sent with an `Idempotency-Key` (IETF draft), kept 24 h
    per tenant and membership, and what identifies its request (method, path and body
    hash). Written in the request's own transaction, so it exists exactly when the work
    committed; the unique constraint stops a second request with the key from committing
    too (integrations/services/idempotency.py)."""

    membership = models.ForeignKey(
        "accounts.Membership", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=IDEMPOTENCY_KEY_MAX)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "membership", "key"], name="idempotencykey_once"
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["tenant", "expires_at"], name="idempotencykey_expiry")
        ]

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.key}"

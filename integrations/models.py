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


# --- Two-way CRM sync ---------------------------------------------------------------------------


class FieldOwner(models.TextChoices):
    """Which side's change of a mapped field wins."""

    PRM = "prm", "PRM (pushed; CRM edits are overwritten)"
    CRM = "crm", "CRM (pulled; PRM edits are overwritten)"
    FIRST_SYNC = "first_sync", "First sync only (set when the CRM record is created)"
    BOTH = "both", "Both (a change on both sides is a conflict to resolve)"


class CrmConnection(TenantScopedModel):
    """A tenant's link to its CRM: encrypted credentials, the field mapping (each mapped
    field with its owner), the stage mapping, and where the last poll stopped."""

    class System(models.TextChoices):
        SALESFORCE = "salesforce", "Salesforce"
        HUBSPOT = "hubspot", "HubSpot"

    system = models.CharField(max_length=20, choices=System.choices)
    is_active = models.BooleanField(default=True)
    credentials = models.TextField(blank=True, help_text="Fernet token; never shown back.")
    # [{"prm": "amount", "crm": "Amount", "owner": "both"}, ...]
    field_mapping = models.JSONField(default=list)
    # {"Prospecting": <stage id>, ...}: CRM stage name → our stage
    stage_mapping = models.JSONField(default=dict)
    external_id_field = models.CharField(max_length=80, default="PRM_Id__c")
    lookback_seconds = models.PositiveIntegerField(default=300)
    acting_user = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True
    )
    polled_until = models.DateTimeField(null=True, blank=True)
    # Where the last poll of activities (Salesforce Tasks, HubSpot notes) stopped: their
    # modstamps move independently of the deals'.
    activities_polled_until = models.DateTimeField(null=True, blank=True)
    # Held by the worker polling this connection (no transaction is open during the CRM's
    # HTTP calls, so no row lock can say so); a dead worker's lease simply ends.
    poll_lease_until = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "system"], name="crmconnection_one_per_system"
            )
        ]

    def __str__(self) -> str:
        return self.get_system_display()


class CrmUserMapping(TenantScopedModel):
    """A CRM user (Salesforce User, HubSpot owner) and the member of ours they are: matched
    by e-mail automatically (an active member of this tenant with the same address), or set
    by a vendor admin on the settings page (then never re-matched). No member: the CRM
    owner of a deal is a conflict on the status page, never dropped nor guessed."""

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="+")
    crm_user_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=254, blank=True)
    membership = models.ForeignKey(
        "accounts.Membership", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    set_by_admin = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "connection", "crm_user_id"], name="crmusermapping_one_per_user"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.crm_user_id


class CrmRecordState(TenantScopedModel):
    """What both sides agreed on at the last sync of one deal (the base of the three-way
    comparison), and the CRM's modstamp of that moment (older change events are ignored)."""

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="+")
    opportunity = models.ForeignKey(
        "pipeline.Opportunity", on_delete=models.CASCADE, related_name="+"
    )
    crm_id = models.CharField(max_length=255, blank=True)
    base = models.JSONField(default=dict)
    crm_modstamp = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)
    # The CRM record was deleted (archived): the deal is kept here, unlinked, and never
    # pushed again by itself (no push, poll or sweep recreates what the CRM deleted).
    unlinked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "connection", "opportunity"], name="crmrecordstate_one_per_deal"
            )
        ]


class SyncConflict(TenantScopedModel):
    """A change that sync did not apply on its own: a field owned by both sides changed on
    both since the last sync, or a CRM stage move our stage rules refuse. A vendor admin
    keeps ours, takes theirs or enters a value."""

    class Kind(models.TextChoices):
        BOTH_CHANGED = "both_changed", "Changed on both sides"
        REFUSED = "refused", "Refused by our rules"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Resolution(models.TextChoices):
        KEEP_OURS = "keep_ours", "Kept ours"
        TAKE_THEIRS = "take_theirs", "Took theirs"
        EDIT = "edit", "Edited"

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="+")
    opportunity = models.ForeignKey(
        "pipeline.Opportunity", on_delete=models.CASCADE, related_name="+"
    )
    field = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    ours = models.CharField(max_length=500, blank=True)
    theirs = models.CharField(max_length=500, blank=True)
    base = models.CharField(max_length=500, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(max_length=12, choices=Resolution.choices, blank=True)
    resolved_value = models.CharField(max_length=500, blank=True)
    resolved_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "connection", "opportunity", "field"],
                condition=Q(status="open"),
                name="syncconflict_one_open_per_field",
            )
        ]
        indexes: ClassVar = [models.Index(fields=["tenant", "status", "-created_at"])]


class SyncError(TenantScopedModel):
    """A sync step that failed for good (after its retries): shown on the status page with
    the record it concerns and a retry button."""

    class Direction(models.TextChoices):
        PUSH = "push", "PRM → CRM"
        PULL = "pull", "CRM → PRM"

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="+")
    opportunity = models.ForeignKey(
        "pipeline.Opportunity", on_delete=models.CASCADE, related_name="+", null=True
    )
    direction = models.CharField(max_length=4, choices=Direction.choices)
    crm_id = models.CharField(max_length=255, blank=True)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    retried_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["tenant", "retried_at", "-created_at"])]


class CrmActivityLink(TenantScopedModel):
    """A CRM activity (Salesforce Task, HubSpot note) already brought into a deal's activity
    log: one per (connection, CRM activity id), so reading the same activity again (the
    look-back window, a replay, a duplicate delivery) adds nothing. `modstamp` is the newest
    CRM change of it seen; an edit in the CRM changes nothing already shown here."""

    connection = models.ForeignKey(CrmConnection, on_delete=models.CASCADE, related_name="+")
    crm_id = models.CharField(max_length=255)
    opportunity = models.ForeignKey(
        "pipeline.Opportunity", on_delete=models.CASCADE, related_name="+"
    )
    # The activity written (none when the CRM activity was empty); an activity deleted here
    # stays seen, not brought back.
    activity = models.ForeignKey(
        "pipeline.Activity", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    modstamp = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["connection", "crm_id"], name="crmactivitylink_once_per_activity"
            )
        ]

    def __str__(self) -> str:
        return self.crm_id

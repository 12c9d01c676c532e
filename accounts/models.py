"""People, tenants and roles; the audit log, notifications, API tokens and the event outbox."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.tenancy import (
    TENANT_MATCH,
    TOKEN_SETTING,
    USER_SETTING,
    TenantScopedModel,
    current_setting_sql,
)

NAME_MAX = 200


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Logs in with an e-mail address; belongs to tenants through memberships."""

    email = models.EmailField(unique=True, max_length=254)
    full_name = models.CharField(max_length=NAME_MAX, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Tenant(models.Model):
    """A vendor: everything else in the application belongs to exactly one tenant."""

    name = models.CharField(max_length=NAME_MAX)
    slug = models.SlugField(max_length=50, unique=True)
    currency = models.CharField(max_length=3, default="USD")
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="The month the fiscal year starts in (1 = January); quarters follow it.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    VENDOR_ADMIN = "vendor_admin", "Vendor admin"
    CHANNEL_MANAGER = "channel_manager", "Channel manager"
    PARTNER_ADMIN = "partner_admin", "Partner admin"
    PARTNER_REP = "partner_rep", "Partner rep"


VENDOR_ROLES = frozenset({Role.VENDOR_ADMIN, Role.CHANNEL_MANAGER})
PARTNER_ROLES = frozenset({Role.PARTNER_ADMIN, Role.PARTNER_REP})


class Membership(TenantScopedModel):
    """A user's role in one tenant; partner roles name the partner organization."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    partner = models.ForeignKey(
        "partners.PartnerOrganization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    partner_scope_field = "partner_id"
    # A user may list their own memberships in every tenant (to switch between them).
    rls_using = f"{TENANT_MATCH} OR user_id = {current_setting_sql(USER_SETTING)}"

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_one_per_tenant"),
            models.CheckConstraint(
                name="membership_partner_matches_role",
                condition=(
                    # sorted: a frozenset's order changes between processes
                    Q(role__in=sorted(PARTNER_ROLES), partner__isnull=False)
                    | Q(role__in=sorted(VENDOR_ROLES), partner__isnull=True)
                ),
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["tenant", "partner", "role"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"

    @property
    def is_partner(self) -> bool:
        return self.role in PARTNER_ROLES

    @property
    def is_vendor(self) -> bool:
        return self.role in VENDOR_ROLES

    @property
    def portal(self) -> str:
        return "partner" if self.is_partner else "vendor"


class ApiToken(TenantScopedModel):
    """An API credential of one membership. Only a SHA-256 of the secret is stored."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    # The authenticator finds a token by its hash before it knows the tenant.
    rls_using = f"{TENANT_MATCH} OR key_hash = {current_setting_sql(TOKEN_SETTING, 'text')}"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEntry(TenantScopedModel):
    """Who did what to which record, with the record before and after. Written by services."""

    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    verb = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    subject_repr = models.CharField(max_length=255)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["tenant", "-created_at", "-id"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.verb} {self.subject_repr}"


class Notification(TenantScopedModel):
    """An in-app notification; e-mailed by the worker when `email` is set."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    verb = models.CharField(max_length=64)
    message = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    email = models.BooleanField(default=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["tenant", "recipient", "read_at"]),
            models.Index(fields=["tenant", "recipient", "-created_at"]),
            models.Index(
                fields=["tenant", "created_at"],
                name="notification_email_due",
                condition=Q(email=True, emailed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.message


class DomainEvent(TenantScopedModel):
    """Outbox: an event recorded in the same transaction as the change it describes."""

    name = models.CharField(max_length=100)
    subject_type = models.CharField(max_length=64, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["tenant", "created_at"],
                name="domainevent_pending",
                condition=Q(dispatched_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class EventDelivery(TenantScopedModel):
    """One event delivered to one handler: delivered once, retried with backoff on failure."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    event = models.ForeignKey(DomainEvent, on_delete=models.CASCADE, related_name="deliveries")
    handler = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["event", "handler"], name="eventdelivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.handler}: {self.status}"

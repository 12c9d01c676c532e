"""Partner organizations, their tiers, and invitations of people into a tenant."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_countries.fields import CountryField
from django_fsm import FSMField, FSMModelMixin, transition

from accounts.models import NAME_MAX, Role, User
from accounts.tenancy import TenantScopedModel


class Region(models.TextChoices):
    NORTH_AMERICA = "NA", "North America"
    LATIN_AMERICA = "LATAM", "Latin America"
    EMEA = "EMEA", "Europe, Middle East & Africa"
    APAC = "APAC", "Asia Pacific"


LEAD_CAPACITY_DEFAULT = 10
LEAD_CAPACITY_MAX = 1000


class PartnerTier(TenantScopedModel):
    """A partner program level (e.g. Registered, Silver, Gold); a higher rank is better."""

    name = models.CharField(max_length=100)
    rank = models.PositiveSmallIntegerField()
    auto_approval_limit = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Registrations up to this amount are approved automatically when screening "
        "finds nothing; empty: every registration is reviewed.",
    )
    protection_days = models.PositiveSmallIntegerField(
        default=90, help_text="How long an approved registration is protected."
    )
    lead_capacity = models.PositiveSmallIntegerField(
        default=LEAD_CAPACITY_DEFAULT,
        help_text="Most open lead offers and accepted, unconverted leads a partner of this "
        "tier holds at once (a partner may have its own).",
    )
    lead_acceptance_hours = models.PositiveSmallIntegerField(
        default=48, help_text="Business hours a partner of this tier has to accept a lead offer."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-rank", "name"]
        constraints: ClassVar = [
            models.UniqueConstraint("tenant", Lower("name"), name="partnertier_name_unique"),
            models.CheckConstraint(
                condition=Q(auto_approval_limit__gte=0) | Q(auto_approval_limit__isnull=True),
                name="partnertier_auto_approval_limit",
            ),
            models.CheckConstraint(
                condition=Q(protection_days__gte=1, protection_days__lte=730),
                name="partnertier_protection_days",
            ),
            models.CheckConstraint(
                condition=Q(lead_acceptance_hours__gte=1, lead_acceptance_hours__lte=720),
                name="partnertier_lead_acceptance_hours",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerOrganization(FSMModelMixin, TenantScopedModel):
    """A reseller, distributor or MSP selling the tenant's products."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=NAME_MAX)
    tier = models.ForeignKey(PartnerTier, on_delete=models.PROTECT, related_name="partners")
    country = CountryField()
    region = models.CharField(max_length=8, choices=Region.choices)
    status = FSMField(default=Status.ACTIVE, choices=Status.choices, protected=True)
    channel_manager = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="managed_partners"
    )
    created_at = models.DateTimeField(default=timezone.now)
    suspended_at = models.DateTimeField(null=True, blank=True)
    territories = ArrayField(
        models.CharField(max_length=8),
        default=list,
        blank=True,
        help_text="Countries (ISO codes) and regions (NA, LATAM, EMEA, APAC) it serves.",
    )
    specializations = ArrayField(
        models.SlugField(max_length=40),
        default=list,
        blank=True,
        help_text="Codes of the tenant's product lines it specializes in.",
    )
    lead_capacity = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Most open lead offers and accepted, unconverted leads at once; empty: "
        "its tier's.",
    )

    partner_scope_field = "id"

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint("tenant", Lower("name"), name="partnerorg_name_unique"),
        ]
        indexes: ClassVar = [models.Index(fields=["tenant", "status", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def effective_lead_capacity(self) -> int:
        if self.lead_capacity is not None:
            return self.lead_capacity
        return self.tier.lead_capacity

    @transition(field=status, source=Status.ACTIVE, target=Status.SUSPENDED)
    def suspend(self) -> None:
        self.suspended_at = timezone.now()

    @transition(field=status, source=Status.SUSPENDED, target=Status.ACTIVE)
    def reactivate(self) -> None:
        self.suspended_at = None


class Certification(TenantScopedModel):
    """A partner's certification in one of the tenant's product lines, valid until a date."""

    partner = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, related_name="certifications"
    )
    product_line = models.SlugField(max_length=40, help_text="The product line's code.")
    name = models.CharField(max_length=NAME_MAX)
    expires_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    partner_scope_field = "partner_id"

    class Meta:
        ordering: ClassVar = ["product_line", "expires_on", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "partner", "product_line", "name"],
                name="certification_unique_per_partner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.product_line}, until {self.expires_on})"

    def is_valid_on(self, day: date) -> bool:
        return self.expires_on >= day


class Invitation(TenantScopedModel):
    """An e-mailed, signed, expiring, single-use invitation to join a tenant in a role."""

    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=32, choices=Role.choices)
    partner = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations",
    )
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    nonce = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    partner_scope_field = "partner_id"

    class Meta:
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "tenant",
                Lower("email"),
                name="invitation_one_pending_per_email",
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

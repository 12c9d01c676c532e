"""Commissions: effective-dated plan versions, and the append-only ledger they produce.

A plan version applies from its start date and is never edited once in force; entries
are never edited either (a reopened deal gets a clawback entry that nets its accrual).
Money is Decimal in the tenant's currency, rounded half-even to cents once, at the entry.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from accounts.models import User
from accounts.tenancy import TenantScopedModel


def percent(**options: Any) -> models.DecimalField:
    """A percent with four decimals (12.5000)."""
    return models.DecimalField(max_digits=7, decimal_places=4, **options)


def factor(**options: Any) -> models.DecimalField:
    """A multiplier (1.0000, 0.5000)."""
    return models.DecimalField(max_digits=6, decimal_places=4, **options)


def money(**options: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=14, decimal_places=2, **options)


class PlanVersion(TenantScopedModel):
    """One version of the tenant's commission plan, in force from `effective_from` until
    the next version starts."""

    name = models.CharField(max_length=100)
    effective_from = models.DateField()
    registered_multiplier = factor(default=1)
    unregistered_multiplier = factor(default=Decimal("0.5"))
    cap_per_deal = money(null=True, blank=True)
    accelerator_threshold = money(
        null=True,
        blank=True,
        help_text="A partner's won amount in the quarter above which the accelerator applies.",
    )
    accelerator_rate = percent(null=True, blank=True, help_text="Extra percent of the deal amount.")
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-effective_from"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "effective_from"], name="planversion_one_per_start"
            ),
            models.CheckConstraint(
                condition=Q(registered_multiplier__gte=0, unregistered_multiplier__gte=0),
                name="planversion_multipliers",
            ),
            models.CheckConstraint(
                condition=Q(cap_per_deal__isnull=True) | Q(cap_per_deal__gte=0),
                name="planversion_cap",
            ),
            models.CheckConstraint(
                condition=(
                    Q(accelerator_rate__isnull=True, accelerator_threshold__isnull=True)
                    | Q(accelerator_rate__gte=0, accelerator_threshold__gte=0)
                ),
                name="planversion_accelerator",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (from {self.effective_from})"


class TierRate(TenantScopedModel):
    """The base rate (percent of the deal amount) for one partner tier in one version."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="tier_rates")
    tier = models.ForeignKey("partners.PartnerTier", on_delete=models.CASCADE, related_name="+")
    rate = percent(validators=[MinValueValidator(0), MaxValueValidator(100)])

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["version", "tier"], name="tierrate_once"),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=100), name="tierrate_rate"),
        ]

    def __str__(self) -> str:
        return f"{self.tier_id}: {self.rate} %"


class ProductBonus(TenantScopedModel):
    """An extra percent of the deal amount for a registered deal's product line."""

    version = models.ForeignKey(
        PlanVersion, on_delete=models.CASCADE, related_name="product_bonuses"
    )
    product_line = models.ForeignKey(
        "deals.ProductLine", on_delete=models.CASCADE, related_name="+"
    )
    bonus = percent(validators=[MinValueValidator(0), MaxValueValidator(100)])

    class Meta:
        verbose_name_plural = "product bonuses"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["version", "product_line"], name="productbonus_once"),
            models.CheckConstraint(
                condition=Q(bonus__gte=0, bonus__lte=100), name="productbonus_bonus"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_line_id}: +{self.bonus} %"


class PayoutBatch(TenantScopedModel):
    """Approved entries paid together, under the vendor's payment reference."""

    reference = models.CharField(max_length=100)
    paid_on = models.DateField()
    total = money()
    currency = models.CharField(max_length=3)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-paid_on", "-id"]
        verbose_name_plural = "payout batches"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "reference"], name="payoutbatch_reference"),
        ]

    def __str__(self) -> str:
        return f"Payout {self.reference}"


class CommissionEntry(FSMModelMixin, TenantScopedModel):
    """One line of the ledger: an accrual for a won deal, or the clawback that nets it."""

    class Kind(models.TextChoices):
        ACCRUAL = "accrual", "Accrual"
        CLAWBACK = "clawback", "Clawback"

    class Status(models.TextChoices):
        ACCRUED = "accrued", "Accrued"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"

    opportunity = models.ForeignKey(
        "pipeline.Opportunity", on_delete=models.PROTECT, related_name="commission_entries"
    )
    partner = models.ForeignKey(
        "partners.PartnerOrganization", on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = money()
    currency = models.CharField(max_length=3)
    breakdown = models.JSONField(default=dict)
    version = models.ForeignKey(
        PlanVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The domain event that produced the entry: a second delivery cannot add another.
    source_event = models.ForeignKey(
        "accounts.DomainEvent", on_delete=models.PROTECT, related_name="+"
    )
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="clawback"
    )
    status = FSMField(default=Status.ACCRUED, choices=Status.choices, protected=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payout = models.ForeignKey(
        PayoutBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    closed_on = models.DateField(help_text="The deal's close date (accrual) or reopen day.")
    created_at = models.DateTimeField(default=timezone.now)

    partner_scope_field = "partner_id"
    owner_scope_field = "owner_id"

    class Meta:
        verbose_name_plural = "commission entries"
        indexes: ClassVar = [
            models.Index(fields=["tenant", "partner", "created_at"], name="commission_partner"),
            models.Index(fields=["tenant", "status", "-id"], name="commission_status"),
            models.Index(fields=["tenant", "opportunity"], name="commission_opportunity"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "source_event"], name="commission_once_per_event"
            ),
            models.CheckConstraint(
                condition=(Q(kind="accrual", amount__gte=0, reverses__isnull=True))
                | Q(kind="clawback", amount__lte=0, reverses__isnull=False),
                name="commission_kind_sign",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(payout__isnull=False),
                name="commission_paid_in_a_batch",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency}"

    @transition(field=status, source=Status.ACCRUED, target=Status.APPROVED)
    def approve(self, *, by: User) -> None:
        self.approved_at, self.approved_by = timezone.now(), by

    @transition(field=status, source=Status.APPROVED, target=Status.PAID)
    def pay(self, *, batch: PayoutBatch) -> None:
        self.payout = batch


class UnattributedWin(TenantScopedModel):
    """A won partner deal that no plan version covered on its close date.

    Recorded by attribution instead of being skipped; resolved when a version covering the
    date appears (`attributed_entry` set: the accrual written then, through the same path)
    or when the deal is reopened first (nothing to attribute any more).
    """

    opportunity = models.ForeignKey(
        "pipeline.Opportunity", on_delete=models.CASCADE, related_name="+"
    )
    partner = models.ForeignKey(
        "partners.PartnerOrganization", on_delete=models.CASCADE, related_name="+"
    )
    source_event = models.ForeignKey(
        "accounts.DomainEvent", on_delete=models.CASCADE, related_name="+"
    )
    closed_on = models.DateField()
    amount = money()
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    attributed_entry = models.OneToOneField(
        CommissionEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["closed_on", "id"]
        indexes: ClassVar = [
            models.Index(
                fields=["tenant", "closed_on"],
                name="unattributed_waiting",
                condition=Q(resolved_at__isnull=True),
            ),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "source_event"], name="unattributed_once_per_event"
            ),
        ]

    def __str__(self) -> str:
        return self.reason

    @property
    def reason(self) -> str:
        return f"Not attributed: no plan in force on {self.closed_on.isoformat()}"

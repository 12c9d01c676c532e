"""What the forecast stores: targets per period, channel managers' adjustments of a
rollup, and the weekly snapshots that forecast accuracy is measured against.

Periods are stored by their label (`2027-Q1`, `2027-03`, see analytics/periods.py): a
label names the same dates for as long as the tenant's fiscal year start is unchanged.
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.tenancy import TenantScopedModel
from partners.models import PartnerOrganization, PartnerTier

PERIOD_MAX = 7  # "2027-Q1", "2027-03"


class Scope(models.TextChoices):
    TENANT = "tenant", "Whole tenant"
    TIER = "tier", "Tier"
    PARTNER = "partner", "Partner"


SCOPE_SHAPE = (
    Q(scope=Scope.TENANT, tier__isnull=True, partner__isnull=True)
    | Q(scope=Scope.TIER, tier__isnull=False, partner__isnull=True)
    | Q(scope=Scope.PARTNER, tier__isnull=True, partner__isnull=False)
)


class ForecastTarget(TenantScopedModel):
    """What the tenant, a tier or a partner should close won in a period."""

    period = models.CharField(max_length=PERIOD_MAX)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    tier = models.ForeignKey(PartnerTier, on_delete=models.CASCADE, null=True, related_name="+")
    partner = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, null=True, related_name="+"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "period", "scope", "tier", "partner"],
                name="forecasttarget_one_per_scope",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=SCOPE_SHAPE, name="forecasttarget_scope_shape"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="forecasttarget_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.scope} target {self.amount}"


class ForecastAdjustment(TenantScopedModel):
    """A channel manager's correction of a partner's or tier's commit figure for a period.

    Append-only: the rollup shows its raw figure and the sum of the adjustments beside it;
    the deals are never touched.
    """

    period = models.CharField(max_length=PERIOD_MAX)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    tier = models.ForeignKey(PartnerTier, on_delete=models.CASCADE, null=True, related_name="+")
    partner = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, null=True, related_name="+"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Signed.")
    note = models.CharField(max_length=1000)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["tenant", "period", "scope"])]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=SCOPE_SHAPE & ~Q(scope=Scope.TENANT),
                name="forecastadjustment_scope_shape",
            ),
            models.CheckConstraint(condition=~Q(note=""), name="forecastadjustment_has_note"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.scope} adjustment {self.amount}"


class ForecastSnapshot(TenantScopedModel):
    """The forecast of a period as it stood in one week, per partner (`partner` empty: the
    tenant's total, direct deals included). Written once per week by the beat job."""

    period = models.CharField(max_length=PERIOD_MAX)
    week = models.DateField(help_text="The Monday of the week the snapshot belongs to.")
    partner = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, null=True, related_name="+"
    )
    closed_won = models.DecimalField(max_digits=16, decimal_places=2)
    commit = models.DecimalField(max_digits=16, decimal_places=2)
    best_case = models.DecimalField(max_digits=16, decimal_places=2)
    pipeline = models.DecimalField(max_digits=16, decimal_places=2)
    weighted = models.DecimalField(max_digits=16, decimal_places=2)
    calibrated_weighted = models.DecimalField(max_digits=16, decimal_places=2)
    target = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "period", "week", "partner"],
                name="forecastsnapshot_once_per_week",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} week of {self.week}"


class DealFact(TenantScopedModel):
    """What the co-sell impact report needs of one deal, kept by the worker
    (analytics/services/deal_facts.py): refreshed on commit of any change to the deal, its
    stage history, co-sell requests or registration, and repaired by an hourly sweep.

    A derived table: every column is recomputed from the pipeline's own rows, never edited.
    """

    opportunity = models.OneToOneField(
        "pipeline.Opportunity", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    partner = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, null=True, related_name="+"
    )
    status = models.CharField(max_length=8)
    closed_on = models.DateField(null=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    cycle_days = models.IntegerField(
        null=True, help_text="Days from the deal's creation to its close date."
    )
    registered_at = models.DateTimeField(
        help_text="The registration's first submission; a deal without one: its creation."
    )
    first_engaged_at = models.DateTimeField(
        null=True, help_text="The first logged co-sell contact of any of its requests."
    )
    helped = models.BooleanField(
        default=False, help_text="Closed, with a first co-sell contact on or before the close."
    )
    help_stage = models.BigIntegerField(
        null=True, help_text="Id of the stage the deal was in at its first engagement (helped)."
    )
    stages_reached = ArrayField(
        models.BigIntegerField(), default=list, help_text="Ids of every stage it was ever in."
    )
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["tenant", "closed_on"],
                condition=Q(closed_on__isnull=False, partner__isnull=False),
                name="dealfact_closed",
            ),
            models.Index(
                fields=["tenant", "first_engaged_at"],
                condition=Q(first_engaged_at__isnull=False, partner__isnull=False),
                name="dealfact_engaged",
            ),
        ]

    def __str__(self) -> str:
        return f"facts of deal {self.opportunity_id}"

"""The pipeline: stages configured per tenant, its rules, and end customers.

Opportunities, their stage history, activities and co-sell requests build on these.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.functions import Lower
from django.utils import timezone
from django_countries.fields import CountryField
from django_fsm import FSMField, FSMModelMixin, transition

from accounts.external_ids import ExternalIdBase, external_id_constraints
from accounts.models import NAME_MAX, User
from accounts.tenancy import TenantScopedModel


class EntryCriterion(models.TextChoices):
    """Opportunity fields a stage can require before a deal may enter it."""

    AMOUNT = "amount", "Amount"
    EXPECTED_CLOSE_DATE = "expected_close_date", "Expected close date"
    BUDGET_CONFIRMED = "budget_confirmed", "Budget confirmed"
    DECISION_MAKER = "decision_maker", "Decision maker identified"
    NEED = "need", "Need described"
    TIMELINE = "timeline", "Timeline known"
    NEXT_STEP = "next_step", "Next step"
    DECISION_MAKER_NAME = "decision_maker_name", "Decision maker's name"
    COMPETITOR = "competitor", "Competitor"
    PURCHASE_ORDER_NUMBER = "purchase_order_number", "Purchase-order number"


class ForecastCategory(models.TextChoices):
    """Where a deal counts in the forecast. Rollups are cumulative as in Salesforce:
    commit includes closed, best case includes commit, pipeline includes best case."""

    PIPELINE = "pipeline", "Pipeline"
    BEST_CASE = "best_case", "Best case"
    COMMIT = "commit", "Commit"
    CLOSED = "closed", "Closed"
    OMITTED = "omitted", "Omitted"


class Stage(TenantScopedModel):
    """One step of a tenant's sales process, in `position` order."""

    class Kind(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField()
    probability = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Win probability in percent, used by the forecast.",
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.OPEN)
    forecast_category = models.CharField(
        max_length=16,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
        help_text="Where the stage's deals count in the forecast unless a deal overrides it.",
    )
    entry_criteria = ArrayField(
        models.CharField(max_length=32, choices=EntryCriterion.choices), default=list, blank=True
    )
    stale_after_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="A deal idle this long in the stage is stale."
    )
    guidance = models.TextField(blank=True, max_length=4000)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["position", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint("tenant", Lower("name"), name="stage_name_unique"),
            models.UniqueConstraint(
                fields=["tenant", "kind"],
                condition=Q(is_active=True, kind__in=["won", "lost"]),
                name="stage_one_active_won_and_lost",
            ),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability"),
        ]
        indexes: ClassVar = [models.Index(fields=["tenant", "is_active", "position"])]

    def __str__(self) -> str:
        return self.name


class PipelineRules(TenantScopedModel):
    """How deals may move between a tenant's stages."""

    allow_skip_forward = models.BooleanField(
        default=True, help_text="Deals may jump ahead over stages."
    )
    allow_backward = models.BooleanField(default=True, help_text="Deals may move back a stage.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "pipeline rules"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant"], name="pipelinerules_one_per_tenant"),
        ]

    def __str__(self) -> str:
        return f"Pipeline rules of tenant {self.tenant_id}"


class LostReason(TenantScopedModel):
    """A tenant's codes for why a deal was lost."""

    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["label"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "code"], name="lostreason_code_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class Customer(TenantScopedModel):
    """An end-customer account, with the normalized keys that screening matches on.

    `name_normalized` and `name_core` come from `pipeline.normalization.normalize_name`,
    `root_domain` from `root_domain()` of the website; only services set them.
    """

    name = models.CharField(max_length=NAME_MAX)
    website = models.CharField(max_length=255, blank=True)
    country = CountryField(blank=True)
    name_normalized = models.CharField(max_length=NAME_MAX)
    name_core = models.CharField(max_length=NAME_MAX)
    root_domain = models.CharField(max_length=253, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    partner_scope_field = None  # customers are shared; partners reach them through deals

    class Meta:
        ordering: ClassVar = ["name"]
        indexes: ClassVar = [
            models.Index(
                fields=["tenant", "root_domain"],
                name="customer_root_domain",
                condition=~Q(root_domain=""),
            ),
            models.Index(fields=["tenant", "name_normalized"], name="customer_name_normalized"),
            # btree_gin lets the tenant column share the trigram index (DESIGN "Known traps").
            GinIndex(
                fields=["tenant", "name_core"],
                name="customer_name_core_trgm",
                fastupdate=False,
                opclasses=["int8_ops", "gin_trgm_ops"],
            ),
            GinIndex(
                fields=["tenant", "name_normalized"],
                name="customer_name_trgm",
                opclasses=["int8_ops", "gin_trgm_ops"],
            ),
            # The same without the tenant column, for screening's name lookup: in a tenant of
            # 200,000 customers, matching the tenant key cost 6 ms of the 6.4 (bench: 0.3 ms).
            # Both take each write at once (fastupdate off, pipeline 0008): a pending list of
            # unmerged entries made every screening lookup scan it (0.2 → 5 ms at 12,000).
            GinIndex(
                fields=["name_core"],
                name="customer_name_core_trgm_only",
                fastupdate=False,
                opclasses=["gin_trgm_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProtectedForeignKeyAttribute(ForeignKeyDeferredAttribute):
    """The `<name>_id` attribute of a ProtectedForeignKey: set once when the row loads,
    then only inside the owning model's transition (`allow_change`)."""

    def __set__(self, instance: models.Model, value: object) -> None:
        attname = self.field.attname
        if (
            attname in instance.__dict__
            and instance.__dict__[attname] != value
            and not getattr(instance, "_protected_change_allowed", False)
        ):
            raise AttributeError(f"Direct {self.field.name} modification is not allowed")
        super().__set__(instance, value)


class ProtectedForeignKey(models.ForeignKey):
    """A foreign key that only a transition may change (like django-fsm's protected=True)."""

    descriptor_class = ProtectedForeignKeyAttribute


class Opportunity(FSMModelMixin, TenantScopedModel):
    """A deal: a partner's (or, with no partner, the vendor's direct) sale to a customer.

    Its stage and status change only through the transitions below, which the services
    in pipeline/services/opportunities.py drive; each move is recorded as a StageMove.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    partner = models.ForeignKey(
        "partners.PartnerOrganization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="opportunities")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="opportunities")
    name = models.CharField(max_length=NAME_MAX)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3)
    expected_close_date = models.DateField(null=True, blank=True)
    stage = ProtectedForeignKey(Stage, on_delete=models.PROTECT, related_name="opportunities")
    forecast_category_override = models.CharField(
        max_length=16,
        choices=[c for c in ForecastCategory.choices if c[0] != ForecastCategory.CLOSED],
        blank=True,
        help_text="The owner's own forecast category; blank follows the stage's.",
    )
    status = FSMField(default=Status.OPEN, choices=Status.choices, protected=True)
    budget_confirmed = models.BooleanField(default=False)
    decision_maker = models.BooleanField(default=False, help_text="Decision maker identified.")
    need = models.TextField(blank=True, max_length=2000)
    timeline = models.CharField(max_length=200, blank=True)
    decision_maker_name = models.CharField(max_length=NAME_MAX, blank=True)
    next_step = models.CharField(max_length=500, blank=True)
    next_step_date = models.DateField(null=True, blank=True)
    competitor = models.CharField(max_length=NAME_MAX, blank=True)
    purchase_order_number = models.CharField(max_length=100, blank=True)
    lost_reason = models.ForeignKey(LostReason, on_delete=models.PROTECT, null=True, blank=True)
    lost_note = models.TextField(blank=True, max_length=2000)
    closed_on = models.DateField(null=True, blank=True)
    close_date_slips = models.PositiveIntegerField(default=0)
    stage_entered_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    partner_scope_field = "partner_id"
    owner_scope_field = "owner_id"

    class Meta:
        verbose_name_plural = "opportunities"
        indexes: ClassVar = [
            # The Changes waterfall: today's state of each changed deal, index-only.
            models.Index(
                fields=["id"],
                include=[
                    "tenant",
                    "partner",
                    "owner",
                    "status",
                    "expected_close_date",
                    "amount",
                    "stage",
                ],
                name="opp_changes_state",
            ),
            models.Index(fields=["tenant", "status", "stage", "-id"], name="opp_status_stage"),
            models.Index(fields=["tenant", "partner", "status", "-id"], name="opp_partner"),
            models.Index(fields=["tenant", "owner", "status", "-id"], name="opp_owner"),
            models.Index(fields=["tenant", "expected_close_date", "-id"], name="opp_close_date"),
            models.Index(fields=["tenant", "customer"], name="opp_customer"),
            # The open pipeline's total (by close date, partner, owner) from the index alone.
            models.Index(
                fields=["tenant", "expected_close_date"],
                include=["amount", "partner", "owner"],
                condition=Q(status="open"),
                name="opp_open_amount",
            ),
            # The forecast's aggregates (analytics/selectors/forecast_groups.py): index-only
            # scans of the period's open deals by expected close date and won deals by
            # close date, with every column they sum and group by.
            models.Index(
                fields=["tenant", "expected_close_date"],
                include=["amount", "partner", "stage", "forecast_category_override", "id"],
                condition=Q(status="open"),
                name="opp_forecast_open",
            ),
            models.Index(
                fields=["tenant", "closed_on"],
                include=["amount", "partner", "id"],
                condition=Q(status="won"),
                name="opp_forecast_won",
            ),
            # Direct deals take their customer's region (the forecast by region).
            models.Index(
                fields=["tenant", "expected_close_date"],
                include=["amount", "stage", "forecast_category_override", "customer", "partner"],
                condition=Q(status="open", partner__isnull=True),
                name="opp_forecast_open_direct",
            ),
            models.Index(
                fields=["tenant", "closed_on"],
                include=["amount", "customer", "partner"],
                condition=Q(status="won", partner__isnull=True),
                name="opp_forecast_won_direct",
            ),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) | Q(amount__isnull=True),
                name="opportunity_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status="lost") | Q(lost_reason__isnull=False),
                name="opportunity_lost_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_direct(self) -> bool:
        return self.partner_id is None

    @property
    def forecast_category(self) -> str:
        """The effective category: closed and lost deals follow their stage, open deals
        the owner's override when there is one."""
        if self.status == self.Status.OPEN and self.forecast_category_override:
            return self.forecast_category_override
        return self.stage.forecast_category

    @property
    def qualification_complete(self) -> bool:
        return bool(
            self.budget_confirmed
            and self.decision_maker
            and self.need.strip()
            and self.timeline.strip()
        )

    @contextmanager
    def allow_change(self) -> Iterator[None]:
        self._protected_change_allowed = True
        try:
            yield
        finally:
            self._protected_change_allowed = False

    def refresh_from_db(self, *args: object, **kwargs: object) -> None:
        with self.allow_change():
            super().refresh_from_db(*args, **kwargs)  # type: ignore[arg-type]

    def _enter(self, stage: Stage) -> None:
        with self.allow_change():
            self.stage = stage
        self.stage_entered_at = timezone.now()

    @transition(field=status, source=Status.OPEN, target=Status.OPEN)
    def move(self, stage: Stage) -> None:
        self._enter(stage)

    @transition(field=status, source=Status.OPEN, target=Status.WON)
    def close_won(self, stage: Stage, amount: Decimal, closed_on: date) -> None:
        self._enter(stage)
        self.amount, self.closed_on = amount, closed_on

    @transition(field=status, source=Status.OPEN, target=Status.LOST)
    def close_lost(self, stage: Stage, reason: LostReason, note: str) -> None:
        self._enter(stage)
        self.lost_reason, self.lost_note, self.closed_on = reason, note, timezone.localdate()

    @transition(field=status, source=[Status.WON, Status.LOST], target=Status.OPEN)
    def reopen(self, stage: Stage) -> None:
        self._enter(stage)
        self.lost_reason, self.lost_note, self.closed_on = None, "", None


class StageMove(TenantScopedModel):
    """One recorded move of an opportunity; velocity and aging are computed from these."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="moves")
    from_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, null=True, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    from_status = models.CharField(max_length=8, blank=True)
    to_status = models.CharField(max_length=8)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    note = models.CharField(max_length=1000, blank=True)
    forced = models.BooleanField(
        default=False, help_text="A vendor admin moved it past missing entry criteria."
    )
    force_reason = models.CharField(max_length=1000, blank=True)
    skipped_criteria = ArrayField(
        models.CharField(max_length=32, choices=EntryCriterion.choices),
        default=list,
        blank=True,
        help_text="What was missing when the move was forced.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    partner_scope_field = "opportunity__partner_id"
    owner_scope_field = "opportunity__owner_id"

    class Meta:
        ordering: ClassVar = ["created_at", "id"]
        indexes: ClassVar = [
            models.Index(fields=["tenant", "opportunity", "created_at"]),
            # The moves of a period (metrics: stage velocity and conversion).
            models.Index(
                fields=["tenant", "created_at"],
                include=["opportunity", "to_stage"],
                name="stagemove_time",
            ),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(forced=False) | ~Q(force_reason=""),
                name="stagemove_forced_has_reason",
            ),
        ]

    @property
    def skipped_labels(self) -> list[str]:
        labels = dict(EntryCriterion.choices)
        return [labels.get(c, c) for c in self.skipped_criteria]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"


class OpportunityRollup(TenantScopedModel):
    """Σ amount and number of the tenant's open and won deals per partner × stage ×
    category override × month (of the expected close date for open deals, of `closed_on`
    for won ones), kept by statement-level triggers on pipeline_opportunity (migration
    pipeline 0020_opportunity_rollup): every INSERT, UPDATE and DELETE adds its deals'
    net change in the same statement, so the figures are exact and transactional whatever
    writes the deals (services, bulk SQL). The forecast and the Changes' live total read a
    few thousand of these rows instead of aggregating a period's deals. Rows may reach
    zero deals; readers skip them. Lost deals are not kept."""

    # Not a foreign key: rows follow the deals (the triggers), never a deletion.
    tenant = models.ForeignKey(
        "accounts.Tenant",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    status = models.CharField(max_length=8)
    partner_id = models.BigIntegerField(null=True)
    stage_id = models.BigIntegerField()
    category_override = models.CharField(max_length=16, blank=True)
    month = models.DateField(null=True, help_text="First day of the month; none: no date.")
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    deals = models.IntegerField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "status", "month", "partner_id", "stage_id", "category_override"],
                name="opportunityrollup_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.month} partner {self.partner_id}: {self.amount}"


class FieldChange(TenantScopedModel):
    """One change of a forecast-relevant field of an opportunity, append-only.

    Written by the same services that change the field (and one row per field when the
    deal is created), so the state of any deal at any past moment can be rebuilt from
    these rows alone. Values are stored as text: amounts as plain decimals ("1250.00"),
    dates as ISO dates, stage and owner as ids, status and forecast category as their
    codes (the *effective* category); "" means none.
    """

    class Field(models.TextChoices):
        AMOUNT = "amount", "Amount"
        EXPECTED_CLOSE_DATE = "expected_close_date", "Expected close date"
        STAGE = "stage", "Stage"
        STATUS = "status", "Status"
        FORECAST_CATEGORY = "forecast_category", "Forecast category"
        OWNER = "owner", "Owner"

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="field_changes"
    )
    field = models.CharField(max_length=24, choices=Field.choices)
    old_value = models.CharField(max_length=64, blank=True)
    new_value = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    source = models.CharField(
        max_length=32, blank=True, help_text="What made the change (created, edit, move…)."
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["tenant", "opportunity", "changed_at", "id"], name="fieldchange_deal"
            ),
            models.Index(fields=["tenant", "changed_at", "id"], name="fieldchange_time"),
            models.Index(fields=["tenant", "field", "changed_at"], name="fieldchange_field"),
            # Each deal's stage rows read index-only (co-sell impact: the stage help started
            # in, and the stages the deals without help passed through).
            models.Index(
                fields=["tenant", "opportunity"],
                include=["new_value", "changed_at", "id"],
                condition=models.Q(field="stage"),
                name="fieldchange_stage_deal",
            ),
            # Close-date moves read index-only (metrics: push rate; flags: pushed twice).
            models.Index(
                fields=["tenant", "changed_at"],
                include=["opportunity", "old_value", "new_value"],
                condition=models.Q(field="expected_close_date"),
                name="fieldchange_close_date",
            ),
            # the Changes waterfall: every row after a moment in one index-only range scan
            models.Index(
                fields=["tenant", "changed_at"],
                include=["opportunity", "id", "field", "old_value", "new_value"],
                condition=models.Q(field__in=["amount", "expected_close_date", "stage", "status"]),
                name="fieldchange_recent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value or '—'} → {self.new_value or '—'}"


class Activity(TenantScopedModel):
    """The opportunity's timeline: notes, calls, meetings, demos, e-mails."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        DEMO = "demo", "Demo"
        EMAIL = "email", "E-mail"

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    body = models.TextField(max_length=5000)
    occurred_at = models.DateTimeField(default=timezone.now)
    author = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    vendor_internal = models.BooleanField(
        default=False, help_text="Only the vendor's people see it."
    )
    created_at = models.DateTimeField(default=timezone.now)

    partner_scope_field = "opportunity__partner_id"
    owner_scope_field = "opportunity__owner_id"

    class Meta:
        verbose_name_plural = "activities"
        ordering: ClassVar = ["-occurred_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["tenant", "opportunity", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.body[:40]}"


class CoSellResourceType(TenantScopedModel):
    """A kind of help the vendor lends partners (pre-sales engineer, executive sponsor...),
    with its eligibility rule: the open stages a deal must be in (none listed: any open
    stage) and the smallest deal amount (none: any amount)."""

    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    stages = models.ManyToManyField(
        Stage,
        through="CoSellResourceTypeStage",
        blank=True,
        related_name="+",
        help_text="Deals in these stages qualify.",
    )
    min_amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Deals of at least this amount qualify; blank: any amount.",
    )
    hours_per_request = models.PositiveSmallIntegerField(
        default=4, help_text="What one request takes of a pool member counted in hours."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["position", "name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "code"], name="cosellresourcetype_code"),
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True) | Q(min_amount__gte=0),
                name="cosellresourcetype_min_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CoSellResource(TenantScopedModel):
    """A vendor person in the co-sell pool: the types of help they give, where, on what,
    and how much a week."""

    class CapacityUnit(models.TextChoices):
        ENGAGEMENTS = "engagements", "Engagements"
        HOURS = "hours", "Hours"

    person = models.ForeignKey(
        "accounts.Membership", on_delete=models.PROTECT, related_name="cosell_resources"
    )
    types = models.ManyToManyField(
        CoSellResourceType, through="CoSellResourceSkill", related_name="resources"
    )
    regions = ArrayField(models.CharField(max_length=8), default=list, blank=True)
    product_lines = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    weekly_capacity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    capacity_unit = models.CharField(
        max_length=12, choices=CapacityUnit.choices, default=CapacityUnit.ENGAGEMENTS
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "person"], name="cosellresource_person"),
            models.CheckConstraint(
                condition=Q(weekly_capacity__gte=1), name="cosellresource_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Co-sell resource {self.person_id}"


class CoSellResourceTypeStage(TenantScopedModel):
    """A stage a kind of help is given in: the many-to-many's rows with their tenant, so
    row-level security covers them like every tenant table. Written with
    `through_defaults`."""

    resource_type = models.ForeignKey(
        CoSellResourceType,
        on_delete=models.CASCADE,
        db_column="cosellresourcetype_id",
        related_name="+",
    )
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "pipeline_cosellresourcetype_stages"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "resource_type", "stage"], name="cosell_type_stage_unique"
            ),
        ]


class CoSellResourceSkill(TenantScopedModel):
    """A kind of help a pool member gives (the pool's many-to-many rows, with their tenant)."""

    resource = models.ForeignKey(
        CoSellResource, on_delete=models.CASCADE, db_column="cosellresource_id", related_name="+"
    )
    resource_type = models.ForeignKey(
        CoSellResourceType,
        on_delete=models.CASCADE,
        db_column="cosellresourcetype_id",
        related_name="+",
    )

    class Meta:
        db_table = "pipeline_cosellresource_types"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "resource", "resource_type"], name="cosell_resource_type_unique"
            ),
        ]


class CoSellUnavailability(TenantScopedModel):
    """Days (start to end, both included) a pool member cannot take co-sell requests."""

    resource = models.ForeignKey(
        CoSellResource, on_delete=models.CASCADE, related_name="unavailability"
    )
    start = models.DateField()
    end = models.DateField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "co-sell unavailability"
        ordering: ClassVar = ["start", "id"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="cosellunavail_order"),
        ]
        indexes: ClassVar = [models.Index(fields=["tenant", "resource", "end"])]

    def __str__(self) -> str:
        return f"{self.resource_id} away {self.start} to {self.end}"


class CoSellSettings(TenantScopedModel):
    """A tenant's first-contact clock: business days from request to first contact, fewer
    for deals at or above an amount."""

    sla_business_days = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    large_deal_sla_business_days = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    large_deal_amount = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("100000")
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "co-sell settings"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant"], name="cosellsettings_one_per_tenant"),
        ]

    def __str__(self) -> str:
        return f"Co-sell settings of tenant {self.tenant_id}"


class CoSellRequest(FSMModelMixin, TenantScopedModel):
    """A partner asks the vendor for help on a deal: requested → assigned → engaged (first
    contact logged) → completed, or declined (with a reason) or cancelled on the way.

    The first-contact clock runs from the request (`sla_due_at`); `sla_breached_at` is set
    once by the worker's sweep. `capacity_refused_at` records that an automatic assignment
    found nobody eligible with headroom. A deal had co-sell engagement iff one of its
    requests has `engaged_at`.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ASSIGNED = "assigned", "Assigned"
        ENGAGED = "engaged", "Engaged"
        COMPLETED = "completed", "Completed"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES: ClassVar = (Status.REQUESTED, Status.ASSIGNED, Status.ENGAGED)
    LOAD_STATUSES: ClassVar = (Status.ASSIGNED, Status.ENGAGED, Status.COMPLETED)

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="cosell_requests"
    )
    resource_type = models.ForeignKey(
        CoSellResourceType, on_delete=models.PROTECT, related_name="requests"
    )
    need = models.TextField(blank=True, max_length=2000)
    need_by = models.DateField()
    details = models.TextField(blank=True, max_length=2000, help_text="The partner's note.")
    requested_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    stage_at_request = models.ForeignKey(
        Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = FSMField(default=Status.REQUESTED, choices=Status.choices, protected=True)
    assigned_resource = models.ForeignKey(
        CoSellResource,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
    )
    assignee = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="cosell_assignments"
    )
    load = models.PositiveSmallIntegerField(
        default=0, help_text="What the request takes of its assignee's weekly capacity."
    )
    override_reason = models.CharField(max_length=500, blank=True)
    decline_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    engaged_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    capacity_refused_at = models.DateTimeField(null=True, blank=True)

    partner_scope_field = "opportunity__partner_id"
    owner_scope_field = "opportunity__owner_id"

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["tenant", "status", "need_by"]),
            models.Index(
                fields=["tenant", "sla_due_at"],
                condition=Q(engaged_at__isnull=True, sla_breached_at__isnull=True),
                name="cosell_sla_open",
            ),
            models.Index(fields=["tenant", "assigned_resource", "assigned_at"], name="cosell_load"),
            models.Index(fields=["tenant", "opportunity"], name="cosell_opportunity"),
            # Each deal's first logged contact, index-only (co-sell impact).
            models.Index(
                fields=["tenant", "opportunity", "engaged_at"],
                condition=Q(engaged_at__isnull=False),
                name="cosell_engaged",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} for {self.opportunity}"

    @transition(field=status, source=Status.REQUESTED, target=Status.ASSIGNED)
    def assign(self, resource: CoSellResource, assignee: User, load: int, reason: str) -> None:
        now = timezone.now()
        self.assigned_resource, self.assignee, self.load = resource, assignee, load
        self.override_reason, self.assigned_at, self.decided_at = reason, now, now

    @transition(field=status, source=Status.ASSIGNED, target=Status.ENGAGED)
    def engage(self) -> None:
        self.engaged_at = timezone.now()

    @transition(field=status, source=Status.ENGAGED, target=Status.COMPLETED)
    def complete(self) -> None:
        self.completed_at = timezone.now()

    @transition(field=status, source=[Status.REQUESTED, Status.ASSIGNED], target=Status.DECLINED)
    def decline(self, reason: str) -> None:
        self.decline_reason, self.decided_at = reason, timezone.now()

    @transition(field=status, source=[Status.REQUESTED, Status.ASSIGNED], target=Status.CANCELLED)
    def cancel(self) -> None:
        self.cancelled_at = timezone.now()


class StaleAlert(TenantScopedModel):
    """One alert per opportunity, reason and period: the de-duplication of stale alerts."""

    class Reason(models.TextChoices):
        IDLE = "idle", "No stage change or activity"
        CLOSE_DATE_PASSED = "close_date_passed", "Expected close date passed"

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stale_alerts"
    )
    reason = models.CharField(max_length=24, choices=Reason.choices)
    period = models.DateField(help_text="The day the alert belongs to.")
    created_at = models.DateTimeField(default=timezone.now)

    partner_scope_field = "opportunity__partner_id"

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "opportunity", "reason", "period"],
                name="stalealert_once_per_period",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["tenant", "created_at"], name="stalealert_recent")
        ]

    def __str__(self) -> str:
        return f"{self.opportunity}: {self.reason} ({self.period})"


class StaleDigest(TenantScopedModel):
    """One daily e-mail of a person's new stale alerts: at most one per person and day.

    It covers the alerts created after the person's previous digest and up to `until`;
    the worker sends it once (`sent_at`).
    """

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    until = models.DateTimeField(help_text="Alerts created up to this moment are included.")
    deal_count = models.PositiveIntegerField(default=0, help_text="Deals the e-mail listed.")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "recipient", "day"], name="staledigest_once_per_day"
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["tenant", "created_at"],
                name="staledigest_unsent",
                condition=Q(sent_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Stale digest for {self.recipient_id} on {self.day}"


class CustomerExternalId(ExternalIdBase):
    """A customer's id in another system (see accounts/external_ids.py)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="external_ids")

    owner_field = "customer"

    class Meta:
        constraints: ClassVar = external_id_constraints("customer", "customer")


class OpportunityExternalId(ExternalIdBase):
    """An opportunity's id in another system, e.g. the Salesforce opportunity it mirrors."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="external_ids"
    )

    owner_field = "opportunity"
    partner_scope_field = "opportunity__partner_id"
    owner_scope_field = "opportunity__owner_id"

    class Meta:
        constraints: ClassVar = external_id_constraints("opportunity", "opportunity")

"""Deal registration: product lines, the tenant's registration rules, registrations and their
lifecycle, screening findings, protection claims, extensions and the status timeline.

A registration's status changes only through the transitions below, driven by the
services in deals/services/; each change is written to its timeline (RegistrationEvent).
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django_countries.fields import CountryField
from django_fsm import FSMField, FSMModelMixin, transition

from accounts.external_ids import ExternalIdBase, external_id_constraints
from accounts.models import NAME_MAX, User
from accounts.tenancy import TenantScopedModel


class ProductLine(TenantScopedModel):
    """A line of the vendor's products; protection is scoped to customer × product line."""

    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["name", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "code"], name="productline_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class RegistrationSettings(TenantScopedModel):
    """A tenant's registration rules (tier limits and protection days live on the tier)."""

    match_threshold = models.PositiveSmallIntegerField(
        default=85,
        validators=[MinValueValidator(50), MaxValueValidator(100)],
        help_text="How alike two customer names must be (in percent) to count as the same.",
    )
    review_sla_hours = models.PositiveSmallIntegerField(
        default=48,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text="A registration waiting longer than this is overdue and escalated.",
    )
    extension_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    max_extensions = models.PositiveSmallIntegerField(default=2, validators=[MaxValueValidator(10)])
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "registration settings"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant"], name="registrationsettings_one_per_tenant"),
            models.CheckConstraint(
                condition=Q(match_threshold__gte=50, match_threshold__lte=100),
                name="registrationsettings_threshold",
            ),
        ]

    def __str__(self) -> str:
        return f"Registration settings of tenant {self.tenant_id}"


class RejectionReason(TenantScopedModel):
    """A tenant's codes for why a registration was rejected."""

    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["label"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant", "code"], name="rejectionreason_code_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class OverrideReason(models.TextChoices):
    """Why a vendor role approved a registration alongside another partner's protected one
    on the same customer and product line (told to both partners, never who the other is)."""

    DIFFERENT_BUYING_ENTITY = "different_buying_entity", "Different buying entity"
    DIFFERENT_PROJECT = "different_project", "Different project"
    SHARED_DEAL_AGREED = "shared_deal_agreed", "Shared deal agreed"


class DealRegistration(FSMModelMixin, TenantScopedModel):
    """A partner's claim on a deal: screened, decided, and, once approved, protected."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        IN_REVIEW = "in_review", "In review"
        INFO_REQUESTED = "info_requested", "Information requested"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"
        WON = "won", "Converted: won"
        LOST = "lost", "Converted: lost"

    LIVE: ClassVar[tuple[str, ...]] = (
        Status.SUBMITTED,
        Status.IN_REVIEW,
        Status.INFO_REQUESTED,
        Status.APPROVED,
    )

    partner = models.ForeignKey(
        "partners.PartnerOrganization", on_delete=models.PROTECT, related_name="registrations"
    )
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="registrations")
    customer = models.ForeignKey(
        "pipeline.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registrations",
    )
    customer_name = models.CharField(max_length=NAME_MAX)
    customer_website = models.CharField(max_length=255, blank=True)
    customer_country = CountryField(blank=True)
    contact_name = models.CharField(max_length=NAME_MAX, blank=True)
    contact_email = models.EmailField(max_length=254, blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    # Match keys (pipeline.normalization), set by the services whenever the customer changes.
    name_normalized = models.CharField(max_length=NAME_MAX, blank=True)
    name_core = models.CharField(max_length=NAME_MAX, blank=True)
    root_domain = models.CharField(max_length=253, blank=True)
    product_lines = models.ManyToManyField(
        ProductLine,
        through="RegistrationProductLine",
        related_name="registrations",
        blank=True,
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3)
    expected_close_date = models.DateField(null=True, blank=True)
    budget_confirmed = models.BooleanField(default=False)
    decision_maker = models.BooleanField(default=False, help_text="Decision maker identified.")
    need = models.TextField(blank=True, max_length=2000)
    timeline = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True, max_length=4000)
    source = models.CharField(
        max_length=100,
        blank=True,
        help_text="Where it came from, e.g. a converted lead's campaign.",
    )

    status = FSMField(default=Status.DRAFT, choices=Status.choices, protected=True)
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    screened_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_code = models.CharField(max_length=40, blank=True)
    decision_message = models.TextField(blank=True, max_length=2000)
    auto_approved = models.BooleanField(default=False)
    override_reason = models.CharField(
        max_length=40,
        blank=True,
        choices=OverrideReason.choices,
        help_text="Set when approved alongside another partner's protected registration.",
    )
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    protected_until = models.DateField(null=True, blank=True)
    extensions_granted = models.PositiveSmallIntegerField(default=0)
    opportunity = models.OneToOneField(
        "pipeline.Opportunity",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registration",
    )
    escalated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the review passed the SLA and was escalated."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    partner_scope_field = "partner_id"
    owner_scope_field = "owner_id"

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["tenant", "status", "submitted_at"], name="reg_queue"),
            models.Index(fields=["tenant", "partner", "status", "-id"], name="reg_partner"),
            models.Index(fields=["tenant", "owner", "-id"], name="reg_owner"),
            models.Index(
                fields=["tenant", "status", "protected_until"],
                name="reg_protection",
                condition=Q(status="approved"),
            ),
            # Screening's domain lookup, on live registrations only (DESIGN "Known traps"); its
            # name lookup reads LiveRegistrationKey.
            models.Index(
                fields=["tenant", "root_domain"],
                name="reg_live_domain",
                condition=Q(status__in=["submitted", "in_review", "info_requested", "approved"])
                & ~Q(root_domain=""),
            ),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) | Q(amount__isnull=True),
                name="registration_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(protected_until__isnull=False),
                name="registration_approved_is_protected",
            ),
        ]

    def __str__(self) -> str:
        return f"Registration #{self.pk}: {self.customer_name}"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE

    @property
    def first_registered_at(self):  # noqa: ANN201  (datetime | None)
        return self.first_submitted_at or self.created_at

    @transition(field=status, source=[Status.DRAFT, Status.INFO_REQUESTED], target=Status.SUBMITTED)
    def submit(self) -> None:
        now = timezone.now()
        self.submitted_at = now
        self.first_submitted_at = self.first_submitted_at or now
        self.screened_at = self.escalated_at = None
        # an information request is answered: it stays on the timeline, not as the decision
        self.decided_at = self.decided_by = None
        self.decision_code = self.decision_message = ""

    @transition(field=status, source=Status.SUBMITTED, target=Status.IN_REVIEW)
    def hold_for_review(self) -> None:
        self.screened_at = timezone.now()

    @transition(field=status, source=[Status.SUBMITTED, Status.IN_REVIEW], target=Status.APPROVED)
    def approve(
        self,
        *,
        by: User | None,
        note: str,
        protected_until,  # noqa: ANN001
        auto: bool,
        override_reason: str = "",
    ) -> None:
        self._decide(by, "approved", note)
        self.auto_approved = auto
        self.override_reason = override_reason
        self.protected_until = protected_until
        if auto:
            self.screened_at = timezone.now()

    @transition(field=status, source=Status.IN_REVIEW, target=Status.REJECTED)
    def reject(self, *, by: User, code: str, message: str) -> None:
        self._decide(by, code, message)

    @transition(field=status, source=Status.IN_REVIEW, target=Status.INFO_REQUESTED)
    def request_info(self, *, by: User, message: str) -> None:
        self._decide(by, "info_requested", message)

    @transition(field=status, source=Status.IN_REVIEW, target=Status.REJECTED)
    def mark_duplicate(self, *, by: User, original: DealRegistration, message: str) -> None:
        self._decide(by, "duplicate", message)
        self.duplicate_of = original

    @transition(
        field=status,
        source=[Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.INFO_REQUESTED],
        target=Status.WITHDRAWN,
    )
    def withdraw_pending(self) -> None:
        self.updated_at = timezone.now()

    @transition(field=status, source=Status.APPROVED, target=Status.WITHDRAWN)
    def withdraw_protected(self) -> None:
        self.updated_at = timezone.now()

    @transition(field=status, source=Status.APPROVED, target=Status.EXPIRED)
    def expire(self) -> None:
        self.updated_at = timezone.now()

    @transition(field=status, source=Status.APPROVED, target=Status.WON)
    def convert_won(self) -> None:
        self.updated_at = timezone.now()

    @transition(field=status, source=Status.APPROVED, target=Status.LOST)
    def convert_lost(self) -> None:
        self.updated_at = timezone.now()

    @transition(field=status, source=[Status.WON, Status.LOST], target=Status.APPROVED)
    def reconvert_open(self) -> None:
        """The deal was reopened: protection is back in force."""
        self.updated_at = timezone.now()

    @transition(field=status, source=[Status.APPROVED, Status.REJECTED], target=Status.IN_REVIEW)
    def revert(self) -> None:
        """A vendor admin undoes a decision: back in the queue, protection released."""
        self.decided_at = self.decided_by = None
        self.decision_code, self.decision_message = "", ""
        self.auto_approved, self.protected_until, self.duplicate_of = False, None, None
        self.override_reason = ""

    def _decide(self, by: User | None, code: str, message: str) -> None:
        self.decided_at, self.decided_by = timezone.now(), by
        self.decision_code, self.decision_message = code, message


class RegistrationProductLine(TenantScopedModel):
    """A product line a registration names: the many-to-many's rows, with their tenant so
    row-level security covers them like every tenant table. (Table and columns keep the
    names of the automatic table they replace.) Written with `through_defaults`."""

    registration = models.ForeignKey(
        DealRegistration,
        on_delete=models.CASCADE,
        db_column="dealregistration_id",
        related_name="+",
    )
    product_line = models.ForeignKey(
        ProductLine, on_delete=models.CASCADE, db_column="productline_id", related_name="+"
    )

    class Meta:
        db_table = "deals_dealregistration_product_lines"
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "registration", "product_line"],
                name="registration_product_line_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registration_id} × {self.product_line_id}"


class LiveRegistrationKey(TenantScopedModel):
    """The match keys of one live registration, for screening's trigram name lookup.

    Kept by database triggers on the registrations table (deals/migrations/0011): a row
    while the registration is live, updated with its keys, gone when it leaves the live
    statuses. Never written by the application. The lookup rechecks every row its trigram
    index returns (often 1,000-4,000 for a two-word name); here those rows sit in a
    30 MB table rather than among a million wide registrations (352 MB).
    """

    registration = models.OneToOneField(
        DealRegistration,
        on_delete=models.DO_NOTHING,  # the delete trigger removes the row
        primary_key=True,
        related_name="+",
    )
    name_normalized = models.CharField(max_length=NAME_MAX, blank=True)
    name_core = models.CharField(max_length=NAME_MAX, blank=True)
    root_domain = models.CharField(max_length=253, blank=True)
    country = models.CharField(max_length=2, blank=True)

    class Meta:
        # Each write merged at once (fastupdate off): with GIN's pending list every lookup
        # also read up to 4 MB of unmerged entries (deals 0010, pipeline 0008).
        indexes: ClassVar = [
            # btree_gin lets the tenant column share the trigram index; the planner picks
            # it for a small tenant, the one below for a tenant with 100,000s of rows.
            GinIndex(
                fields=["tenant", "name_core"],
                name="live_key_name_core_trgm",
                fastupdate=False,
                opclasses=["int8_ops", "gin_trgm_ops"],
            ),
            GinIndex(
                fields=["name_core"],
                name="live_key_name_core_trgm_only",
                fastupdate=False,
                opclasses=["gin_trgm_ops"],
            ),
            # Short cores only ("hart", "acme"): a three- or four-letter core shares two
            # trigrams with every name that starts like it, so on the index above it
            # rechecks thousands of rows. Screening looks a short name up here
            # (deals/services/screening.py, SHORT_CORE).
            GinIndex(
                fields=["name_core"],
                name="live_key_short_core_trgm",
                fastupdate=False,
                opclasses=["gin_trgm_ops"],
                condition=Q(LessThanOrEqual(Length("name_core"), 8)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registration_id}: {self.name_core}"


class Finding(TenantScopedModel):
    """One thing screening found: another record on the same customer (and product line)."""

    class Kind(models.TextChoices):
        DUPLICATE = "duplicate", "Duplicate (same partner)"
        PARTNER_CONFLICT = "partner_conflict", "Another partner's registration"
        DIRECT_CONFLICT = "direct_conflict", "The vendor's direct deal"
        EXISTING_CUSTOMER = "existing_customer", "Existing customer"

    registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, related_name="findings"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    matched_keys = ArrayField(models.CharField(max_length=40), default=list)
    product_lines = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    other_registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    other_opportunity = models.ForeignKey(
        "pipeline.Opportunity", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    first_registered_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    partner_scope_field = "registration__partner_id"
    owner_scope_field = "registration__owner_id"

    class Meta:
        ordering: ClassVar = ["-score", "id"]
        indexes: ClassVar = [
            models.Index(fields=["tenant", "registration"]),
            models.Index(fields=["tenant", "other_registration"]),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(other_registration__isnull=True) ^ Q(other_opportunity__isnull=True),
                name="finding_one_other_record",
            ),
            models.CheckConstraint(condition=Q(score__lte=100), name="finding_score"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.score})"


class ProtectionClaim(TenantScopedModel):
    """An approved registration's hold on customer key × product line.

    The partial unique constraint is the final arbiter of "exactly one protected": two
    approvals of the same key and product line cannot both commit (DESIGN "Known traps").
    """

    registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, related_name="claims"
    )
    product_line = models.ForeignKey(ProductLine, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=260)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "key", "product_line"],
                condition=Q(is_active=True),
                name="protectionclaim_one_holder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} × {self.product_line_id}"


class Extension(FSMModelMixin, TenantScopedModel):
    """A partner's request for more protection time, granted or declined by the vendor."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        GRANTED = "granted", "Granted"
        DECLINED = "declined", "Declined"

    registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, related_name="extensions"
    )
    reason = models.TextField(max_length=2000)
    requested_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    status = FSMField(default=Status.REQUESTED, choices=Status.choices, protected=True)
    days_added = models.PositiveSmallIntegerField(default=0)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    partner_scope_field = "registration__partner_id"
    owner_scope_field = "registration__owner_id"

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "registration"],
                condition=Q(status="requested"),
                name="extension_one_open_per_registration",
            ),
        ]

    def __str__(self) -> str:
        return f"Extension of {self.registration_id}: {self.status}"

    @transition(field=status, source=Status.REQUESTED, target=Status.GRANTED)
    def grant(self, *, by: User, days: int) -> None:
        self.decided_by, self.decided_at, self.days_added = by, timezone.now(), days

    @transition(field=status, source=Status.REQUESTED, target=Status.DECLINED)
    def decline(self, *, by: User, reason: str) -> None:
        self.decided_by, self.decided_at, self.decline_reason = by, timezone.now(), reason


class RegistrationEvent(TenantScopedModel):
    """The registration's timeline: every status change, decision and reason. Both portals
    show it (nothing on it concerns another partner)."""

    class Verb(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        SUBMITTED = "submitted", "Submitted"
        RESUBMITTED = "resubmitted", "Resubmitted"
        SCREENED = "screened", "Screened"
        IN_REVIEW = "in_review", "Held for review"
        APPROVED = "approved", "Approved"
        APPROVED_ALONGSIDE = "approved_alongside", "Approved alongside an earlier registration"
        PROTECTION_SHARED = "protection_shared", "Protection shared with a later registration"
        AUTO_APPROVED = "auto_approved", "Approved automatically"
        REJECTED = "rejected", "Rejected"
        INFO_REQUESTED = "info_requested", "Information requested"
        MARKED_DUPLICATE = "marked_duplicate", "Rejected as a duplicate"
        REVERTED = "reverted", "Decision reverted"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Protection expired"
        EXTENSION_REQUESTED = "extension_requested", "Extension requested"
        EXTENSION_GRANTED = "extension_granted", "Extension granted"
        EXTENSION_DECLINED = "extension_declined", "Extension declined"
        CONVERTED_WON = "converted_won", "Deal won"
        CONVERTED_LOST = "converted_lost", "Deal lost"
        REOPENED = "reopened", "Deal reopened"

    registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, related_name="events"
    )
    verb = models.CharField(max_length=40, choices=Verb.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    reason_code = models.CharField(max_length=40, blank=True)
    message = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    partner_scope_field = "registration__partner_id"
    owner_scope_field = "registration__owner_id"

    class Meta:
        ordering: ClassVar = ["created_at", "id"]
        indexes: ClassVar = [models.Index(fields=["tenant", "registration", "created_at"])]

    def __str__(self) -> str:
        return f"{self.verb} ({self.registration_id})"


class RegistrationAlert(TenantScopedModel):
    """One expiry reminder per registration, kind and protection end: a sweep may run as
    often as it likes (an extension moves the end, so the reminders come again)."""

    class Kind(models.TextChoices):
        EXPIRY_14 = "expiry_14", "Protection ends in 14 days"
        EXPIRY_7 = "expiry_7", "Protection ends in 7 days"
        EXPIRY_1 = "expiry_1", "Protection ends tomorrow"

    registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    period = models.DateField(help_text="The protection end the reminder is about.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["tenant", "registration", "kind", "period"],
                name="registrationalert_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.registration_id}"


class RegistrationExternalId(ExternalIdBase):
    """A registration's id in another system (see accounts/external_ids.py)."""

    registration = models.ForeignKey(
        DealRegistration, on_delete=models.CASCADE, related_name="external_ids"
    )

    owner_field = "registration"
    partner_scope_field = "registration__partner_id"
    owner_scope_field = "registration__owner_id"

    class Meta:
        constraints: ClassVar = external_id_constraints("registration", "registration")

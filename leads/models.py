"""Vendor leads, the tenant's routing policy, and the offers that route a lead to a partner.

A lead is offered to one partner organization at a time. Each offer stores the explanation
of its routing decision (candidates, each rule's pass/fail, each score part, the policy
version), so replaying it gives the same decision (leads/routing.py).
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField
from django_fsm import FSMField, FSMModelMixin, transition

from accounts.models import NAME_MAX, User
from accounts.tenancy import TenantScopedModel
from deals.models import DealRegistration
from partners.models import PartnerOrganization

RULES = (
    ("territory", "Serves the lead's country or region"),
    ("product_line", "Specializes in the lead's product lines"),
    ("certification", "Holds a valid certification in the lead's product lines"),
    ("minimum_tier", "Is at or above the minimum tier"),
    ("capacity", "Is below its lead capacity"),
    ("not_declined", "Has not declined or let an offer of this lead expire"),
)
RULE_LABELS = dict(RULES)
# What a partner may set with /status/ (conversion has its own endpoint).
WORK_STATUSES = (
    ("contacted", "Contacted"),
    ("qualified", "Qualified"),
    ("disqualified", "Disqualified"),
)
DEFAULT_RULE_CHAIN = [
    {"rule": "territory", "required": True},
    {"rule": "product_line", "required": False},
    {"rule": "capacity", "required": True},
    {"rule": "not_declined", "required": True},
]
# Under the fair-share scoring (leads/routing.py): acceptance and conversion tilt each
# partner's target share ratio by their edge over the tenant's rates, fairness steers toward
# it, headroom breaks near-ties. A tenant created before it kept the weighted scoring and its
# weights (WEIGHTED_DEFAULT_WEIGHTS were that scoring's defaults).
DEFAULT_WEIGHTS = {"acceptance": 0.3, "conversion": 1.0, "headroom": 0.05, "fairness": 1.0}
WEIGHTED_DEFAULT_WEIGHTS = {
    "acceptance": 0.25,
    "conversion": 0.35,
    "headroom": 0.2,
    "fairness": 0.2,
}
SCORINGS = (
    ("fair_share", "Fair share, tilted toward better partners"),
    ("weighted", "Weighted sum of the score parts"),
)


def default_rule_chain() -> list[dict[str, object]]:
    return [dict(step) for step in DEFAULT_RULE_CHAIN]


def default_weights() -> dict[str, float]:
    return dict(DEFAULT_WEIGHTS)


def default_working_days() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday to Friday


class RoutingPolicy(TenantScopedModel):
    """A tenant's lead routing: the ordered rule chain, score weights, hops, business hours.

    `version` grows with every change; offers record the version they were decided under."""

    rules = models.JSONField(default=default_rule_chain)
    weights = models.JSONField(default=default_weights)
    scoring = models.CharField(
        max_length=16,
        choices=SCORINGS,
        default="fair_share",
        help_text="How the partners the rules leave are ranked (leads/routing.py).",
    )
    minimum_tier_rank = models.PositiveSmallIntegerField(default=0)
    max_hops = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    reminder_hours = models.PositiveSmallIntegerField(
        default=4, help_text="Business hours before an offer expires that the partner is reminded."
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    working_days = ArrayField(models.PositiveSmallIntegerField(), default=default_working_days)
    day_starts_at = models.PositiveSmallIntegerField(default=9)
    day_ends_at = models.PositiveSmallIntegerField(default=17)
    stale_after_days = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(250)],
        help_text="Business days without an update after which an accepted lead is stale.",
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["tenant"], name="routingpolicy_one_per_tenant"),
            models.CheckConstraint(
                condition=Q(day_starts_at__lt=models.F("day_ends_at"), day_ends_at__lte=24),
                name="routingpolicy_business_day",
            ),
        ]

    def __str__(self) -> str:
        return f"Routing policy v{self.version}"


class Lead(FSMModelMixin, TenantScopedModel):
    """A vendor's marketing lead, routed to a partner and worked toward a registration."""

    class Status(models.TextChoices):
        NEW = "new", "Awaiting routing"
        OFFERED = "offered", "Offered"
        QUEUED = "queued", "In the routing queue"
        ACCEPTED = "accepted", "Accepted"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        DISQUALIFIED = "disqualified", "Disqualified"
        CONVERTED = "converted", "Converted"

    WORKING: ClassVar = (Status.ACCEPTED, Status.CONTACTED, Status.QUALIFIED)

    company_name = models.CharField(max_length=NAME_MAX)
    company_website = models.CharField(max_length=255, blank=True)
    country = CountryField()
    region = models.CharField(max_length=8, blank=True)
    contact_name = models.CharField(max_length=NAME_MAX, blank=True)
    contact_email = models.EmailField(max_length=254, blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    product_lines = ArrayField(models.SlugField(max_length=40), default=list, blank=True)
    estimated_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    source = models.CharField(max_length=100, blank=True)
    notes = models.TextField(max_length=4000, blank=True)
    status = FSMField(default=Status.NEW, choices=Status.choices, protected=True)
    partner = models.ForeignKey(
        PartnerOrganization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    owner = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hops = models.PositiveSmallIntegerField(default=0)
    queued_reason = models.CharField(max_length=200, blank=True)
    matches = models.JSONField(default=list, blank=True)
    preferred_partner = models.ForeignKey(
        PartnerOrganization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    registration = models.OneToOneField(
        DealRegistration, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status_note = models.CharField(max_length=1000, blank=True)
    # The funnel's timestamps (leads/reports.py), of the partner that accepted it last:
    # contacted = its first recorded progress (contacted, qualified or converted).
    contacted_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    lead_import = models.ForeignKey(
        "LeadImport", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # When the worker's sweep flagged the lead stale (leads/services/stale.py); a lead
    # updated since then goes stale again later and is flagged again.
    stale_flagged_at = models.DateTimeField(null=True, blank=True)

    # Partner people see the leads offered to their organization (one offer per partner).
    partner_scope_field = "offers__partner_id"

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["tenant", "status", "created_at"]),
            models.Index(fields=["tenant", "partner", "status"]),
            models.Index(fields=["tenant", "lead_import", "status"]),
        ]

    def __str__(self) -> str:
        return self.company_name

    @transition(field=status, source=[Status.NEW, Status.QUEUED], target=Status.OFFERED)
    def offer(self) -> None:
        self.hops += 1

    @transition(field=status, source=[Status.NEW, Status.OFFERED], target=Status.QUEUED)
    def queue(self, reason: str = "") -> None:
        self.queued_reason = reason[:200]

    @transition(field=status, source=Status.OFFERED, target=Status.NEW)
    def reroute(self) -> None:
        pass

    @transition(field=status, source=Status.QUEUED, target=Status.NEW)
    def route_again(self) -> None:
        """From the routing queue, with a fresh count of hops (e.g. after the vendor fixed a
        partner's territories); partners that declined or timed out stay excluded."""
        self.hops, self.queued_reason = 0, ""

    @transition(field=status, source=Status.OFFERED, target=Status.ACCEPTED)
    def accept(self, *, partner: PartnerOrganization, owner: User) -> None:
        self.partner, self.owner = partner, owner
        self.contacted_at = self.converted_at = None

    def _progressed(self) -> None:
        self.contacted_at = self.contacted_at or timezone.now()

    @transition(field=status, source=Status.ACCEPTED, target=Status.CONTACTED)
    def contact(self, *, note: str = "") -> None:
        self.status_note = note
        self._progressed()

    @transition(field=status, source=[Status.ACCEPTED, Status.CONTACTED], target=Status.QUALIFIED)
    def qualify(self, *, note: str = "") -> None:
        self.status_note = note
        self._progressed()

    @transition(field=status, source=list(WORKING), target=Status.DISQUALIFIED)
    def disqualify(self, *, note: str = "") -> None:
        self.status_note = note

    @transition(field=status, source=list(WORKING), target=Status.CONVERTED)
    def convert(self, *, registration: DealRegistration) -> None:
        self.registration = registration
        self._progressed()
        self.converted_at = timezone.now()

    @transition(field=status, source=list(WORKING), target=Status.QUEUED)
    def pull_back(self, *, reason: str) -> None:
        """The vendor takes a stale lead back from the partner that accepted it; it waits
        in the routing queue (that partner is never offered it again)."""
        self.partner, self.owner = None, None
        self.queued_reason = reason[:200]


class LeadOffer(FSMModelMixin, TenantScopedModel):
    """One lead offered to one partner organization, with its acceptance window and the
    stored explanation of why it was routed there."""

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Reason(models.TextChoices):
        NOT_MY_TERRITORY = "not_my_territory", "Not my territory"
        NO_CAPACITY = "no_capacity", "No capacity"
        NOT_A_FIT = "not_a_fit", "Not a fit"
        ALREADY_WORKING = "already_working", "Already working this customer"
        POOR_QUALITY = "poor_quality", "Poor quality"
        OTHER = "other", "Other"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="offers")
    partner = models.ForeignKey(PartnerOrganization, on_delete=models.PROTECT, related_name="+")
    status = FSMField(default=Status.OFFERED, choices=Status.choices, protected=True)
    hop = models.PositiveSmallIntegerField()
    offered_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    remind_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason_code = models.CharField(max_length=32, choices=Reason.choices, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    policy_version = models.PositiveIntegerField()
    explanation = models.JSONField(default=dict)

    partner_scope_field = "partner_id"

    class Meta:
        ordering: ClassVar = ["offered_at", "id"]
        constraints: ClassVar = [
            # never offered twice to one partner: a decliner or a timeout is never re-offered
            models.UniqueConstraint(
                fields=["tenant", "lead", "partner"], name="leadoffer_once_per_partner"
            ),
            models.UniqueConstraint(
                fields=["tenant", "lead"],
                condition=Q(status="offered"),
                name="leadoffer_one_open_per_lead",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["tenant", "partner", "status"]),
            models.Index(fields=["tenant", "status", "expires_at"]),
            # the reports read the offers made in a period
            models.Index(fields=["tenant", "offered_at"], name="leadoffer_offered"),
        ]

    def __str__(self) -> str:
        return f"{self.lead} → {self.partner}"

    @transition(field=status, source=Status.OFFERED, target=Status.ACCEPTED)
    def accept(self, *, by: User) -> None:
        self.decided_at, self.decided_by = timezone.now(), by

    @transition(field=status, source=Status.OFFERED, target=Status.DECLINED)
    def decline(self, *, by: User, reason_code: str, note: str) -> None:
        self.decided_at, self.decided_by = timezone.now(), by
        self.reason_code, self.note = reason_code, note

    @transition(field=status, source=Status.OFFERED, target=Status.EXPIRED)
    def expire(self) -> None:
        self.decided_at = timezone.now()

    @transition(field=status, source=Status.OFFERED, target=Status.WITHDRAWN)
    def withdraw(self, *, by: User | None) -> None:
        self.decided_at, self.decided_by = timezone.now(), by


class LeadImport(FSMModelMixin, TenantScopedModel):
    """A CSV upload of leads: checked row by row by the worker, then stored all at once or,
    when any row is wrong, not at all (the errors per row are kept for the page and API)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the worker"
        CHECKING = "checking", "Checking rows"
        REJECTED = "rejected", "Rejected: nothing stored"
        IMPORTED = "imported", "Imported"

    FINISHED: ClassVar = (Status.REJECTED, Status.IMPORTED)

    file_name = models.CharField(max_length=255)
    content = models.TextField(blank=True, help_text="The file's text until it is processed.")
    row_count = models.PositiveIntegerField(default=0)
    rows_checked = models.PositiveIntegerField(default=0)
    leads_created = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="[{row, column, message}], the first 1,000."
    )
    status = FSMField(default=Status.QUEUED, choices=Status.choices, protected=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        indexes: ClassVar = [models.Index(fields=["tenant", "status", "created_at"])]

    def __str__(self) -> str:
        return self.file_name

    @transition(field=status, source=Status.QUEUED, target=Status.CHECKING)
    def start(self) -> None:
        pass

    @transition(field=status, source=Status.CHECKING, target=Status.REJECTED)
    def reject(self, *, errors: list[dict[str, object]], error_count: int) -> None:
        self.errors, self.error_count = errors, error_count
        self.content, self.finished_at = "", timezone.now()

    @transition(field=status, source=Status.CHECKING, target=Status.IMPORTED)
    def complete(self, *, created: int) -> None:
        self.leads_created, self.content, self.finished_at = created, "", timezone.now()


class LeadOfferShare(TenantScopedModel):
    """One partner's capacity share of one offer's lead: written by the database when the
    offer is stored (trigger `leads_offer_shares`, migration 0007), from the decision the
    offer keeps (`leads.reports.fairness_eligible` defines the same in Python). What the
    fairness report and the fair-share routing sum, instead of unpacking every stored
    decision's candidates (at 500 partners ~140 KB of JSON per offer)."""

    offer = models.ForeignKey(LeadOffer, on_delete=models.CASCADE, related_name="+")
    partner_id = models.BigIntegerField()  # a candidate, not necessarily the one offered
    share = models.FloatField()  # capacity ÷ the fitting partners' capacity; sums to 1
    chosen = models.BooleanField()  # the partner the lead was offered to
    offered_at = models.DateTimeField()

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["tenant", "offered_at"],
                include=["partner_id", "share", "chosen"],
                name="leadoffershare_recent",
            ),
        ]

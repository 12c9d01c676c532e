"""Reads of deal registration: scoped lists, the review queue with its SLA clock, one
registration's findings (told to partners without the other party), its timeline, and the
"similar registrations exist" hint of the registration form.

What a partner may learn about a finding: its kind, score, the product lines it concerns
and the date the first registration was made — never the other partner or its record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django_countries import countries

from accounts.models import Membership, Tenant
from deals.models import DealRegistration, Extension, Finding, ProductLine, RegistrationEvent
from deals.services.configuration import registration_settings_for
from deals.services.keys import CustomerKeys
from deals.services.screening import registration_matches

SIMILAR_MIN_LENGTH = 3


def registration_list_for(*, membership: Membership) -> QuerySet[DealRegistration]:
    """What the member may see, with what lists show joined in (constant query count)."""
    return (
        DealRegistration.objects.visible_to(membership)
        .select_related("partner", "partner__tier", "owner", "opportunity")
        .prefetch_related(
            Prefetch("product_lines", queryset=ProductLine.objects.order_by("name", "id"))
        )
        .order_by("-id")
    )


def product_lines_for(*, tenant: Tenant, active_only: bool = True) -> QuerySet[ProductLine]:
    lines = ProductLine.objects.for_tenant(tenant).order_by("name", "id")
    return lines.filter(is_active=True) if active_only else lines


def active_product_line_codes(tenant_id: int) -> set[str]:
    """The codes of a tenant's active product lines (partners/catalog.py's provider)."""
    lines = ProductLine.objects.for_tenant(tenant_id).filter(is_active=True)
    return set(lines.values_list("code", flat=True))


# --- The review queue -----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    registration: DealRegistration
    waiting: timedelta
    due_at: datetime
    overdue: bool
    finding_count: int
    group: int = 0  # the id of the first registration of its conflict group (or its own)
    conflicts_with: tuple[int, ...] = ()  # the others of its conflict group in the queue

    @property
    def waiting_hours(self) -> int:
        return int(self.waiting.total_seconds() // 3600)


@dataclass(frozen=True)
class QueueGroup:
    """Registrations of one customer that conflict (one item: no conflict)."""

    items: list[QueueItem]

    @property
    def is_conflict(self) -> bool:
        return len(self.items) > 1


def review_queue(
    *, membership: Membership, limit: int = 200, include_id: int | None = None
) -> list[QueueItem]:
    """Registrations in review, longest waiting first, with the tenant's SLA clock; a
    registration conflicting with one waiting longer (a finding pointing at it, or at the
    same earlier registration) comes right after it. `include_id`: one more registration,
    whatever its status, placed where it would be (for "next in queue")."""
    settings = registration_settings_for(membership.tenant)
    sla = timedelta(hours=settings.review_sla_hours)
    now = timezone.now()
    rows = (
        registration_list_for(membership=membership)
        .filter(Q(status=DealRegistration.Status.IN_REVIEW) | Q(pk=include_id))
        .prefetch_related("findings")
        .order_by("submitted_at", "id")[:limit]
    )
    items = []
    for group in conflict_groups(list(rows)):
        for registration in group:
            submitted = registration.submitted_at or registration.created_at
            items.append(
                QueueItem(
                    registration=registration,
                    waiting=now - submitted,
                    due_at=submitted + sla,
                    overdue=now > submitted + sla,
                    finding_count=len(registration.findings.all()),
                    group=group[0].pk,
                    conflicts_with=tuple(other.pk for other in group if other != registration),
                )
            )
    return items


def conflict_groups(registrations: list[DealRegistration]) -> list[list[DealRegistration]]:
    """The registrations (findings prefetched) in their order, those linked by a finding
    pointing at one another or at the same other registration gathered at the first."""
    parent: dict[int, int] = {}

    def root(pk: int) -> int:
        while parent.setdefault(pk, pk) != pk:
            pk = parent[pk]
        return pk

    for registration in registrations:
        for finding in registration.findings.all():
            if finding.other_registration_id is not None:
                parent[root(finding.other_registration_id)] = root(registration.pk)
    groups: dict[int, list[DealRegistration]] = {}
    for registration in registrations:
        groups.setdefault(root(registration.pk), []).append(registration)
    return list(groups.values())


def queue_groups(items: list[QueueItem]) -> list[QueueGroup]:
    groups: dict[int, list[QueueItem]] = {}
    for item in items:
        groups.setdefault(item.group, []).append(item)
    return [QueueGroup(members) for members in groups.values()]


def next_in_queue(*, membership: Membership, after: DealRegistration) -> DealRegistration | None:
    """The registration in review after `after` in the queue's order (its conflict group
    first), wrapping round to the top; None when nothing else waits."""
    items = review_queue(membership=membership, include_id=after.pk)
    ids = [item.registration.pk for item in items]
    position = ids.index(after.pk) + 1 if after.pk in ids else 0
    for item in [*items[position:], *items[:position]]:
        if item.registration != after and item.registration.status == after.Status.IN_REVIEW:
            return item.registration
    return None


def registration_status_counts(*, membership: Membership) -> dict[str, int]:
    """How many registrations the member sees, by status (drafts left out): one query."""
    rows = (
        DealRegistration.objects.visible_to(membership)
        .exclude(status=DealRegistration.Status.DRAFT)
        .order_by()
        .values_list("status")
        .annotate(count=Count("id"))
    )
    return dict(rows)  # type: ignore[arg-type]


# --- Findings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OtherRecord:
    """The record a finding points at; only vendor roles ever get one."""

    type: str  # "registration" or "opportunity"
    id: int
    partner_id: int | None
    partner_name: str
    status: str
    status_label: str
    customer_name: str
    product_lines: list[str]
    amount: object
    currency: str
    submitted_at: datetime | None
    protected_until: date | None
    owner_name: str
    # What tells two customers apart, for the side-by-side comparison.
    website: str = ""
    root_domain: str = ""
    contact_email: str = ""
    country_name: str = ""
    expected_close_date: date | None = None
    created_at: datetime | None = None

    @property
    def label(self) -> str:
        return f"{self.type.capitalize()} #{self.id}"


MATCHED_KEY_LABELS = {
    "domain": "web domain",
    "name": "company name",
    "country": "country",
    "product_line": "product line",
}


@dataclass(frozen=True)
class FindingView:
    kind: str
    kind_label: str
    score: int
    matched_keys: list[str]
    product_lines: list[str]
    first_registered_at: datetime
    other: OtherRecord | None
    product_line_names: tuple[str, ...] = ()  # product_lines (codes) by name

    @property
    def matched_on(self) -> list[str]:
        """The matched keys in words people read ("web domain", not "domain")."""
        return [MATCHED_KEY_LABELS.get(key, key.replace("_", " ")) for key in self.matched_keys]


def registration_record(other: DealRegistration) -> OtherRecord:
    """A registration as the other side of a comparison (partner, owner, lines loaded)."""
    return OtherRecord(
        type="registration",
        id=other.pk,
        partner_id=other.partner_id,
        partner_name=other.partner.name,
        status=other.status,
        status_label=other.get_status_display(),
        customer_name=other.customer_name,
        product_lines=[line.name for line in other.product_lines.all()],
        amount=other.amount,
        currency=other.currency,
        submitted_at=other.first_submitted_at,
        protected_until=other.protected_until,
        owner_name=other.owner.display_name,
        website=other.customer_website,
        root_domain=other.root_domain,
        contact_email=other.contact_email,
        country_name=country_name(str(other.customer_country or "")),
        expected_close_date=other.expected_close_date,
        created_at=other.created_at,
    )


def country_name(code: str) -> str:
    return str(countries.name(code)) if code else ""


def _other_record(finding: Finding) -> OtherRecord:
    if finding.other_registration is not None:
        return registration_record(finding.other_registration)
    deal = finding.other_opportunity
    if deal is None:  # impossible: the finding_one_other_record constraint
        raise ValueError(f"finding {finding.pk} points at nothing")
    return OtherRecord(
        type="opportunity",
        id=deal.pk,
        partner_id=deal.partner_id,
        partner_name=deal.partner.name if deal.partner else "Direct (vendor)",
        status=deal.status,
        status_label=deal.get_status_display(),
        customer_name=deal.customer.name,
        product_lines=[],
        amount=deal.amount,
        currency=deal.currency,
        submitted_at=deal.created_at,
        protected_until=None,
        owner_name=deal.owner.display_name,
        website=deal.customer.website,
        root_domain=deal.customer.root_domain,
        country_name=country_name(str(deal.customer.country or "")),
        expected_close_date=deal.expected_close_date,
        created_at=deal.created_at,
    )


def findings_queryset(registration_ids: list[int], *, vendor: bool) -> QuerySet[Finding]:
    findings = Finding.objects.filter(registration_id__in=registration_ids).order_by("-score", "id")
    return with_other_records(findings) if vendor else findings


def with_other_records(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    return findings.select_related(
        "other_registration__partner",
        "other_registration__owner",
        "other_opportunity__partner",
        "other_opportunity__customer",
        "other_opportunity__owner",
    ).prefetch_related("other_registration__product_lines")


def finding_others(finding_ids: list[int]) -> dict[int, OtherRecord]:
    """The record each finding points at, by finding id (for vendor roles only)."""
    findings = with_other_records(Finding.objects.filter(pk__in=finding_ids))
    return {finding.pk: _other_record(finding) for finding in findings}


def finding_view(
    finding: Finding, *, vendor: bool, line_names: dict[str, str] | None = None
) -> FindingView:
    names = line_names or {}
    return FindingView(
        kind=finding.kind,
        kind_label=finding.get_kind_display(),
        score=finding.score,
        matched_keys=list(finding.matched_keys),
        product_lines=list(finding.product_lines),
        first_registered_at=finding.first_registered_at,
        other=_other_record(finding) if vendor else None,
        product_line_names=tuple(names.get(code, code) for code in finding.product_lines),
    )


def product_line_names(tenant_id: int) -> dict[str, str]:
    """code → name of the tenant's product lines, retired ones included."""
    lines = ProductLine.objects.for_tenant(tenant_id).values_list("code", "name")
    return dict(lines)  # type: ignore[arg-type]


def registration_findings(
    *, registration: DealRegistration, membership: Membership
) -> list[FindingView]:
    vendor = membership.is_vendor
    findings = list(findings_queryset([registration.pk], vendor=vendor))
    names = product_line_names(membership.tenant_id) if findings else {}
    return [finding_view(finding, vendor=vendor, line_names=names) for finding in findings]


def later_conflicts(*, registration: DealRegistration, membership: Membership) -> list[Finding]:
    """Vendor roles: registrations submitted later whose findings point at this one."""
    if not membership.is_vendor:
        return []
    return list(
        Finding.objects.for_tenant(membership.tenant_id)
        .filter(other_registration=registration)
        .select_related("registration__partner", "registration__owner")
        .prefetch_related("registration__product_lines")
        .order_by("registration__first_submitted_at", "id")
    )


def later_finding_views(findings: list[Finding], *, tenant_id: int) -> list[FindingView]:
    """`later_conflicts` turned round: each later registration as the other record."""
    names = product_line_names(tenant_id) if findings else {}
    return [
        FindingView(
            kind=finding.kind,
            kind_label=finding.get_kind_display(),
            score=finding.score,
            matched_keys=list(finding.matched_keys),
            product_lines=list(finding.product_lines),
            first_registered_at=finding.first_registered_at,
            other=registration_record(finding.registration),
            product_line_names=tuple(names.get(code, code) for code in finding.product_lines),
        )
        for finding in findings
    ]


# --- Timeline and extensions -------------------------------------------------------------------


def registration_timeline(
    *, registration: DealRegistration, membership: Membership
) -> list[RegistrationEvent]:
    events = RegistrationEvent.objects.visible_to(membership).filter(registration=registration)
    return list(events.select_related("actor").order_by("created_at", "id"))


def registration_extensions(*, registration: DealRegistration) -> list[Extension]:
    return list(
        Extension.objects.filter(registration=registration)
        .select_related("requested_by", "decided_by")
        .order_by("-created_at", "-id")
    )


def protection_days_left(registration: DealRegistration) -> int | None:
    if registration.status != DealRegistration.Status.APPROVED or not registration.protected_until:
        return None
    return (registration.protected_until - timezone.localdate()).days


# --- Why a registration waits for review ----------------------------------------------------

WAITING = (DealRegistration.Status.SUBMITTED, DealRegistration.Status.IN_REVIEW)
CONFLICT_REASONS = {
    Finding.Kind.DUPLICATE: "your organization already registered a similar customer",
    Finding.Kind.PARTNER_CONFLICT: "another partner registered a similar customer first",
    Finding.Kind.DIRECT_CONFLICT: "the vendor is already working a deal with this customer",
    Finding.Kind.EXISTING_CUSTOMER: "this customer already bought from the vendor this year",
}
CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£"}


@dataclass(frozen=True)
class ReviewWait:
    """Why a submitted registration is not decided yet, and by when it will be."""

    screening: bool  # screening still runs: no reason known yet
    reasons: list[str]
    due_at: datetime
    overdue: bool


def registration_review_wait(
    *, registration: DealRegistration, membership: Membership
) -> ReviewWait | None:
    """None unless the registration waits on the vendor (submitted or in review). The
    reasons come from its own findings (their kinds only), its partner tier's automatic
    approval limit and the tenant's review SLA — nothing of another partner."""
    if registration.status not in WAITING:
        return None
    settings = registration_settings_for(membership.tenant)
    submitted = registration.submitted_at or registration.created_at
    due_at = submitted + timedelta(hours=settings.review_sla_hours)
    screening = registration.status == DealRegistration.Status.SUBMITTED
    return ReviewWait(
        screening=screening,
        reasons=[] if screening else review_reasons(registration),
        due_at=due_at,
        overdue=timezone.now() > due_at,
    )


def review_reasons(registration: DealRegistration) -> list[str]:
    kinds = set(Finding.objects.filter(registration=registration).values_list("kind", flat=True))
    reasons = [
        f"A possible conflict was found: {text}."
        for kind, text in CONFLICT_REASONS.items()
        if kind in kinds
    ]
    limit = registration.partner.tier.auto_approval_limit
    if limit is None:
        reasons.append("Your vendor reviews every registration.")
    elif registration.amount is None:
        reasons.append("No amount was given, so your vendor reviews it.")
    elif registration.amount > limit:
        amount = money_text(limit, registration.currency)
        reasons.append(f"Above your tier's auto-approval limit of {amount}.")
    return reasons or ["It could not be approved automatically, so your vendor reviews it."]


def money_text(amount: Decimal, currency: str) -> str:
    """50000 USD → "$50,000"; 10000.5 CHF → "10,000.50 CHF"."""
    number = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    sign = CURRENCY_SIGNS.get(currency)
    return f"{sign}{number}" if sign else f"{number} {currency}"


# --- The form's hint -----------------------------------------------------------------------------


def similar_registration_kinds(
    *, membership: Membership, customer_name: str, website: str = "", country: str = ""
) -> list[str]:
    """Kinds of live registrations similar to a customer being typed ("duplicate": yours or
    your organization's; "partner_conflict": another partner's) — never whose."""
    if len(customer_name.strip()) < SIMILAR_MIN_LENGTH:
        return []
    tenant = membership.tenant
    keys = CustomerKeys.of(name=customer_name[:200], website=website[:255], country=country[:2])
    threshold = registration_settings_for(tenant).match_threshold
    matches = registration_matches(tenant=tenant, keys=keys, threshold=threshold)
    kinds = {
        Finding.Kind.DUPLICATE
        if other.partner_id == membership.partner_id
        else Finding.Kind.PARTNER_CONFLICT
        for other, _, _ in matches
    }
    return sorted(kinds)

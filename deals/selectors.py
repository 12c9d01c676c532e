"""Reads of deal registration: scoped lists, the review queue with its SLA clock, one
registration's findings (told to partners without the other party), its timeline, and the
"similar registrations exist" hint of the registration form.

What a partner may learn about a finding: its kind, score, the product lines it concerns
and the date the first registration was made — never the other partner or its record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

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


# --- The review queue -----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    registration: DealRegistration
    waiting: timedelta
    due_at: datetime
    overdue: bool
    finding_count: int

    @property
    def waiting_hours(self) -> int:
        return int(self.waiting.total_seconds() // 3600)


def review_queue(*, membership: Membership, limit: int = 200) -> list[QueueItem]:
    """Registrations in review, longest waiting first, with the tenant's SLA clock."""
    settings = registration_settings_for(membership.tenant)
    sla = timedelta(hours=settings.review_sla_hours)
    now = timezone.now()
    rows = (
        registration_list_for(membership=membership)
        .filter(status=DealRegistration.Status.IN_REVIEW)
        .prefetch_related("findings")
        .order_by("submitted_at", "id")[:limit]
    )
    items = []
    for registration in rows:
        submitted = registration.submitted_at or registration.created_at
        items.append(
            QueueItem(
                registration=registration,
                waiting=now - submitted,
                due_at=submitted + sla,
                overdue=now > submitted + sla,
                finding_count=len(registration.findings.all()),
            )
        )
    return items


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


@dataclass(frozen=True)
class FindingView:
    kind: str
    kind_label: str
    score: int
    matched_keys: list[str]
    product_lines: list[str]
    first_registered_at: datetime
    other: OtherRecord | None


def _other_record(finding: Finding) -> OtherRecord:
    if finding.other_registration is not None:
        other = finding.other_registration
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
        )
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
    )


def findings_queryset(registration_ids: list[int], *, vendor: bool) -> QuerySet[Finding]:
    findings = Finding.objects.filter(registration_id__in=registration_ids).order_by("-score", "id")
    if not vendor:
        return findings
    return findings.select_related(
        "other_registration__partner",
        "other_registration__owner",
        "other_opportunity__partner",
        "other_opportunity__customer",
        "other_opportunity__owner",
    ).prefetch_related("other_registration__product_lines")


def finding_view(finding: Finding, *, vendor: bool) -> FindingView:
    return FindingView(
        kind=finding.kind,
        kind_label=finding.get_kind_display(),
        score=finding.score,
        matched_keys=list(finding.matched_keys),
        product_lines=list(finding.product_lines),
        first_registered_at=finding.first_registered_at,
        other=_other_record(finding) if vendor else None,
    )


def registration_findings(
    *, registration: DealRegistration, membership: Membership
) -> list[FindingView]:
    vendor = membership.is_vendor
    return [
        finding_view(finding, vendor=vendor)
        for finding in findings_queryset([registration.pk], vendor=vendor)
    ]


def later_conflicts(*, registration: DealRegistration, membership: Membership) -> list[Finding]:
    """Vendor roles: registrations submitted later whose findings point at this one."""
    if not membership.is_vendor:
        return []
    return list(
        Finding.objects.for_tenant(membership.tenant_id)
        .filter(other_registration=registration)
        .select_related("registration__partner", "registration__owner")
        .order_by("registration__first_submitted_at", "id")
    )


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

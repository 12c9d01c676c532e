"""Screening: find what a submitted registration collides with, store it, then decide.

Candidates come from indexed lookups only (DESIGN "Screening" and "Known traps"):

- root-domain equality on a btree ``(tenant_id, root_domain)``;
- trigram similarity of the name core on a GIN ``(tenant_id, name_core gin_trgm_ops)``, run
  inside a tenant-pinned ``SECURITY DEFINER`` function (deals/migrations/0002): under
  row-level security the non-LEAKPROOF ``%`` operator would lose its index;

among the tenant's live registrations, its open opportunities that no registration owns
(partners' unregistered deals and the vendor's direct deals) and customers won in the
last 12 months. At most ``CANDIDATE_LIMIT`` rows per lookup are re-ranked in Python with
RapidFuzz; a name-only match needs the same country (when both are known).

Only records that came first are findings: a registration submitted later than this one
carries the finding itself. Simultaneous submitters are serialized by transaction-scoped
advisory locks on the customer's exact keys (taken at submit, at screening and at
approval), and the partial unique constraint on ProtectionClaim is the final arbiter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from rapidfuzz import fuzz

from accounts.errors import ApplicationError
from accounts.models import Tenant
from deals.models import DealRegistration, Finding, RegistrationEvent
from deals.services.configuration import registration_settings_for
from deals.services.keys import CustomerKeys, lock_keys, registration_keys
from deals.services.protection import approve_locked
from deals.services.timeline import reviewers_of, tell_vendor, timeline_record
from pipeline.models import Opportunity

logger = logging.getLogger(__name__)

CANDIDATE_LIMIT = 100
WON_LOOKBACK = timedelta(days=365)


# --- Candidates ---------------------------------------------------------------------------


@dataclass
class Match:
    """One candidate record that matched, with its score and the keys that matched."""

    kind: str
    score: int
    matched_keys: list[str]
    first_registered_at: datetime
    product_lines: list[str] = field(default_factory=list)
    other_registration: DealRegistration | None = None
    other_opportunity: Opportunity | None = None


# The tenant-pinned SQL functions of deals/migrations/0002 (fixed names, never user input).
NAME_LOOKUPS = {
    "registration": "SELECT id FROM deals_registration_name_candidates(%s, %s)",
    "customer": "SELECT id FROM deals_customer_name_candidates(%s, %s)",
}


def _name_candidate_ids(lookup: str, core: str) -> list[int]:
    if not core:
        return []
    with connection.cursor() as cursor:
        cursor.execute(NAME_LOOKUPS[lookup], [core, CANDIDATE_LIMIT])
        return [row[0] for row in cursor.fetchall()]


def name_score(keys: CustomerKeys, name_normalized: str, name_core: str) -> int:
    """How alike two customer names are, 0–100 (order of words does not matter)."""
    return round(
        max(
            fuzz.token_sort_ratio(keys.name_normalized, name_normalized),
            fuzz.ratio(keys.name_core, name_core) if keys.name_core and name_core else 0,
        )
    )


def compare(
    keys: CustomerKeys,
    *,
    name_normalized: str,
    name_core: str,
    domain: str,
    country: str,
    threshold: int,
) -> tuple[int, list[str]] | None:
    """(score, matched keys) when the other customer is the same one, else None."""
    same_domain = bool(keys.root_domain) and keys.root_domain == domain
    score = name_score(keys, name_normalized, name_core)
    matched = ["domain"] if same_domain else []
    if score >= threshold:
        matched.append("name")
    countries_known = bool(keys.country) and bool(country)
    if countries_known and keys.country == country:
        matched.append("country")
    if same_domain:
        return 100, matched
    if score < threshold or (countries_known and keys.country != country):
        return None
    return score, matched


def registration_candidates(
    *, tenant: Tenant, keys: CustomerKeys, exclude_id: int | None = None
) -> list[DealRegistration]:
    live = DealRegistration.objects.for_tenant(tenant).filter(status__in=DealRegistration.LIVE)
    by_name = _name_candidate_ids("registration", keys.name_core)
    lookup = Q(pk__in=by_name)
    if keys.root_domain:
        lookup |= Q(pk__in=live.filter(root_domain=keys.root_domain).values("pk")[:CANDIDATE_LIMIT])
    candidates = live.filter(lookup).select_related("partner").prefetch_related("product_lines")
    if exclude_id is not None:
        candidates = candidates.exclude(pk=exclude_id)
    return list(candidates)


def opportunity_candidates(*, tenant: Tenant, keys: CustomerKeys) -> list[Opportunity]:
    """Open deals no registration owns, and deals won in the last 12 months, of customers
    that share the domain or a similar name."""
    by_name = _name_candidate_ids("customer", keys.name_core)
    customers = Q(customer_id__in=by_name)
    if keys.root_domain:
        customers |= Q(customer__root_domain=keys.root_domain)
    since = timezone.localdate() - WON_LOOKBACK
    state = Q(status=Opportunity.Status.OPEN, registration__isnull=True) | Q(
        status=Opportunity.Status.WON, closed_on__gte=since
    )
    return list(
        Opportunity.objects.for_tenant(tenant)
        .filter(customers, state)
        .select_related("customer")
        .order_by("-id")[: CANDIDATE_LIMIT * 2]
    )


def _opportunity_kind(deal: Opportunity, partner_id: int) -> str:
    if deal.status == Opportunity.Status.WON:
        return Finding.Kind.EXISTING_CUSTOMER
    if deal.partner_id is None:
        return Finding.Kind.DIRECT_CONFLICT
    return (
        Finding.Kind.DUPLICATE if deal.partner_id == partner_id else Finding.Kind.PARTNER_CONFLICT
    )


def came_first(other: DealRegistration, registration: DealRegistration) -> bool:
    """Does `other` take precedence? Approved ones always; else the earlier submission."""
    if other.status == DealRegistration.Status.APPROVED:
        return True
    mine = (registration.first_registered_at, registration.pk)
    return (other.first_registered_at, other.pk) < mine


def find_matches(
    *,
    tenant: Tenant,
    registration: DealRegistration,
    product_line_codes: set[str],
    threshold: int,
) -> list[Match]:
    keys = registration_keys(registration)
    matches: list[Match] = []
    for other in registration_candidates(tenant=tenant, keys=keys, exclude_id=registration.pk):
        shared = product_line_codes & {line.code for line in other.product_lines.all()}
        if not shared or not came_first(other, registration):
            continue
        found = compare(
            keys,
            name_normalized=other.name_normalized,
            name_core=other.name_core,
            domain=other.root_domain,
            country=str(other.customer_country or ""),
            threshold=threshold,
        )
        if found is None:
            continue
        same_partner = other.partner_id == registration.partner_id
        matches.append(
            Match(
                kind=Finding.Kind.DUPLICATE if same_partner else Finding.Kind.PARTNER_CONFLICT,
                score=found[0],
                matched_keys=[*found[1], "product_line"],
                first_registered_at=other.first_registered_at,
                product_lines=sorted(shared),
                other_registration=other,
            )
        )
    for deal in opportunity_candidates(tenant=tenant, keys=keys):
        customer = deal.customer
        found = compare(
            keys,
            name_normalized=customer.name_normalized,
            name_core=customer.name_core,
            domain=customer.root_domain,
            country=str(customer.country or ""),
            threshold=threshold,
        )
        if found is None:
            continue
        matches.append(
            Match(
                kind=_opportunity_kind(deal, registration.partner_id),
                score=found[0],
                matched_keys=found[1],
                first_registered_at=deal.created_at,
                other_opportunity=deal,
            )
        )
    return matches


# --- The screening task's service ------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningResult:
    registration_id: int
    status: str
    findings: int


def registration_screen(*, tenant: Tenant, registration_id: int) -> ScreeningResult | None:
    """Screen a submitted registration, store its findings, approve it automatically when
    nothing blocks and its tier allows the amount, else put it in review. Idempotent: a
    registration that is no longer `submitted` is left alone (None)."""
    with transaction.atomic():
        registration = (
            DealRegistration.objects.for_tenant(tenant)
            .select_for_update(of=("self",), no_key=True)
            .select_related("partner__tier")
            .filter(pk=registration_id, status=DealRegistration.Status.SUBMITTED)
            .first()
        )
        if registration is None:
            return None
        lock_keys(tenant_id=tenant.pk, keys=registration_keys(registration).exact)
        settings = registration_settings_for(tenant)
        codes = set(registration.product_lines.values_list("code", flat=True))
        matches = find_matches(
            tenant=tenant,
            registration=registration,
            product_line_codes=codes,
            threshold=settings.match_threshold,
        )
        findings_store(registration, matches)
        if not matches and auto_approvable(registration):
            try:
                with transaction.atomic():
                    approve_locked(registration, actor=None, note="", auto=True)
            except (IntegrityError, ApplicationError):  # e.g. the scope was taken: review it
                logger.info("registration %s not auto-approved", registration.pk, exc_info=True)
                registration.refresh_from_db()
            else:
                return ScreeningResult(registration.pk, registration.status, 0)
        hold_for_review(registration, findings=len(matches))
        return ScreeningResult(registration.pk, registration.status, len(matches))


def hold_for_review(registration: DealRegistration, *, findings: int) -> None:
    """In the review queue; the reviewers are told (what was found, never to the partner)."""
    registration.hold_for_review()
    registration.updated_at = timezone.now()
    registration.save()
    timeline_record(
        registration,
        verb="in_review",
        actor=None,
        from_status=DealRegistration.Status.SUBMITTED,
        message="Waiting for the vendor's review.",
    )
    found = (
        f"{findings} possible conflict{'s' if findings != 1 else ''}" if findings else "no conflict"
    )
    tell_vendor(
        registration,
        verb="registration_in_review",
        message=f"New registration to review: {registration.customer_name} from "
        f"{registration.partner.name} ({found}).",
        recipients=reviewers_of(registration),
    )


def auto_approvable(registration: DealRegistration) -> bool:
    limit = registration.partner.tier.auto_approval_limit
    amount = registration.amount
    return limit is not None and amount is not None and amount <= limit


def findings_store(registration: DealRegistration, matches: list[Match]) -> None:
    """Replace the registration's findings with these (a resubmission screens afresh)."""
    Finding.objects.filter(registration=registration).delete()
    Finding.objects.bulk_create(
        Finding(
            tenant_id=registration.tenant_id,
            registration=registration,
            kind=match.kind,
            score=match.score,
            matched_keys=match.matched_keys,
            product_lines=match.product_lines,
            other_registration=match.other_registration,
            other_opportunity=match.other_opportunity,
            first_registered_at=match.first_registered_at,
        )
        for match in matches
    )
    RegistrationEvent.objects.create(
        tenant_id=registration.tenant_id,
        registration=registration,
        verb="screened",
        from_status=registration.status,
        to_status=registration.status,
        vendor_only=False,
        message=(
            f"Screening found {len(matches)} possible conflict{'s' if len(matches) != 1 else ''}."
            if matches
            else "Screening found no conflict."
        ),
    )

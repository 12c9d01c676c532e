"""Reads of the leads app: leads and offers as each member may see them, and the routing
explanation (the vendor sees all of it; a partner only why the lead came to them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import BooleanField, Case, Count, Prefetch, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from accounts.models import Membership
from leads.models import RULE_LABELS, Lead, LeadImport, LeadOffer

SCORE_LABELS = {
    "acceptance": "Acceptance rate (smoothed)",
    "conversion": "Lead-to-deal conversion (smoothed)",
    "target": "Target share ratio (1 = its capacity's share; higher for better results)",
    "share_ratio": "Share ratio, last 30 days (its leads ÷ its capacity's share of them)",
    "headroom": "Capacity headroom",
    "fairness": "Below its fair share (fair share scoring: target − share ratio)",
    "preferred": "Already works this customer",
}


def offers_visible(membership: Membership) -> QuerySet[LeadOffer]:
    return LeadOffer.objects.visible_to(membership).select_related("partner")


def lead_list_for(*, membership: Membership) -> QuerySet[Lead]:
    """Vendor roles: the tenant's leads; partner people: those offered to their partner,
    each with only its own offers."""
    offers = Prefetch("offers", queryset=offers_visible(membership).order_by("offered_at", "id"))
    return (
        Lead.objects.visible_to(membership)
        .select_related("partner")
        .prefetch_related(offers)
        .order_by("-created_at", "-id")
    )


def inbox_for(*, membership: Membership) -> QuerySet[LeadOffer]:
    """A partner's open offers, the one closest to its deadline first."""
    return (
        LeadOffer.objects.visible_to(membership)
        .filter(status=LeadOffer.Status.OFFERED)
        .select_related("lead")
        .order_by("expires_at", "id")
    )


@dataclass(frozen=True)
class RuleLine:
    rule: str
    label: str
    required: bool
    passed: bool
    outcome: str


@dataclass(frozen=True)
class WhyYou:
    """Why an offer went to its partner: its own rule outcomes and score parts only."""

    rules: list[RuleLine]
    parts: list[tuple[str, float]]
    total: float


def why_offered(offer: LeadOffer) -> WhyYou:
    facts, decision = offer.explanation["facts"], offer.explanation["decision"]
    mine = next(c for c in facts["candidates"] if c["partner_id"] == offer.partner_id)
    rules = [
        RuleLine(
            step["rule"],
            RULE_LABELS.get(step["rule"], step["rule"]),
            step["required"],
            mine["rules"].get(step["rule"], False),
            step["outcome"],
        )
        for step in decision["steps"]
    ]
    scores = decision["scores"].get(str(offer.partner_id), {})
    parts = [(SCORE_LABELS[name], scores[name]) for name in SCORE_LABELS if name in scores]
    return WhyYou(rules, parts, scores.get("total", 0.0))


@dataclass(frozen=True)
class CandidateRow:
    partner_id: int
    name: str
    rules: list[bool]
    scores: dict[str, float]
    chosen: bool
    remaining: bool


@dataclass
class RoutingView:
    """One offer's full decision, for vendor roles: every candidate, rule and score."""

    offer: LeadOffer
    steps: list[dict[str, Any]]
    candidates: list[CandidateRow] = field(default_factory=list)
    policy_version: int = 0


def routing_view(offer: LeadOffer) -> RoutingView:
    facts, decision = offer.explanation["facts"], offer.explanation["decision"]
    steps = [{**s, "label": RULE_LABELS.get(s["rule"], s["rule"])} for s in decision["steps"]]
    rows = [
        CandidateRow(
            c["partner_id"],
            c["name"],
            [c["rules"].get(s["rule"], False) for s in steps],
            decision["scores"].get(str(c["partner_id"]), {}),
            c["partner_id"] == decision["partner_id"],
            c["partner_id"] in decision["remaining"],
        )
        for c in facts["candidates"]
    ]
    rows.sort(
        key=lambda r: (not r.chosen, not r.remaining, -r.scores.get("total", 0), r.partner_id)
    )
    return RoutingView(offer, steps, rows, offer.policy_version)


def routing_explanation(offer: LeadOffer) -> dict[str, Any]:
    """The stored decision as the API gives it to vendor roles."""
    return {
        "offer_id": offer.pk,
        "policy_version": offer.policy_version,
        "partner_id": offer.partner_id,
        **offer.explanation,
    }


def time_left(expires_at: datetime, now: datetime | None = None) -> str:
    """“1 d 3 h”, “5 h 12 min”, “ended”: the countdown of an acceptance window."""
    seconds = int((expires_at - (now or timezone.now())).total_seconds())
    if seconds <= 0:
        return "ended"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


# --- Stale leads ---------------------------------------------------------------------------


def stale_q(cutoff: datetime) -> Q:
    """Accepted leads not updated since `cutoff` (leads/services/policy.py stale_cutoff)."""
    return Q(status__in=Lead.WORKING, updated_at__lt=cutoff)


def with_staleness(leads: QuerySet[Lead], cutoff: datetime) -> QuerySet[Lead]:
    """Each lead with `stale` (True or False)."""
    return leads.annotate(
        stale=Case(
            When(stale_q(cutoff), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


@dataclass(frozen=True)
class LeadTotals:
    count: int
    value: Any
    stale: int


def lead_totals(leads: QuerySet[Lead], cutoff: datetime) -> LeadTotals:
    """Count, estimated value and stale count of every lead a filtered list matches."""
    row = leads.order_by().aggregate(
        count=Count("id"), value=Sum("estimated_value"), stale=Count("id", filter=stale_q(cutoff))
    )
    return LeadTotals(row["count"], row["value"] or 0, row["stale"])


# --- Imports ---------------------------------------------------------------------------------


def lead_imports_for(*, membership: Membership) -> QuerySet[LeadImport]:
    """Vendor roles: the tenant's imports, newest first (partner people: none)."""
    return (
        LeadImport.objects.visible_to(membership)
        .select_related("created_by")
        .defer("content")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class ImportProgress:
    lead_import: LeadImport
    routed: int

    @property
    def checked_percent(self) -> int:
        total = self.lead_import.row_count
        return 100 if not total else min(100, self.lead_import.rows_checked * 100 // total)

    @property
    def routed_percent(self) -> int:
        created = self.lead_import.leads_created
        return 100 if not created else min(100, self.routed * 100 // created)

    @property
    def finished(self) -> bool:
        """Nothing more will change: rejected, or imported with every lead routed."""
        status = self.lead_import.status
        if status == LeadImport.Status.REJECTED:
            return True
        return (
            status == LeadImport.Status.IMPORTED and self.routed >= self.lead_import.leads_created
        )


def import_progress(lead_import: LeadImport) -> ImportProgress:
    routed = 0
    if lead_import.status == LeadImport.Status.IMPORTED:
        routed = (
            Lead.objects.for_tenant(lead_import.tenant_id)
            .filter(lead_import=lead_import)
            .exclude(status=Lead.Status.NEW)
            .count()
        )
    return ImportProgress(lead_import, routed)

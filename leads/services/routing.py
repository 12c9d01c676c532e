"""Routing a lead: gather the facts, decide (leads/routing.py), make the offer or queue.

Capacity holds under concurrent routings without serializing them: the facts of every
candidate are read without locks (a few set-based queries), the decision picks the best,
and only that partner is locked (a transaction-scoped advisory lock) while its load and
capacity are read again. If they changed meanwhile, the candidate's facts are replaced by
the fresh ones and the decision is taken again (so the stored facts still replay to the
stored decision); a partner that filled up meanwhile fails the capacity rule and the next
best is tried. Each try runs in a savepoint, so a lock on a partner that is not chosen is
released at once: a routing waits for a lock only while it holds none (never a deadlock),
and the offer's lock is kept until it commits. A partner's load is its open offers plus
its accepted, unconverted leads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django_fsm import can_proceed

from accounts.errors import Conflict, NotFound
from accounts.models import Membership, Tenant
from accounts.permissions import require_vendor
from accounts.queue import enqueue_on_commit
from accounts.services.audit import audit_record
from leads.models import Lead, LeadOffer
from leads.reports import expected_offers_since
from leads.routing import FAIR_SHARE, Decision, decide
from leads.services.events import lead_event
from leads.services.intake import ROUTE_TASK
from leads.services.policy import calendar_of, policy_snapshot, routing_policy_for
from partners.models import Certification, PartnerOrganization
from partners.regions import region_for_country

RECENT = timedelta(days=30)
NO_CAPACITY_FOR = timedelta(days=7)
PRIOR_ACCEPTANCE = 0.5
PRIOR_CONVERSION = 0.2
DECIDED = (LeadOffer.Status.ACCEPTED, LeadOffer.Status.DECLINED, LeadOffer.Status.EXPIRED)


@dataclass(frozen=True)
class RoutingResult:
    lead_id: int
    status: str
    offer_id: int | None = None
    partner_id: int | None = None


def lock_partner_capacity(*, tenant_id: int, partner_id: int) -> None:
    """Until the transaction (or the savepoint it was taken in) ends, no other routing
    reads this partner's load to offer it a lead."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('lead-capacity:' || %s, %s))",
            [partner_id, tenant_id],
        )


def _offer_stats(
    tenant_id: int, since: Any, partner_id: int | None = None
) -> dict[int, dict[str, Any]]:
    offers = LeadOffer.objects.for_tenant(tenant_id)
    if partner_id is not None:
        offers = offers.filter(partner_id=partner_id)
    rows = offers.values("partner_id").annotate(
        decided=Count("id", filter=Q(status__in=DECIDED)),
        accepted=Count("id", filter=Q(status=LeadOffer.Status.ACCEPTED)),
        open=Count("id", filter=Q(status=LeadOffer.Status.OFFERED)),
        recent=Count("id", filter=Q(offered_at__gte=since)),
        no_capacity=Count(
            "id",
            filter=Q(
                reason_code=LeadOffer.Reason.NO_CAPACITY,
                decided_at__gte=timezone.now() - NO_CAPACITY_FOR,
            ),
        ),
    )
    return {row["partner_id"]: dict(row) for row in rows}


def _lead_stats(tenant_id: int, partner_id: int | None = None) -> dict[int, dict[str, Any]]:
    leads = Lead.objects.for_tenant(tenant_id)
    if partner_id is not None:
        leads = leads.filter(partner_id=partner_id)
    rows = (
        leads.filter(partner__isnull=False)
        .values("partner_id")
        .annotate(
            working=Count("id", filter=Q(status__in=Lead.WORKING)),
            converted=Count("id", filter=Q(status=Lead.Status.CONVERTED)),
        )
    )
    return {row["partner_id"]: dict(row) for row in rows}


@dataclass(frozen=True)
class LeadKeys:
    """What the rules read of the lead, computed once per routing."""

    country: str
    region: str
    lines: frozenset[str]
    offered: frozenset[int]
    min_rank: int


def _rules(
    partner: dict[str, Any], lead: LeadKeys, *, load: int, capacity: int, certified: set[str]
) -> dict[str, bool]:
    territories = partner["territories"]
    return {
        "territory": lead.country in territories or lead.region in territories,
        "product_line": not lead.lines or bool(lead.lines & set(partner["specializations"])),
        "certification": not lead.lines or bool(lead.lines & certified),
        "minimum_tier": partner["tier__rank"] >= lead.min_rank,
        "capacity": load < capacity,
        "not_declined": partner["id"] not in lead.offered,
    }


PARTNER_COLUMNS = (
    "id",
    "name",
    "territories",
    "specializations",
    "lead_capacity",
    "tier__rank",
    "tier__lead_capacity",
)
NO_KEYS = LeadKeys("", "", frozenset(), frozenset(), 0)
NO_OFFERS = {"decided": 0, "accepted": 0, "open": 0, "recent": 0, "no_capacity": 0}


def _certified(tenant_id: int, lines: frozenset[str]) -> dict[int, set[str]]:
    """Each partner's product lines with a certification valid today (among the lead's)."""
    found: dict[int, set[str]] = {}
    rows = Certification.objects.for_tenant(tenant_id).filter(
        product_line__in=lines, expires_on__gte=timezone.localdate()
    )
    for partner_id, line in rows.values_list("partner_id", "product_line"):
        found.setdefault(partner_id, set()).add(line)
    return found


def _with_expected(
    tenant_id: int, policy_data: dict[str, Any], *, since: Any
) -> dict[int, dict[str, Any]]:
    """The offer counts; under the fair-share scoring also each partner's expected offers
    since then (leads.reports.expected_offers_since, the fairness report's E)."""
    offers = _offer_stats(tenant_id, since)
    if policy_data.get("scoring") == FAIR_SHARE:
        for pid, expected in expected_offers_since(tenant_id, since).items():
            offers.setdefault(pid, dict(NO_OFFERS))["expected"] = expected
    return offers


def routing_facts(*, tenant_id: int, lead: Lead, policy_data: dict[str, Any]) -> dict[str, Any]:
    """Everything the decision reads, as JSON: stored on the offer for replay. Plain rows,
    not model instances: at 500 partners this is most of a routing's time."""
    partners = (
        PartnerOrganization.objects.for_tenant(tenant_id)
        .filter(status=PartnerOrganization.Status.ACTIVE)
        .order_by("id")
        .values(*PARTNER_COLUMNS)
    )
    keys = LeadKeys(
        country=str(lead.country),
        region=lead.region or region_for_country(str(lead.country)) or "",
        lines=frozenset(lead.product_lines),
        offered=frozenset(
            LeadOffer.objects.for_tenant(tenant_id)
            .filter(lead=lead)
            .values_list("partner_id", flat=True)
        ),
        min_rank=int(policy_data["minimum_tier_rank"]),
    )
    return facts_from(
        partners=list(partners),
        keys=keys,
        offers=_with_expected(tenant_id, policy_data, since=timezone.now() - RECENT),
        leads=_lead_stats(tenant_id),
        certified=_certified(tenant_id, keys.lines) if keys.lines else {},
        lead={
            "country": str(lead.country),
            "region": lead.region,
            "product_lines": list(lead.product_lines),
        },
        policy_data=policy_data,
        preferred_partner_id=lead.preferred_partner_id,
    )


def facts_from(
    *,
    partners: list[dict[str, Any]],
    keys: LeadKeys,
    offers: dict[int, dict[str, Any]],
    leads: dict[int, dict[str, Any]],
    certified: dict[int, set[str]],
    lead: dict[str, Any],
    policy_data: dict[str, Any],
    preferred_partner_id: int | None = None,
) -> dict[str, Any]:
    """The facts from the rows `routing_facts` reads (partners with PARTNER_COLUMNS, offer
    and lead counts per partner as `_offer_stats` / `_lead_stats` give them). The routing
    simulator (bench/lead_routing_sim.py) calls it with counts kept in memory."""
    candidates = [
        candidate_facts(partner, keys, offers=offers, leads=leads, certified=certified)
        for partner in partners
    ]
    decided = sum(c["stats"]["decided"] for c in candidates)
    accepted = sum(c["stats"]["accepted"] for c in candidates)
    converted = sum(c["stats"]["converted"] for c in candidates)
    return {
        "lead": lead,
        "candidates": candidates,
        "tenant": {
            "acceptance": accepted / decided if decided else PRIOR_ACCEPTANCE,
            "conversion": converted / accepted if accepted else PRIOR_CONVERSION,
        },
        "policy": policy_data,
        "preferred_partner_id": preferred_partner_id,
    }


def candidate_facts(
    partner: dict[str, Any],
    keys: LeadKeys,
    *,
    offers: dict[int, dict[str, Any]],
    leads: dict[int, dict[str, Any]],
    certified: dict[int, set[str]],
) -> dict[str, Any]:
    """One partner's rules and numbers, as the decision reads them."""
    pid = partner["id"]
    o, working = offers.get(pid, NO_OFFERS), leads.get(pid, {"working": 0, "converted": 0})
    load = o["open"] + working["working"]
    own = partner["lead_capacity"]
    capacity = max((partner["tier__lead_capacity"] if own is None else own) - o["no_capacity"], 0)
    stats = {
        "decided": o["decided"],
        "accepted": o["accepted"],
        "converted": working["converted"],
        "recent": o["recent"],
        "expected": round(float(o.get("expected", 0.0)), 6),
        "load": load,
        "capacity": capacity,
    }
    rules = _rules(partner, keys, load=load, capacity=capacity, certified=certified.get(pid, set()))
    return {"partner_id": pid, "name": partner["name"], "rules": rules, "stats": stats}


def _lock_lead(tenant_id: int, lead_id: int) -> Lead | None:
    return (
        Lead.objects.for_tenant(tenant_id)
        .select_for_update(of=("self",))
        .filter(pk=lead_id)
        .first()
    )


class _Moved(Exception):
    """The chosen partner's numbers changed before its lock was taken: try again."""


def _refresh(tenant_id: int, facts: dict[str, Any], partner_id: int) -> bool:
    """Read the partner's numbers again (under its lock) into the facts; whether they
    changed. The rules other than capacity do not depend on other routings."""
    candidate = next(c for c in facts["candidates"] if c["partner_id"] == partner_id)
    partner = (
        PartnerOrganization.objects.for_tenant(tenant_id)
        .filter(pk=partner_id, status=PartnerOrganization.Status.ACTIVE)
        .values(*PARTNER_COLUMNS)
        .first()
    )
    if partner is None:  # deactivated meanwhile: no capacity
        fresh = {**candidate["stats"], "capacity": 0}
    else:
        offers = _offer_stats(tenant_id, timezone.now() - RECENT, partner_id)
        leads = _lead_stats(tenant_id, partner_id)
        fresh = candidate_facts(partner, NO_KEYS, offers=offers, leads=leads, certified={})["stats"]
        # the fair share's expected offers are the 30-day history's, not this moment's load
        fresh["expected"] = candidate["stats"].get("expected", 0.0)
    if fresh == candidate["stats"]:
        return False
    candidate["stats"] = fresh
    candidate["rules"]["capacity"] = fresh["load"] < fresh["capacity"]
    return True


def _offer_within_capacity(
    tenant: Tenant, lead: Lead, policy: Any, facts: dict[str, Any]
) -> RoutingResult:
    """Decide, lock the chosen partner, check its numbers again; if they moved, decide
    again on the fresh facts (the next best when it filled up). Queue when nobody is left."""
    for _attempt in range(2 * len(facts["candidates"]) + 10):
        decision = decide(facts)
        if decision.partner_id is None:
            break
        chosen = decision.partner_id
        try:
            with transaction.atomic():
                lock_partner_capacity(tenant_id=tenant.pk, partner_id=chosen)
                if _refresh(tenant.pk, facts, chosen):
                    decision = decide(facts)
                    if decision.partner_id != chosen:
                        raise _Moved
                return _offer(tenant, lead, policy, facts, decision)
        except _Moved:
            continue
    final = decide(facts)
    if final.partner_id is not None:
        return _queue(tenant, lead, "The candidates' loads kept changing; route it again.")
    return _queue(tenant, lead, _nobody_reason(final))


@transaction.atomic
def lead_route(*, tenant: Tenant, lead_id: int) -> RoutingResult | None:
    """Route a lead awaiting routing: offer it to the best candidate, or queue it. A lead
    in any other state is left alone (the task may run twice)."""
    lead = _lock_lead(tenant.pk, lead_id)
    if lead is None or lead.status != Lead.Status.NEW:
        return None
    policy = routing_policy_for(tenant)
    if lead.hops >= policy.max_hops:
        return _queue(tenant, lead, f"Offered {lead.hops} times without being accepted.")
    facts = routing_facts(tenant_id=tenant.pk, lead=lead, policy_data=policy_snapshot(policy))
    return _offer_within_capacity(tenant, lead, policy, facts)


def _nobody_reason(decision: Decision) -> str:
    emptied = next((s for s in decision.steps if s["outcome"] == "emptied"), None)
    if emptied is None:
        return "No active partner."
    return f"No partner passed the required rule “{emptied['rule']}”."


def _queue(tenant: Tenant, lead: Lead, reason: str) -> RoutingResult:
    lead.queue(reason=reason)
    lead.updated_at = timezone.now()
    lead.save()
    audit_record(
        tenant=tenant, actor=None, verb="lead_queued", subject=lead, after={"reason": reason}
    )
    return RoutingResult(lead.pk, lead.status)


def _offer(
    tenant: Tenant, lead: Lead, policy: Any, facts: dict[str, Any], decision: Decision
) -> RoutingResult:
    partner = (
        PartnerOrganization.objects.for_tenant(tenant)
        .select_related("tier")
        .get(pk=int(decision.partner_id or 0))
    )
    lead.offer()
    lead.updated_at = timezone.now()
    lead.save()
    now = timezone.now()
    calendar = calendar_of(policy)
    hours = partner.tier.lead_acceptance_hours
    offer = LeadOffer.objects.create(
        tenant=tenant,
        lead=lead,
        partner=partner,
        hop=lead.hops,
        offered_at=now,
        expires_at=calendar.add_hours(now, hours),
        remind_at=calendar.add_hours(now, max(hours - policy.reminder_hours, 0)),
        policy_version=policy.version,
        explanation={"facts": facts, "decision": decision.as_json()},
    )
    audit_record(
        tenant=tenant,
        actor=None,
        verb="lead_offered",
        subject=lead,
        after={"partner": partner.name},
    )
    lead_event(tenant=tenant, name="lead.offered", lead=lead, offer=offer)
    return RoutingResult(lead.pk, lead.status, offer.pk, partner.pk)


@transaction.atomic
def lead_route_again(*, tenant: Tenant, actor: Membership, lead_id: int) -> Lead:
    """A vendor role sends a lead from the routing queue back to routing."""
    require_vendor(actor)
    lead = _lock_lead(tenant.pk, lead_id)
    if lead is None:
        raise NotFound
    if not can_proceed(lead.route_again):
        raise Conflict(f"The lead is {lead.get_status_display().lower()}, not in the queue.")
    lead.route_again()
    lead.updated_at = timezone.now()
    lead.save()
    audit_record(tenant=tenant, actor=actor.user, verb="lead_routed_again", subject=lead)
    enqueue_on_commit(ROUTE_TASK, tenant.pk, lead.pk)
    return lead


def routing_replay(offer: LeadOffer) -> Decision:
    """The decision again, from the facts the offer stored."""
    return decide(offer.explanation["facts"])

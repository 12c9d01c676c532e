"""The routing decision as a pure function of stored facts: the rule chain, then the score.

`decide(facts)` reads only the facts an offer stores (candidates with each rule's outcome
and their numbers, the tenant's rates, the policy snapshot), so replaying a stored decision
gives the same result (`leads.services.routing.routing_replay`).

Chain: rules run in the vendor admin's order over the active partners. A required rule
that leaves nobody ends routing (the lead goes to the routing queue); an optional rule is
skipped when applying it would leave nobody who also passes the required rules after it.
Score among those left, each part in 0..1:
- acceptance: offers accepted / decided, smoothed toward the tenant's rate (`SMOOTHING`
  pseudo-offers at the tenant's rate), so a new partner starts at the tenant's rate;
- conversion: leads converted / accepted, smoothed the same way;
- headroom: free capacity / capacity;
- fairness: how far the partner is below its fair share of recent offers (its share of the
  candidates' capacity), 0 when at or above it;
plus `preferred` (1) for the partner of a live registration or open deal of the same
customer. Total = Σ weight × part; ties go to the lower partner id.

That additive score ("weighted", the policies' `scoring` before fair share) could not bound
how far the better partners pull ahead: the fairness term was one bonus among others. The
`fair_share` scoring (policies' `scoring` = "fair_share") makes fairness the thing that is
steered and the partners' results only tilt it:
- share ratio: the partner's offers in the last 30 days ÷ its expected offers in them (the
  sum of its capacity shares of those offers whose lead it fit, as the fairness report
  counts them), each plus one so a partner without history starts at 1;
- acceptance and conversion: smoothed as above, then pulled back toward the tenant's rate
  by one standard error (`credible`), so a partner counts as better or worse only on
  evidence, not on a few lucky leads;
- target: 1 + weight(acceptance) × its acceptance edge + weight(conversion) × its
  conversion edge, each edge = (rate − the tenant's) ÷ the tenant's, within −1..1: an
  equally good partner's target is 1, a better one's above;
- fairness: target − share ratio (how far below its target the partner is);
- total = weight(fairness) × fairness + weight(headroom) × headroom (+ preferred): the
  partner furthest below its target gets the lead, so each partner's share ratio follows
  its target, and with equally good partners every ratio stays near 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SMOOTHING = 5.0
PREFERRED_WEIGHT = 1.0
SCORE_PARTS = ("acceptance", "conversion", "headroom", "fairness")
WEIGHTED, FAIR_SHARE = "weighted", "fair_share"
SCORINGS = (WEIGHTED, FAIR_SHARE)
RATE_FLOOR = 0.01  # a tenant rate below this counts as this (edges divide by it)


@dataclass(frozen=True)
class Decision:
    partner_id: int | None
    steps: list[dict[str, Any]]
    scores: dict[str, dict[str, float]]  # partner id (as text, JSON keys) → parts and total
    remaining: list[int]

    def as_json(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "steps": self.steps,
            "scores": self.scores,
            "remaining": self.remaining,
        }


def smoothed(successes: float, trials: float, prior: float) -> float:
    return (successes + SMOOTHING * prior) / (trials + SMOOTHING)


def run_chain(
    candidates: list[dict[str, Any]], chain: list[dict[str, Any]]
) -> tuple[list[int], list[dict[str, Any]]]:
    """The partner ids left after the chain (empty: a required rule left nobody), and what
    each step did: `applied`, `skipped` (optional, and applying it would leave nobody by
    the end of the chain) or `emptied` (required, nobody passes)."""
    left = [c["partner_id"] for c in candidates]
    by_id = {c["partner_id"]: c for c in candidates}

    def passes(pid: int, rule: str) -> bool:
        return bool(by_id[pid]["rules"].get(rule, False))

    steps: list[dict[str, Any]] = []
    for index, step in enumerate(chain):
        rule, required = step["rule"], bool(step["required"])
        passing = [pid for pid in left if passes(pid, rule)]
        later = [s["rule"] for s in chain[index + 1 :] if s["required"]]
        survives = [pid for pid in passing if all(passes(pid, r) for r in later)]
        if required and not passing:
            outcome, left = "emptied", []
        elif required or survives:
            outcome, left = "applied", passing
        else:
            outcome = "skipped"
        steps.append({"rule": rule, "required": required, "outcome": outcome, "left": list(left)})
        if not left:
            break
    return left, steps


@dataclass(frozen=True)
class Field:
    """What every candidate is scored against: the tenant's rates, the weights, the
    candidates' recent offers in all, each candidate's fair share, the preferred partner."""

    tenant: dict[str, float]
    weights: dict[str, float]
    recent_total: int
    shares: dict[int, float]
    preferred_partner_id: int | None


def score(candidate: dict[str, Any], field: Field) -> dict[str, float]:
    stats, pid = candidate["stats"], candidate["partner_id"]
    capacity = max(stats["capacity"], 0)
    share = field.shares.get(pid, 0.0)
    actual = stats["recent"] / field.recent_total if field.recent_total else 0.0
    parts = {
        "acceptance": smoothed(stats["accepted"], stats["decided"], field.tenant["acceptance"]),
        "conversion": smoothed(stats["converted"], stats["accepted"], field.tenant["conversion"]),
        "headroom": max(capacity - stats["load"], 0) / capacity if capacity else 0.0,
        "fairness": max(share - actual, 0.0) / share if share else 0.0,
        "preferred": 1.0 if pid == field.preferred_partner_id else 0.0,
    }
    total = sum(float(field.weights.get(name, 0)) * parts[name] for name in SCORE_PARTS)
    total += PREFERRED_WEIGHT * parts["preferred"]
    return {name: round(value, 6) for name, value in {**parts, "total": total}.items()}


def credible(successes: float, trials: float, prior: float) -> float:
    """The smoothed rate, moved toward the prior by one standard error of a rate of `prior`
    over `trials + SMOOTHING` offers (never past it)."""
    rate = smoothed(successes, trials, prior)
    error = (max(prior * (1 - prior), 0.0) / (trials + SMOOTHING)) ** 0.5
    gap = rate - prior
    return prior + (max(gap - error, 0.0) if gap > 0 else min(gap + error, 0.0))


def fit_partner_ids(candidates: list[dict[str, Any]], steps: list[dict[str, Any]]) -> list[int]:
    """The partners that fit the lead: passing every rule the chain applied, except the
    momentary ones (capacity, not having declined). The fairness report's eligible set."""
    rules = [
        step["rule"]
        for step in steps
        if step["outcome"] in ("applied", "emptied") and step["rule"] not in MOMENTARY_RULES
    ]
    return [c["partner_id"] for c in candidates if all(c["rules"].get(r, False) for r in rules)]


MOMENTARY_RULES = ("capacity", "not_declined")


def fair_share_score(candidate: dict[str, Any], field: Field) -> dict[str, float]:
    stats, pid, weights = candidate["stats"], candidate["partner_id"], field.weights
    capacity = max(stats["capacity"], 0)
    tenant_acceptance = max(field.tenant["acceptance"], RATE_FLOOR)
    tenant_conversion = max(field.tenant["conversion"], RATE_FLOOR)
    acceptance = credible(stats["accepted"], stats["decided"], tenant_acceptance)
    conversion = credible(stats["converted"], stats["accepted"], tenant_conversion)

    def edge(rate: float, tenant: float) -> float:
        return min(max((rate - tenant) / tenant, -1.0), 1.0)

    target = 1.0 + float(weights.get("acceptance", 0)) * edge(acceptance, tenant_acceptance)
    target += float(weights.get("conversion", 0)) * edge(conversion, tenant_conversion)
    share_ratio = (stats["recent"] + 1.0) / (float(stats.get("expected", 0.0)) + 1.0)
    parts = {
        "acceptance": acceptance,
        "conversion": conversion,
        "target": target,
        "share_ratio": share_ratio,
        "fairness": target - share_ratio,
        "headroom": max(capacity - stats["load"], 0) / capacity if capacity else 0.0,
        "preferred": 1.0 if pid == field.preferred_partner_id else 0.0,
    }
    total = float(weights.get("fairness", 0)) * parts["fairness"]
    total += float(weights.get("headroom", 0)) * parts["headroom"]
    total += PREFERRED_WEIGHT * parts["preferred"]
    return {name: round(value, 6) for name, value in {**parts, "total": total}.items()}


def decide(facts: dict[str, Any]) -> Decision:
    candidates = facts["candidates"]
    left, steps = run_chain(candidates, facts["policy"]["rules"])
    if not left:
        return Decision(None, steps, {}, [])
    if facts["policy"].get("scoring", WEIGHTED) == FAIR_SHARE:
        return _decide_fair_share(facts, steps, left)
    remaining = [c for c in candidates if c["partner_id"] in left]
    capacity_total = sum(max(c["stats"]["capacity"], 0) for c in remaining)
    field = Field(
        tenant=facts["tenant"],
        weights=facts["policy"]["weights"],
        recent_total=sum(c["stats"]["recent"] for c in remaining),
        shares={
            c["partner_id"]: max(c["stats"]["capacity"], 0) / capacity_total
            if capacity_total
            else 0.0
            for c in remaining
        },
        preferred_partner_id=facts.get("preferred_partner_id"),
    )
    scores = {str(c["partner_id"]): score(c, field) for c in remaining}
    best = min(left, key=lambda pid: (-scores[str(pid)]["total"], pid))
    return Decision(best, steps, scores, left)


def _decide_fair_share(
    facts: dict[str, Any], steps: list[dict[str, Any]], left: list[int]
) -> Decision:
    field = Field(
        tenant=facts["tenant"],
        weights=facts["policy"]["weights"],
        recent_total=0,
        shares={},
        preferred_partner_id=facts.get("preferred_partner_id"),
    )
    remaining = [c for c in facts["candidates"] if c["partner_id"] in left]
    scores = {str(c["partner_id"]): fair_share_score(c, field) for c in remaining}
    best = min(left, key=lambda pid: (-scores[str(pid)]["total"], pid))
    return Decision(best, steps, scores, left)

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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SMOOTHING = 5.0
PREFERRED_WEIGHT = 1.0
SCORE_PARTS = ("acceptance", "conversion", "headroom", "fairness")


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


def decide(facts: dict[str, Any]) -> Decision:
    candidates = facts["candidates"]
    left, steps = run_chain(candidates, facts["policy"]["rules"])
    if not left:
        return Decision(None, steps, {}, [])
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

"""Routing simulator: does our router convert more leads than round robin and than a
geography-plus-weighted-random router, on the same leads, and how fair is each?

    make bench BENCH_ARGS=lead_routing
    make bench BENCH_ARGS="lead_routing --sim-leads 10000 --sim-partners 40 --sim-seed 1"

Generated partners (territories, specializations, capacities) each have a true acceptance
and conversion rate that the routers never see. Leads arrive 0.375 a day per partner (15 a
day among 40). Every router goes through the project's real code: the facts builder
(`leads.services.routing.facts_from`: rules, loads, capacities, the tenant's rates) and the
rule chain (`leads.routing.run_chain`); ours also through the decision
(`leads.routing.decide`) with the default policy (`leads.models.DEFAULT_RULE_CHAIN`, the
fair-share scoring and `DEFAULT_WEIGHTS`; and, for comparison, the weighted scoring with
`WEIGHTED_DEFAULT_WEIGHTS`, the router before). What differs is only the choice among the
partners the chain leaves: ours the best score; round robin the next partner in id order
after the last one offered a lead; geography + weighted random a random partner weighted by
its capacity. The chain already keeps to the lead's territory, capacity and never
re-offering a decliner, for all three alike.

Outcomes feed back as they would in the database: a partner answers an offer at once
(accept, or decline and the lead goes to the next candidate; after `max_hops` offers it goes
to the queue and is lost); an accepted lead is worked for 7–21 days (it counts against
capacity meanwhile), then converts or is disqualified. The counts `facts_from` reads (offers
decided / accepted / in the last 30 days, each partner's expected offers among the last 30
days' offers, leads working / converted per partner) are kept in memory in the shape the
service's queries return, instead of being read back from PostgreSQL (in process, for speed:
the same functions decide). Each partner's answer to a given lead is drawn once from (seed,
lead, partner), so all three routers meet the same partners' same answers.

Fairness is measured as the reports define it (`leads.reports.fairness_eligible`,
`capacity_gini`): at each decision, every partner that fits the lead (the chain's applied
rules except capacity and declines) expects its capacity's share of that offer."""

from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

COUNTRIES = (("US", 30), ("CA", 8), ("DE", 14), ("FR", 10), ("GB", 12), ("JP", 10), ("AU", 6))
REGION_OF = {"US": "NA", "CA": "NA", "DE": "EMEA", "FR": "EMEA", "GB": "EMEA", "JP": "APAC"}
REGION_OF["AU"] = "APAC"
LINES = ("cloud", "security", "data")
# Partners recruited where the leads are: NA 38 %, EMEA 36 %, APAC 26 % of the leads.
REGIONS = ("NA", "EMEA", "NA", "APAC", "EMEA", "NA", "EMEA", "APAC")
LEADS_PER_DAY_PER_PARTNER = 0.375  # 15 a day among 40 partners: most have headroom
RECENT_DAYS = 30.0


@dataclass(frozen=True)
class SimPartner:
    id: int
    territories: list[str]
    specializations: list[str]
    capacity: int
    accept_rate: float  # hidden from the routers
    convert_rate: float  # hidden from the routers

    def row(self) -> dict[str, Any]:
        """As routing_facts reads it (PARTNER_COLUMNS)."""
        return {
            "id": self.id,
            "name": f"Partner {self.id}",
            "territories": self.territories,
            "specializations": self.specializations,
            "lead_capacity": self.capacity,
            "tier__rank": 1,
            "tier__lead_capacity": self.capacity,
        }


@dataclass(frozen=True)
class SimLead:
    number: int
    day: float
    country: str
    lines: tuple[str, ...]
    work_days: float


def make_partners(count: int, seed: int, *, equal: bool = False) -> list[SimPartner]:
    """Partners spread over the regions (a third also serve a single extra country). With
    `equal`, all have the same true rates, capacity and reach (one region each)."""
    rng = random.Random(seed)
    partners = []
    for number in range(count):
        region = REGIONS[number % len(REGIONS)]
        territories = [region]
        if not equal and rng.random() < 0.33:
            territories.append(rng.choice([c for c, _ in COUNTRIES]))
        partners.append(
            SimPartner(
                id=number + 1,
                territories=territories,
                specializations=rng.sample(LINES, 1 if equal else rng.randint(1, 2)),
                capacity=8 if equal else rng.choice((5, 8, 12)),
                accept_rate=0.75 if equal else rng.uniform(0.45, 0.95),
                convert_rate=0.2 if equal else rng.uniform(0.04, 0.40),
            )
        )
    return partners


def make_leads(count: int, seed: int, *, partners: int) -> list[SimLead]:
    rng = random.Random(seed * 7919 + 1)
    per_day = LEADS_PER_DAY_PER_PARTNER * partners
    countries = [c for c, _ in COUNTRIES]
    weights = [w for _, w in COUNTRIES]
    return [
        SimLead(
            number=n,
            day=n / per_day,
            country=rng.choices(countries, weights)[0],
            lines=(rng.choice(LINES),),
            work_days=rng.uniform(7, 21),
        )
        for n in range(count)
    ]


def draw(seed: int, lead: int, partner: int, what: str) -> float:
    """The same uniform number for a partner meeting a lead, whichever router sent it."""
    return random.Random(f"{seed}:{lead}:{partner}:{what}").random()


@dataclass
class Books:
    """The counts the routing service reads from the database, kept in memory."""

    offers: dict[int, dict[str, Any]] = field(default_factory=dict)
    leads: dict[int, dict[str, int]] = field(default_factory=dict)
    recent: dict[int, list[float]] = field(default_factory=dict)  # offer days, per partner
    due: list[tuple[float, int, int, bool]] = field(default_factory=list)  # outcome heap
    # Each recent offer's fair shares (day, {partner: share}) and their sums per partner:
    # the expected offers the service sums from the stored decisions of the last 30 days.
    shares: deque[tuple[float, dict[int, float]]] = field(default_factory=deque)
    expected: dict[int, float] = field(default_factory=dict)

    def offer_stats(self, day: float) -> dict[int, dict[str, Any]]:
        for pid, days in self.recent.items():
            while days and days[0] < day - RECENT_DAYS:
                days.pop(0)
            self.offers[pid]["recent"] = len(days)
        while self.shares and self.shares[0][0] < day - RECENT_DAYS:
            for pid, share in self.shares.popleft()[1].items():
                self.expected[pid] -= share
        for pid, expected in self.expected.items():
            self._stats(pid)["expected"] = max(expected, 0.0)
        return self.offers

    def _stats(self, pid: int) -> dict[str, Any]:
        empty = {"decided": 0, "accepted": 0, "open": 0, "recent": 0, "no_capacity": 0}
        return self.offers.setdefault(pid, {**empty, "expected": 0.0})

    def fair_shares(self, day: float, eligible: list[tuple[int, float]]) -> None:
        total = sum(capacity for _, capacity in eligible)
        if not total:
            return
        shares = {pid: capacity / total for pid, capacity in eligible}
        self.shares.append((day, shares))
        for pid, share in shares.items():
            self.expected[pid] = self.expected.get(pid, 0.0) + share

    def offered(self, pid: int, day: float, accepted: bool) -> None:
        stats = self._stats(pid)
        stats["decided"] += 1
        stats["accepted"] += int(accepted)
        self.recent.setdefault(pid, []).append(day)
        if accepted:
            self.leads.setdefault(pid, {"working": 0, "converted": 0})["working"] += 1

    def resolve_until(self, day: float) -> int:
        """Outcomes that arrived by `day`; returns how many converted."""
        converted = 0
        while self.due and self.due[0][0] <= day:
            _, _, pid, won = heapq.heappop(self.due)
            self.leads[pid]["working"] -= 1
            if won:
                self.leads[pid]["converted"] += 1
                converted += 1
        return converted


@dataclass
class Outcome:
    name: str
    conversions: int = 0
    accepted: int = 0
    queued: int = 0
    offers: dict[int, int] = field(default_factory=dict)
    expected: dict[int, float] = field(default_factory=dict)

    def gini(self) -> float:
        from leads.reports import capacity_gini

        rows = [(self.offers.get(pid, 0), e) for pid, e in self.expected.items()]
        return capacity_gini(rows) or 0.0

    def ratios(self) -> dict[int, float]:
        total_x, total_e = sum(self.offers.values()), sum(self.expected.values())
        return {
            pid: (self.offers.get(pid, 0) / total_x) / (e / total_e)
            for pid, e in self.expected.items()
            if e > 0
        }


class Chooser:
    """Picks among the partners the chain left; ours scores, the baselines do not."""

    name = ""

    def choose(self, facts: dict[str, Any], left: list[int]) -> int:
        raise NotImplementedError


class Ours(Chooser):
    """Our decision (`leads.routing.decide`) under a scoring; the policy's weights are the
    model's defaults for it unless given."""

    name = "our router"

    def __init__(
        self, scoring: str = "fair_share", weights: dict[str, float] | None = None
    ) -> None:
        from leads.models import DEFAULT_WEIGHTS, WEIGHTED_DEFAULT_WEIGHTS

        self.scoring = scoring
        defaults = DEFAULT_WEIGHTS if scoring == "fair_share" else WEIGHTED_DEFAULT_WEIGHTS
        self.weights = dict(weights or defaults)
        if scoring != "fair_share":
            self.name = f"our router, {scoring} (before)"

    def choose(self, facts: dict[str, Any], left: list[int]) -> int:
        from leads.routing import decide

        decision = decide(facts)
        assert decision.partner_id is not None
        assert decision.remaining == left
        return decision.partner_id


class RoundRobin(Chooser):
    name = "round robin"

    def __init__(self) -> None:
        self.last = 0

    def choose(self, facts: dict[str, Any], left: list[int]) -> int:
        after = [pid for pid in sorted(left) if pid > self.last]
        self.last = after[0] if after else min(left)
        return self.last


class GeoWeightedRandom(Chooser):
    name = "geography + weighted random"

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choose(self, facts: dict[str, Any], left: list[int]) -> int:
        capacity = {c["partner_id"]: c["stats"]["capacity"] for c in facts["candidates"]}
        return self.rng.choices(left, [max(capacity[pid], 1) for pid in left])[0]


def simulate(
    chooser: Chooser,
    partners: list[SimPartner],
    leads: list[SimLead],
    *,
    seed: int,
) -> Outcome:
    from leads.models import DEFAULT_RULE_CHAIN
    from leads.reports import fairness_eligible
    from leads.routing import run_chain
    from leads.services.routing import LeadKeys, facts_from

    policy = {
        "version": 1,
        "rules": [dict(step) for step in DEFAULT_RULE_CHAIN],
        "weights": getattr(chooser, "weights", {}),
        "scoring": getattr(chooser, "scoring", "fair_share"),
        "minimum_tier_rank": 0,
        "max_hops": 3,
    }
    rows = [p.row() for p in partners]
    by_id = {p.id: p for p in partners}
    books, outcome = Books(), Outcome(chooser.name)
    for lead in leads:
        outcome.conversions += books.resolve_until(lead.day)
        declined: set[int] = set()
        for _ in range(policy["max_hops"]):
            keys = LeadKeys(
                lead.country, REGION_OF[lead.country], frozenset(lead.lines), frozenset(declined), 0
            )
            facts = facts_from(
                partners=rows,
                keys=keys,
                offers=books.offer_stats(lead.day),
                leads=books.leads,
                certified={},
                lead={"country": lead.country, "region": "", "product_lines": list(lead.lines)},
                policy_data=policy,
            )
            left, steps = run_chain(facts["candidates"], policy["rules"])
            if not left:
                break
            pid = chooser.choose(facts, left)
            eligible = fairness_eligible(facts, steps)
            _count_fair_share(outcome, eligible, pid)
            books.fair_shares(lead.day, eligible)
            partner = by_id[pid]
            accepted = draw(seed, lead.number, pid, "accept") < partner.accept_rate
            books.offered(pid, lead.day, accepted)
            if accepted:
                won = draw(seed, lead.number, pid, "convert") < partner.convert_rate
                heapq.heappush(books.due, (lead.day + lead.work_days, lead.number, pid, won))
                outcome.accepted += 1
                break
            declined.add(pid)
        else:
            outcome.queued += 1
            continue
        if not left:
            outcome.queued += 1
    outcome.conversions += books.resolve_until(float("inf"))
    return outcome


def _count_fair_share(outcome: Outcome, eligible: list[tuple[int, float]], pid: int) -> None:
    total = sum(capacity for _, capacity in eligible)
    if not total:
        return
    for p, capacity in eligible:
        outcome.expected[p] = outcome.expected.get(p, 0.0) + capacity / total
    outcome.offers[pid] = outcome.offers.get(pid, 0) + 1


def compare(*, partners: int, leads: int, seed: int, equal: bool = False) -> dict[str, Outcome]:
    people = make_partners(partners, seed, equal=equal)
    stream = make_leads(leads, seed, partners=partners)
    return {
        chooser.name: simulate(chooser, people, stream, seed=seed)
        for chooser in (Ours(), Ours("weighted"), RoundRobin(), GeoWeightedRandom(seed))
    }


def report(results: dict[str, Outcome], *, equal: bool) -> list[str]:
    ours = results["our router"]
    lines = []
    for name, result in results.items():
        ratios = result.ratios().values()
        lift = (
            ""
            if result is ours
            else f", ours {100 * (ours.conversions / result.conversions - 1):+.1f} %"
        )
        lines.append(
            f"  {name:33} conversions {result.conversions:5d} (accepted {result.accepted:5d},"
            f" queued {result.queued:4d}), Gini {result.gini():.3f},"
            f" share ratios {min(ratios):.2f}–{max(ratios):.2f}{lift}"
        )
    return lines


def goals(results: dict[str, Outcome], *, equal: bool) -> dict[str, bool]:
    """Issue 12's goals: ≥ 15 % more conversions than both baselines and a Gini ≤ 0.15;
    with equally good partners, every share ratio within 1.00 ± 0.10."""
    ours = results["our router"]
    if equal:
        return {
            "share ratios within 1.00 ± 0.10": all(0.9 <= r <= 1.1 for r in ours.ratios().values())
        }
    return {
        "≥ 15 % more than round robin": ours.conversions
        >= 1.15 * results["round robin"].conversions,
        "≥ 15 % more than geography + weighted random": ours.conversions
        >= 1.15 * results["geography + weighted random"].conversions,
        "Gini ≤ 0.15": ours.gini() <= 0.15,
    }


def run(*, partners: int, leads: int, seed: int) -> None:
    print(f"lead routing simulator: {leads} leads, {partners} partners, seed {seed}")
    print(" partners of different true rates:")
    different = compare(partners=partners, leads=leads, seed=seed)
    for line in report(different, equal=False):
        print(line)
    print(" equally good partners:")
    equal = compare(partners=partners, leads=leads, seed=seed, equal=True)
    for line in report(equal, equal=True):
        print(line)
    met = {**goals(different, equal=False), **goals(equal, equal=True)}
    for goal, ok in met.items():
        print(f" goal {goal}: {'met' if ok else 'NOT met'}")

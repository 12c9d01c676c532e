"""The lead reports, each figure defined once here (the page shows these definitions):

- **Funnel**, counted per offer made in the period (a lead offered to two partners counts
  once for each): offered → accepted (the offer was accepted) → contacted (that partner then
  recorded progress: contacted, qualified or converted) → converted (into a registration) →
  registration approved (its decision is an approval, even if it later expired or was
  withdrawn) → won (its opportunity is won). A step counts only offers that reached the one
  before. Step rate = the step's count ÷ the previous step's count. Step time = the median
  hours (elapsed) from the previous step's moment: the offer, its acceptance, the lead's
  first progress, its conversion, the registration's approval, the opportunity's last move
  to won. By partner, tier (the partner's tier today) and the lead's source.
- **Lead response**: median and 90th percentile (linear interpolation, as PostgreSQL's
  `percentile_cont`) of the time from offer to acceptance, in **business hours** of the
  routing policy's calendar, the same hours the acceptance window counts.
- **Fairness**: for each offer made in the period, the partners that fit the lead were
  eligible for it: those passing every rule the chain applied to that decision, except the
  momentary ones (being below capacity, not having declined the lead), as the decision
  stored them; each with a fair share = its capacity ÷ the eligible partners' capacity. A
  partner's expected offers E = Σ of its fair shares; its offers X; its share of leads
  X ÷ ΣX against its share of eligible capacity E ÷ ΣE; its ratio
  R = (X ÷ ΣX) ÷ (E ÷ ΣE) (1.00 = exactly its share). A partner kept at capacity by its
  leads still counts as eligible, so filling the best partners up is not unfair by itself.
  **Capacity-adjusted Gini** G = Σᵢ Σⱼ Eᵢ Eⱼ |Rᵢ − Rⱼ| ÷ (2 (ΣE)² R̄), R̄ = Σ Eᵢ Rᵢ ÷ ΣE
  (= 1): the Gini of the partners' ratios, each weighted by its eligible capacity. 0: every
  partner got leads in proportion to its eligible capacity; towards 1: a few got them all.

Set-based: one statement for the funnel and the response of every grouping (GROUPING
SETS), one for the fairness shares (from the decisions' stored candidates); Python only
labels the rows and sorts the partners for the Gini.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from leads.business_hours import BusinessCalendar
from leads.routing import fit_partner_ids
from partners.models import PartnerOrganization, PartnerTier

STEPS: tuple[tuple[str, str], ...] = (
    ("offered", "Offered"),
    ("accepted", "Accepted"),
    ("contacted", "Contacted"),
    ("converted", "Converted"),
    ("approved", "Registration approved"),
    ("won", "Won"),
)
STEP_CODES = tuple(code for code, _ in STEPS)
GROUPINGS: tuple[tuple[str, str], ...] = (
    ("partner", "Partner"),
    ("tier", "Tier"),
    ("source", "Source"),
)
NO_SOURCE = "(no source)"
GINI_FORMULA = (
    "G = Σᵢ Σⱼ Eᵢ Eⱼ |Rᵢ − Rⱼ| ÷ (2 (ΣE)² R̄), where Eᵢ is partner i's expected offers "
    "(the sum of its capacity shares of the offers whose lead it fit) and Rᵢ its share of "
    "the offers ÷ its share of eligible capacity. 0: every partner got leads in proportion "
    "to its eligible capacity."
)


def fairness_eligible(
    facts: dict[str, Any], steps: list[dict[str, Any]]
) -> list[tuple[int, float]]:
    """(partner id, capacity) of the partners that fit a decision's lead, as defined above
    (`leads.routing.fit_partner_ids`: the rules about the moment, `MOMENTARY_RULES`, do
    not count); FAIRNESS_SQL computes the same from the stored decisions."""
    fit = set(fit_partner_ids(facts["candidates"], steps))
    return [
        (c["partner_id"], max(float(c["stats"]["capacity"]), 0.0))
        for c in facts["candidates"]
        if c["partner_id"] in fit
    ]


@dataclass(frozen=True)
class ReportQuery:
    tenant_id: int
    since: datetime
    until: datetime
    calendar: BusinessCalendar
    partner_id: int | None = None
    tier_id: int | None = None
    source: str | None = None


@dataclass(frozen=True)
class FunnelRow:
    key: str  # partner or tier id, the source; "" for all
    label: str
    counts: dict[str, int]
    rates: dict[str, float | None]  # step (accepted on) → count ÷ the previous step's
    hours: dict[str, float | None]  # step (accepted on) → median hours since the previous
    response_median: float | None  # business hours from offer to acceptance
    response_p90: float | None


@dataclass(frozen=True)
class FairnessRow:
    partner_id: int
    label: str
    offers: int
    expected: float
    lead_share: float | None
    capacity_share: float | None
    ratio: float | None


@dataclass
class LeadReport:
    query: ReportQuery
    total: FunnelRow
    groups: dict[str, list[FunnelRow]] = field(default_factory=dict)
    fairness: list[FairnessRow] = field(default_factory=list)
    gini: float | None = None


# --- Funnel and response --------------------------------------------------------------------

# Each step's moment, NULL unless the offer reached it (and every step before it).
_ACCEPTED = "o.status = 'accepted'"
_CONTACTED = f"{_ACCEPTED} AND l.partner_id = o.partner_id AND l.contacted_at IS NOT NULL"
_CONVERTED = f"{_CONTACTED} AND l.converted_at IS NOT NULL AND l.registration_id IS NOT NULL"
_APPROVED = f"{_CONVERTED} AND r.decision_code = 'approved' AND r.decided_at IS NOT NULL"
_WON = f"{_APPROVED} AND opp.status = 'won'"

FUNNEL_SQL = """
WITH offers AS (
  SELECT o.partner_id, p.tier_id, l.source, o.offered_at,
    CASE WHEN {accepted} THEN o.decided_at END AS accepted_at,
    CASE WHEN {contacted} THEN l.contacted_at END AS contacted_at,
    CASE WHEN {converted} THEN l.converted_at END AS converted_at,
    CASE WHEN {approved} THEN r.decided_at END AS approved_at,
    ({won}) IS TRUE AS won,
    CASE WHEN {won} THEN (
      SELECT max(m.created_at) FROM pipeline_stagemove m
      WHERE m.tenant_id = o.tenant_id AND m.opportunity_id = opp.id AND m.to_status = 'won'
    ) END AS won_at
  FROM leads_leadoffer o
  JOIN leads_lead l ON l.id = o.lead_id AND l.tenant_id = o.tenant_id
  JOIN partners_partnerorganization p ON p.id = o.partner_id AND p.tenant_id = o.tenant_id
  LEFT JOIN deals_dealregistration r ON r.id = l.registration_id AND r.tenant_id = o.tenant_id
  LEFT JOIN pipeline_opportunity opp ON opp.id = r.opportunity_id AND opp.tenant_id = o.tenant_id
  WHERE o.tenant_id = %(tenant)s AND o.offered_at >= %(since)s AND o.offered_at < %(until)s
    AND (%(partner)s::bigint IS NULL OR o.partner_id = %(partner)s::bigint)
    AND (%(tier)s::bigint IS NULL OR p.tier_id = %(tier)s::bigint)
    AND (%(source)s::text IS NULL OR l.source = %(source)s::text)
), timed AS (
  SELECT *, {response} AS response_hours FROM offers
)
SELECT GROUPING(partner_id, tier_id, source) AS grouping, partner_id, tier_id, source,
  count(*) AS offered, count(accepted_at) AS accepted, count(contacted_at) AS contacted,
  count(converted_at) AS converted, count(approved_at) AS approved,
  count(*) FILTER (WHERE won) AS won,
  {medians},
  percentile_cont(0.5) WITHIN GROUP (ORDER BY response_hours) AS response_median,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY response_hours) AS response_p90
FROM timed
GROUP BY GROUPING SETS ((partner_id), (tier_id), (source), ())
"""

# Business hours from the offer to its acceptance: each local day of the span that is a
# working day contributes its overlap with [day starts, day ends), as BusinessCalendar does.
BUSINESS_HOURS_SQL = """
CASE WHEN accepted_at IS NOT NULL THEN (
  SELECT coalesce(sum(greatest(0, extract(epoch FROM
      least(accepted_at, (d + make_interval(hours => %(ends)s)) AT TIME ZONE %(zone)s)
    - greatest(offered_at, (d + make_interval(hours => %(starts)s)) AT TIME ZONE %(zone)s)
  ))), 0) / 3600.0
  FROM generate_series(date_trunc('day', offered_at AT TIME ZONE %(zone)s),
                       date_trunc('day', accepted_at AT TIME ZONE %(zone)s),
                       interval '1 day') AS d
  WHERE extract(isodow FROM d)::int - 1 = ANY(%(days)s::int[])
) END"""
PLAIN_HOURS_SQL = "extract(epoch FROM accepted_at - offered_at) / 3600.0"

# (step, the moment it is measured from, its own moment)
STEP_TIMES = (
    ("accepted", "offered_at", "accepted_at"),
    ("contacted", "accepted_at", "contacted_at"),
    ("converted", "contacted_at", "converted_at"),
    ("approved", "converted_at", "approved_at"),
    ("won", "approved_at", "won_at"),
)


def _funnel_sql(calendar: BusinessCalendar) -> str:
    medians = ",\n  ".join(
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM {end} - {start}) "
        f"/ 3600.0) AS hours_{step}"
        for step, start, end in STEP_TIMES
    )
    return FUNNEL_SQL.format(
        accepted=_ACCEPTED,
        contacted=_CONTACTED,
        converted=_CONVERTED,
        approved=_APPROVED,
        won=_WON,
        medians=medians,
        response=BUSINESS_HOURS_SQL if calendar.working_days else PLAIN_HOURS_SQL,
    )


def _params(query: ReportQuery) -> dict[str, Any]:
    calendar = query.calendar
    return {
        "tenant": query.tenant_id,
        "since": query.since,
        "until": query.until,
        "partner": query.partner_id,
        "tier": query.tier_id,
        "source": query.source,
        "zone": calendar.time_zone,
        "days": list(calendar.working_days),
        "starts": calendar.starts_at,
        "ends": calendar.ends_at,
    }


def _rows(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _rate(count: int, before: int) -> float | None:
    return count / before if before else None


def funnel_row(key: str, label: str, row: dict[str, Any]) -> FunnelRow:
    counts = {code: int(row[code]) for code in STEP_CODES}
    return FunnelRow(
        key=key,
        label=label,
        counts=counts,
        rates={
            code: _rate(counts[code], counts[before])
            for before, code in zip(STEP_CODES, STEP_CODES[1:], strict=False)
        },
        hours={step: _float(row[f"hours_{step}"]) for step, _, _ in STEP_TIMES},
        response_median=_float(row["response_median"]),
        response_p90=_float(row["response_p90"]),
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


EMPTY = {
    **{code: 0 for code in STEP_CODES},
    **{f"hours_{step}": None for step, _, _ in STEP_TIMES},
    "response_median": None,
    "response_p90": None,
}

# GROUPING(partner_id, tier_id, source) is a bit mask, 1 where the column is aggregated away
GROUPING_BITS = {"partner": 0b011, "tier": 0b101, "source": 0b110, "total": 0b111}


def funnel(query: ReportQuery) -> tuple[FunnelRow, dict[str, list[FunnelRow]]]:
    rows = _rows(_funnel_sql(query.calendar), _params(query))
    by_set: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_set.setdefault(row["grouping"], []).append(row)
    totals = by_set.get(GROUPING_BITS["total"], [EMPTY])
    partners = _partner_names(
        [r["partner_id"] for r in by_set.get(GROUPING_BITS["partner"], [])], query.tenant_id
    )
    tier_ids = [r["tier_id"] for r in by_set.get(GROUPING_BITS["tier"], [])]
    tiers = dict(
        PartnerTier.objects.for_tenant(query.tenant_id)
        .filter(pk__in=tier_ids)
        .values_list("pk", "name")
    )
    groups = {
        "partner": [
            funnel_row(str(r["partner_id"]), partners.get(r["partner_id"], "?"), r)
            for r in by_set.get(GROUPING_BITS["partner"], [])
        ],
        "tier": [
            funnel_row(str(r["tier_id"]), tiers.get(r["tier_id"], "?"), r)
            for r in by_set.get(GROUPING_BITS["tier"], [])
        ],
        "source": [
            funnel_row(r["source"], r["source"] or NO_SOURCE, r)
            for r in by_set.get(GROUPING_BITS["source"], [])
        ],
    }
    for rows_of in groups.values():
        rows_of.sort(key=lambda row: (-row.counts["offered"], row.label.lower(), row.key))
    return funnel_row("", "All", totals[0]), groups


def _partner_names(ids: Sequence[int], tenant_id: int) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        PartnerOrganization.objects.for_tenant(tenant_id)
        .filter(pk__in=ids)
        .values_list("pk", "name")
    )


# --- Fairness -------------------------------------------------------------------------------

FAIRNESS_SQL = """
SELECT s.partner_id, sum(s.share) AS expected, count(*) FILTER (WHERE s.chosen) AS offers
FROM leads_leadoffershare s
WHERE s.tenant_id = %(tenant)s AND s.offered_at >= %(since)s AND s.offered_at < %(until)s
  AND (%(source)s::text IS NULL OR EXISTS (
    SELECT 1 FROM leads_leadoffer o JOIN leads_lead l ON l.id = o.lead_id
    WHERE o.id = s.offer_id AND l.tenant_id = s.tenant_id AND l.source = %(source)s::text
  ))
GROUP BY s.partner_id
"""


def expected_offers_since(tenant_id: int, since: datetime) -> dict[int, float]:
    """Each partner's expected offers E (as defined above) among the offers made since
    `since`: what the fair-share routing steers each partner's offers toward."""
    until = datetime.max.replace(tzinfo=UTC)
    params = {"tenant": tenant_id, "since": since, "until": until, "source": None}
    return {int(r["partner_id"]): float(r["expected"]) for r in _rows(FAIRNESS_SQL, params)}


def capacity_gini(rows: Sequence[tuple[float, float]]) -> float | None:
    """G of (offers X, expected offers E) per partner, as the module defines it; None when
    no partner was eligible or nobody got an offer. Sorted by ratio, the double sum is
    2 Σᵢ Eᵢ (Rᵢ Σⱼ Eⱼ − Σⱼ Eⱼ Rⱼ) over the partners j before i: linear after the sort."""
    rows = [(float(x), float(e)) for x, e in rows if e > 0]
    total_x, total_e = sum(x for x, _ in rows), sum(e for _, e in rows)
    if not rows or total_x <= 0:
        return None
    ratios = sorted(((x / total_x) / (e / total_e), e) for x, e in rows)
    mean = sum(r * e for r, e in ratios) / total_e
    double_sum = weight_before = weighted_before = 0.0
    for ratio, weight in ratios:
        double_sum += 2 * weight * (ratio * weight_before - weighted_before)
        weight_before += weight
        weighted_before += weight * ratio
    return double_sum / (2 * total_e**2 * mean)


def fairness(query: ReportQuery) -> tuple[list[FairnessRow], float | None]:
    """Every eligible partner's share of the period's offers against its share of eligible
    capacity, and the Gini over them all; the tier and partner filters narrow the rows
    shown, never the Gini."""
    rows = _rows(FAIRNESS_SQL, _params(query))
    total_x = sum(int(r["offers"]) for r in rows)
    total_e = sum(float(r["expected"]) for r in rows)
    gini = capacity_gini([(int(r["offers"]), float(r["expected"])) for r in rows])
    shown = PartnerOrganization.objects.for_tenant(query.tenant_id).filter(
        pk__in=[r["partner_id"] for r in rows]
    )
    if query.partner_id is not None:
        shown = shown.filter(pk=query.partner_id)
    if query.tier_id is not None:
        shown = shown.filter(tier_id=query.tier_id)
    names = dict(shown.values_list("pk", "name"))
    result = []
    for row in rows:
        if row["partner_id"] not in names:
            continue
        offers, expected = int(row["offers"]), float(row["expected"])
        lead_share = offers / total_x if total_x else None
        capacity_share = expected / total_e if total_e else None
        ratio = lead_share / capacity_share if lead_share is not None and capacity_share else None
        result.append(
            FairnessRow(
                row["partner_id"],
                names[row["partner_id"]],
                offers,
                expected,
                lead_share,
                capacity_share,
                ratio,
            )
        )
    result.sort(key=lambda r: (-(r.ratio or 0), r.label.lower(), r.partner_id))
    return result, gini


def lead_report(query: ReportQuery) -> LeadReport:
    total, groups = funnel(query)
    rows, gini = fairness(query)
    return LeadReport(query=query, total=total, groups=groups, fairness=rows, gini=gini)

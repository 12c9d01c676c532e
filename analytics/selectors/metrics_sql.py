"""The SQL behind the effectiveness metrics (analytics/selectors/metrics.py defines them).

Each figure is one query: a *facts* subquery (one row per registration, deal, stage visit
or stage entry, with the deal's partner, owner and registration), narrowed to the asker's
scope and filters in the `scoped` CTE, then aggregated once per grouping and unioned:

    dim          key                        rows
    total        ''                         one, even when empty
    partner      partner id                 one per partner with facts
    tier         tier id                    the partner's tier
    region       region code                the partner's region
    product_line product line id            the registration's lines (a deal may count twice)
    stage        stage id                   velocity and conversion only
    partner_stage "partner id:stage id"     the same per partner (for the partners' median)

Metrics cover partner deals; the vendor's direct deals are no partner's pipeline.
"""

# ruff: noqa: S608  (SQL assembled from this module's constants only; every value is a parameter)

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

REGISTRATION = "LEFT JOIN deals_dealregistration r ON r.opportunity_id = o.id"
FULLY_QUALIFIED = (
    "({t}.budget_confirmed AND {t}.decision_maker AND btrim({t}.need, E' \\t\\r\\n') <> ''"
    " AND btrim({t}.timeline, E' \\t\\r\\n') <> '')"
)
# A close-date change that moves the date into a later calendar month (ISO text compares).
PUSH = (
    "c.field = 'expected_close_date' AND c.old_value <> '' AND c.new_value <> ''"
    " AND left(c.new_value, 7) > left(c.old_value, 7)"
)

FACTS = {
    "qualification": f"""
        SELECT r.partner_id, r.owner_id, r.id AS registration_id,
               {FULLY_QUALIFIED.format(t="r")} AS qualified
        FROM deals_dealregistration r
        WHERE r.tenant_id = %(tenant)s
          AND r.first_submitted_at >= %(start)s AND r.first_submitted_at < %(end)s""",
    # Each move ends the visit the previous move of the deal began (one ordered pass over the
    # tenant's moves along the (tenant, opportunity, created_at) index; no per-row lookups).
    "velocity": f"""
        SELECT o.partner_id, o.owner_id, r.id AS registration_id, v.stage_id,
               EXTRACT(EPOCH FROM (v.created_at - v.entered_at)) / 86400 AS days
        FROM (
            SELECT m.opportunity_id, m.created_at,
                   lag(m.created_at) OVER visit AS entered_at,
                   lag(m.to_stage_id) OVER visit AS stage_id
            FROM pipeline_stagemove m
            WHERE m.tenant_id = %(tenant)s AND m.created_at < %(end)s
            WINDOW visit AS (PARTITION BY m.opportunity_id ORDER BY m.created_at, m.id)
        ) v
        JOIN pipeline_stage st ON st.id = v.stage_id AND st.kind = 'open'
        JOIN pipeline_opportunity o ON o.id = v.opportunity_id AND o.partner_id IS NOT NULL
        {REGISTRATION}
        WHERE v.created_at >= %(start)s""",
    # A deal's first entry into an open stage in the period converts when a later move (at
    # any time) enters a stage further on that is not Closed Lost (the period's moves along
    # the (tenant, created_at) index; the later moves looked up per entry, never the whole
    # history).
    "conversion": f"""
        SELECT o.partner_id, o.owner_id, r.id AS registration_id, e.stage_id,
               COALESCE(later.furthest > e.position, false) AS converted
        FROM (
            SELECT DISTINCT ON (m.opportunity_id, m.to_stage_id)
                   m.opportunity_id, m.to_stage_id AS stage_id, m.created_at, m.id, s.position
            FROM pipeline_stagemove m
            JOIN pipeline_stage s ON s.id = m.to_stage_id AND s.kind = 'open'
            WHERE m.tenant_id = %(tenant)s
              AND m.created_at >= %(start)s AND m.created_at < %(end)s
            ORDER BY m.opportunity_id, m.to_stage_id, m.created_at, m.id
        ) e
        JOIN pipeline_opportunity o ON o.id = e.opportunity_id AND o.partner_id IS NOT NULL
        CROSS JOIN LATERAL (
            SELECT max(s.position) AS furthest
            FROM pipeline_stagemove l JOIN pipeline_stage s ON s.id = l.to_stage_id
            WHERE l.tenant_id = %(tenant)s AND l.opportunity_id = e.opportunity_id
              AND s.kind <> 'lost' AND (l.created_at, l.id) > (e.created_at, e.id)
        ) later
        {REGISTRATION}""",
    "closed": f"""
        SELECT o.partner_id, o.owner_id, r.id AS registration_id, o.status, o.amount,
               abs(o.closed_on - COALESCE(fc.close_date, r.expected_close_date))
                   AS close_date_miss
        FROM pipeline_opportunity o
        {REGISTRATION}
        LEFT JOIN LATERAL (
            SELECT COALESCE(NULLIF(c.old_value, ''), c.new_value)::date AS close_date
            FROM pipeline_fieldchange c
            WHERE c.tenant_id = o.tenant_id AND c.opportunity_id = o.id
              AND c.field = 'expected_close_date' AND (c.old_value <> '' OR c.new_value <> '')
            ORDER BY c.changed_at, c.id LIMIT 1
        ) fc ON o.status = 'won'
        WHERE o.tenant_id = %(tenant)s AND o.partner_id IS NOT NULL
          AND o.status IN ('won', 'lost')
          AND o.closed_on >= %(start_day)s AND o.closed_on < %(end_day)s""",
    "age": f"""
        SELECT o.partner_id, o.owner_id, r.id AS registration_id, o.amount,
               o.created_at < %(now)s - %(cycle)s * interval '1 day' AS old
        FROM pipeline_opportunity o
        {REGISTRATION}
        WHERE o.tenant_id = %(tenant)s AND o.partner_id IS NOT NULL
          AND o.status = 'open' AND o.amount IS NOT NULL""",
    "push": f"""
        SELECT o.partner_id, o.owner_id, r.id AS registration_id,
               pushed.opportunity_id IS NOT NULL AS pushed
        FROM pipeline_opportunity o
        {REGISTRATION}
        LEFT JOIN (
            SELECT DISTINCT c.opportunity_id FROM pipeline_fieldchange c
            WHERE c.tenant_id = %(tenant)s AND {PUSH}
              AND c.changed_at >= %(start)s AND c.changed_at < %(end)s
        ) pushed ON pushed.opportunity_id = o.id
        WHERE o.tenant_id = %(tenant)s AND o.partner_id IS NOT NULL
          AND o.created_at < %(end)s AND (o.closed_on IS NULL OR o.closed_on >= %(start_day)s)""",
}


def _share(condition: str, among: str = "TRUE") -> str:
    """A percentage: rows meeting `condition` among the rows meeting `among`."""
    return (
        f"100.0 * count(*) FILTER (WHERE ({among}) AND ({condition}))"
        f" / NULLIF(count(*) FILTER (WHERE {among}), 0)"
    )


AGGREGATES = {
    "qualification": {
        "qualification_rate": _share("qualified"),
        "qualification_rate_n": "count(*)",
    },
    "velocity": {
        "stage_days": "percentile_cont(0.5) WITHIN GROUP (ORDER BY days)",
        "stage_days_n": "count(*)",
    },
    "conversion": {
        "conversion_rate": _share("converted"),
        "conversion_rate_n": "count(*)",
    },
    "closed": {
        "win_rate": _share("status = 'won'"),
        "win_rate_n": "count(*)",
        "average_deal_size": "avg(amount) FILTER (WHERE status = 'won')",
        "average_deal_size_n": "count(*) FILTER (WHERE status = 'won')",
        "close_date_accuracy": _share(
            "close_date_miss <= %(tolerance)s", "status = 'won' AND close_date_miss IS NOT NULL"
        ),
        "close_date_accuracy_n": (
            "count(*) FILTER (WHERE status = 'won' AND close_date_miss IS NOT NULL)"
        ),
    },
    "age": {
        "pipeline_age": "100.0 * sum(amount) FILTER (WHERE old) / NULLIF(sum(amount), 0)",
        "pipeline_age_n": "count(*)",
    },
    "push": {
        "push_rate": _share("pushed"),
        "push_rate_n": "count(*)",
    },
}

PRODUCT_LINES = (
    "JOIN deals_dealregistration_product_lines x"
    " ON x.dealregistration_id = s.registration_id AND x.tenant_id = %(tenant)s"
)
# dim: (key as text, join, what to group by). Grouping by the ids themselves (not their
# text) sorts integers instead of collating strings; the groups are the same.
DIMENSIONS = {
    "total": ("''", "", ""),
    "partner": ("s.partner_id::text", "", "s.partner_id"),
    "tier": ("s.tier_id::text", "", "s.tier_id"),
    "region": ("s.region::text", "", "s.region"),
    "product_line": ("x.productline_id::text", PRODUCT_LINES, "x.productline_id"),
    "stage": ("s.stage_id::text", "", "s.stage_id"),
    "partner_stage": ("s.partner_id || ':' || s.stage_id", "", "s.partner_id, s.stage_id"),
}
STAGE_DIMENSIONS = frozenset({"stage", "partner_stage"})
STAGE_FACTS = frozenset({"velocity", "conversion"})


@dataclass(frozen=True)
class Scope:
    """Whose facts count: the tenant, narrowed to a partner (partner people), an owner
    (partner reps) and the filters; `params` are the period's and figures' parameters."""

    tenant_id: int
    partner_id: int | None = None
    owner_id: int | None = None
    tier_id: int | None = None
    region: str = ""
    product_line_id: int | None = None

    def where(self) -> str:
        conditions = ["TRUE"]
        if self.partner_id is not None:
            conditions.append("f.partner_id = %(partner)s")
        if self.owner_id is not None:
            conditions.append("f.owner_id = %(owner)s")
        if self.tier_id is not None:
            conditions.append("p.tier_id = %(tier)s")
        if self.region:
            conditions.append("p.region = %(region)s")
        if self.product_line_id is not None:
            conditions.append(
                "EXISTS (SELECT 1 FROM deals_dealregistration_product_lines y"
                " WHERE y.dealregistration_id = f.registration_id"
                " AND y.productline_id = %(product_line)s)"
            )
        return " AND ".join(conditions)

    def params(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id,
            "partner": self.partner_id,
            "owner": self.owner_id,
            "tier": self.tier_id,
            "region": self.region,
            "product_line": self.product_line_id,
        }


def grouped_sql(facts: str, scope: Scope, dimensions: Sequence[str]) -> str:
    aggregates = ", ".join(f"{sql} AS {name}" for name, sql in AGGREGATES[facts].items())
    parts = []
    for dim in dimensions:
        if dim in STAGE_DIMENSIONS and facts not in STAGE_FACTS:
            continue
        key, join, by = DIMENSIONS[dim]
        group = f"GROUP BY {by}" if by else ""
        parts.append(f"SELECT '{dim}' AS dim, {key} AS key, {aggregates} FROM s {join} {group}")
    return scoped_cte(FACTS[facts], scope) + "\nUNION ALL\n".join(parts)


def scoped_cte(facts_sql: str, scope: Scope) -> str:
    """`WITH f AS (facts), s AS (the facts in scope, with the partner's tier, region and
    name)` — the head of every metrics and flags query."""
    return (
        f"WITH f AS ({facts_sql}),\n"
        "s AS (SELECT f.*, p.tier_id, p.region, p.name AS partner_name FROM f"
        " JOIN partners_partnerorganization p ON p.id = f.partner_id"
        f" WHERE {scope.where()})\n"
    )


def grouped_rows(
    facts: str, scope: Scope, dimensions: Sequence[str], params: dict[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    """{(dim, key): {column: value}} of one figure's query."""
    with connection.cursor() as cursor:
        cursor.execute(grouped_sql(facts, scope, dimensions), {**scope.params(), **params})
        names = [column.name for column in cursor.description]
        return {(row[0], row[1]): dict(zip(names[2:], row[2:], strict=True)) for row in cursor}


def median_won_cycle(tenant_id: int) -> float | None:
    """Median days from creation to close of the tenant's won partner deals."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY o.closed_on - o.created_at::date)"
            " FROM pipeline_opportunity o WHERE o.tenant_id = %s AND o.status = 'won'"
            " AND o.partner_id IS NOT NULL",
            [tenant_id],
        )
        value = cursor.fetchone()[0]
    return None if value is None else float(value)

"""Inflation flags: open partner deals whose pipeline is hard to believe, and the partners
whose open deals are often flagged. Each reason is defined once, here, with its rule.

Shown first on the Metrics pages (they need attention) and as badges on a deal's page in
both portals (a panel registered with pipeline.panels in AnalyticsConfig.ready()).
"""

# ruff: noqa: S608  (SQL assembled from this module's constants only; every value is a parameter)

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from analytics.selectors.metrics import METRICS_CACHE_SECONDS, cache_key
from analytics.selectors.metrics_sql import FULLY_QUALIFIED, PUSH, REGISTRATION, Scope, scoped_cte

FLAGGED_LIST_LIMIT = 50  # the page lists the largest flagged deals; counts cover them all
PARTNER_FLAG_SHARE = 25  # % of a partner's open deals flagged that flags the partner


@dataclass(frozen=True)
class FlagReason:
    code: str
    label: str
    rule: str


FLAG_REASONS: tuple[FlagReason, ...] = (
    FlagReason(
        "pushed_twice",
        "Close date pushed twice or more",
        "The expected close date moved into a later month at least twice.",
    ),
    FlagReason(
        "stage_overdue",
        "Older than its stage's threshold",
        "In its stage longer than the stage's stale-after days.",
    ),
    FlagReason(
        "idle",
        "No activity in the stale window",
        "No activity for longer than the stage's stale-after days.",
    ),
    FlagReason(
        "unqualified_amount",
        "Amount without qualification",
        "An amount is given while budget, decision maker, need or timeline is missing.",
    ),
)
REASON_BY_CODE = {reason.code: reason for reason in FLAG_REASONS}
ANY_FLAG = " OR ".join(reason.code for reason in FLAG_REASONS)

FLAG_FACTS = f"""
    SELECT o.id, o.name, o.amount, o.currency, o.partner_id, o.owner_id,
           r.id AS registration_id, st.name AS stage_name,
           COALESCE(pushes.n, 0) >= 2 AS pushed_twice,
           (st.stale_after_days IS NOT NULL
            AND o.stage_entered_at < %(now)s - st.stale_after_days * interval '1 day')
               AS stage_overdue,
           (st.stale_after_days IS NOT NULL
            AND o.last_activity_at < %(now)s - st.stale_after_days * interval '1 day') AS idle,
           (o.amount IS NOT NULL AND NOT {FULLY_QUALIFIED.format(t="o")}) AS unqualified_amount
    FROM pipeline_opportunity o
    JOIN pipeline_stage st ON st.id = o.stage_id
    {REGISTRATION}
    LEFT JOIN (
        SELECT c.opportunity_id, count(*) AS n FROM pipeline_fieldchange c
        WHERE c.tenant_id = %(tenant)s AND {PUSH} GROUP BY c.opportunity_id
    ) pushes ON pushes.opportunity_id = o.id
    WHERE o.tenant_id = %(tenant)s AND o.status = 'open' AND o.partner_id IS NOT NULL"""


@dataclass(frozen=True)
class FlaggedDeal:
    id: int
    name: str
    amount: Decimal | None
    currency: str
    partner_id: int
    partner_name: str
    stage_name: str
    reasons: tuple[FlagReason, ...]


@dataclass(frozen=True)
class FlagCounts:
    open_deals: int
    flagged: int
    flagged_amount: Decimal
    by_reason: dict[str, int]

    @property
    def share(self) -> Decimal | None:
        """% of the open deals that carry a flag."""
        if not self.open_deals:
            return None
        return (Decimal(100) * self.flagged / self.open_deals).quantize(Decimal("0.1"))

    @property
    def partner_flagged(self) -> bool:
        return self.share is not None and self.share >= PARTNER_FLAG_SHARE


@dataclass(frozen=True)
class PartnerFlags:
    partner_id: int
    partner_name: str
    counts: FlagCounts


@dataclass
class Flags:
    total: FlagCounts
    deals: list[FlaggedDeal]
    partners: list[PartnerFlags]  # vendor roles only: partners at or over the share

    @property
    def flagged_partners(self) -> list[PartnerFlags]:
        return [p for p in self.partners if p.counts.partner_flagged]


def _reasons(row: dict[str, Any]) -> tuple[FlagReason, ...]:
    return tuple(reason for reason in FLAG_REASONS if row[reason.code])


def _fetch(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]


def _counts(row: dict[str, Any]) -> FlagCounts:
    return FlagCounts(
        open_deals=row["open_deals"],
        flagged=row["flagged"],
        flagged_amount=_decimal(row["flagged_amount"]) or Decimal(0),
        by_reason={reason.code: row[f"n_{reason.code}"] for reason in FLAG_REASONS},
    )


def flags_for(*, scope: Scope, now: datetime | None = None, per_partner: bool = True) -> Flags:
    """The flagged open deals in scope (the largest first) and the counts, in total and,
    for vendor roles, per partner. One query, then cached like the figures."""
    key = cache_key("flags", scope, per_partner)
    if now is None and (cached := cache.get(key)) is not None:
        return cached
    flags = _flags_for(scope, now or timezone.now(), per_partner)
    cache.set(key, flags, METRICS_CACHE_SECONDS)
    return flags


def _aggregates() -> str:
    reason_counts = ", ".join(
        f"count(*) FILTER (WHERE {reason.code}) AS n_{reason.code}" for reason in FLAG_REASONS
    )
    return (
        f"count(*) AS open_deals, count(*) FILTER (WHERE {ANY_FLAG}) AS flagged,"
        f" (sum(amount) FILTER (WHERE {ANY_FLAG}))::text AS flagged_amount, {reason_counts}"
    )


def _flags_sql(scope: Scope, per_partner: bool) -> str:
    """One statement: the scoped facts are computed once (the CTE is read twice, so
    PostgreSQL materializes it) and both the list and the counts come back as JSON rows."""
    grouped = f"SELECT 0 AS partner_id, '' AS partner_name, {_aggregates()} FROM s"
    if per_partner:
        grouped += (
            f" UNION ALL SELECT partner_id, partner_name, {_aggregates()} FROM s"
            " GROUP BY partner_id, partner_name"
        )
    return (
        scoped_cte(FLAG_FACTS, scope)
        + f", listed AS (SELECT s.*, s.amount::text AS amount_text FROM s WHERE {ANY_FLAG}"
        " ORDER BY s.amount DESC NULLS LAST, s.id LIMIT %(limit)s),\n"
        f"counted AS ({grouped})\n"
        "SELECT 'deal' AS kind, to_jsonb(listed) AS row FROM listed"
        " UNION ALL SELECT 'count', to_jsonb(counted) FROM counted"
    )


def _flags_for(scope: Scope, now: datetime, per_partner: bool) -> Flags:
    params = {**scope.params(), "now": now, "limit": FLAGGED_LIST_LIMIT}
    rows = _fetch(_flags_sql(scope, per_partner), params)
    # Django's connection hands jsonb over as text (JSONField decodes it itself)
    decoded = [(row["kind"], json.loads(row["row"])) for row in rows]
    listed = [row for kind, row in decoded if kind == "deal"]
    counted = [row for kind, row in decoded if kind == "count"]
    deals = [
        FlaggedDeal(
            id=row["id"],
            name=row["name"],
            amount=_decimal(row["amount_text"]),
            currency=row["currency"],
            partner_id=row["partner_id"],
            partner_name=row["partner_name"],
            stage_name=row["stage_name"],
            reasons=_reasons(row),
        )
        for row in sorted(
            listed, key=lambda r: (r["amount_text"] is None, -float(r["amount_text"] or 0), r["id"])
        )
    ]
    total = next(row for row in counted if row["partner_id"] == 0)
    partners = sorted(
        (
            PartnerFlags(row["partner_id"], row["partner_name"], _counts(row))
            for row in counted
            if row["partner_id"] != 0
        ),
        key=lambda p: (-(p.counts.share or 0), p.partner_name.lower()),
    )
    return Flags(total=_counts(total), deals=deals, partners=partners)


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def deal_flag_reasons(
    *, tenant_id: int, opportunity_id: int, now: datetime | None = None
) -> tuple[FlagReason, ...]:
    """The flags of one deal (none when it is closed or direct). One query."""
    rows = _fetch(
        FLAG_FACTS + " AND o.id = %(deal)s",
        {"tenant": tenant_id, "deal": opportunity_id, "now": now or timezone.now()},
    )
    return _reasons(rows[0]) if rows else ()

"""Reads of the opportunities' field history (pipeline.FieldChange): each deal's state as
of any past moment, and how its close date and amount moved.

Everything here is rebuilt from FieldChange rows alone (plus the deal's partner, which
never changes), in one SQL statement per call: the latest row per deal and field at or
before the moment (DISTINCT ON), pivoted to one row per deal.

Definitions (shown on the pages beside the figures):
- push count: times the expected close date moved into a later calendar month;
- slip days: total days the expected close date moved later (moves earlier do not
  subtract);
- amount changes: amount rows after the deal's creation row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from accounts.models import Tenant

# The state of each deal at %(moment)s, from its latest row per field; `{deals}` narrows
# the rows (e.g. "AND c.opportunity_id = ANY(%(deal_ids)s)"). Text values as stored.
STATE_AS_OF = """
SELECT s.opportunity_id AS id,
       max(s.new_value) FILTER (WHERE s.field = 'amount') AS amount,
       max(s.new_value) FILTER (WHERE s.field = 'expected_close_date') AS close_date,
       max(s.new_value) FILTER (WHERE s.field = 'stage') AS stage,
       max(s.new_value) FILTER (WHERE s.field = 'status') AS status,
       max(s.new_value) FILTER (WHERE s.field = 'forecast_category') AS category,
       max(s.new_value) FILTER (WHERE s.field = 'owner') AS owner
FROM (
    SELECT DISTINCT ON (c.opportunity_id, c.field) c.opportunity_id, c.field, c.new_value
    FROM pipeline_fieldchange c
    WHERE c.tenant_id = %(tenant)s AND c.changed_at <= %(moment)s {deals}
    ORDER BY c.opportunity_id, c.field, c.changed_at DESC, c.id DESC
) s
GROUP BY s.opportunity_id
"""

DEALS_AS_OF = f"""
SELECT a.*, o.partner_id FROM ({STATE_AS_OF}) a
JOIN pipeline_opportunity o ON o.id = a.id
ORDER BY a.id
"""  # noqa: S608


@dataclass(frozen=True)
class DealState:
    """A deal as it stood at a moment (money to the cent, as stored)."""

    id: int
    amount: Decimal | None
    expected_close_date: date | None
    stage_id: int
    status: str
    forecast_category: str
    owner_id: int
    partner_id: int | None


def money(text: str | None) -> Decimal | None:
    return Decimal(text) if text else None


def day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def deals_as_of(
    *, tenant: Tenant, moment: datetime, deal_ids: Iterable[int] | None = None
) -> dict[int, DealState]:
    """Every deal that existed at `moment` (its creation rows are at or before it), as it
    stood then: amount, close date, stage, status, effective forecast category, owner and
    partner. `deal_ids` narrows it to those deals. One query."""
    params: dict[str, Any] = {"tenant": tenant.pk, "moment": moment}
    deals = ""
    if deal_ids is not None:
        params["deal_ids"] = list(deal_ids)
        deals = "AND c.opportunity_id = ANY(%(deal_ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(DEALS_AS_OF.format(deals=deals), params)
        rows = cursor.fetchall()
    return {
        row[0]: DealState(
            id=row[0],
            amount=money(row[1]),
            expected_close_date=day(row[2]),
            stage_id=int(row[3]),
            status=row[4],
            forecast_category=row[5],
            owner_id=int(row[6]),
            partner_id=row[7],
        )
        for row in rows
    }


CLOSE_DATE_AND_AMOUNT_MOVES = """
SELECT c.opportunity_id,
       count(*) FILTER (
           WHERE c.field = 'expected_close_date' AND c.old_value <> '' AND c.new_value <> ''
             AND date_trunc('month', c.new_value::date) > date_trunc('month', c.old_value::date)
       ) AS pushes,
       coalesce(sum(c.new_value::date - c.old_value::date) FILTER (
           WHERE c.field = 'expected_close_date' AND c.old_value <> '' AND c.new_value <> ''
             AND c.new_value::date > c.old_value::date
       ), 0) AS slip_days,
       greatest(count(*) FILTER (WHERE c.field = 'amount') - 1, 0) AS amount_changes
FROM pipeline_fieldchange c
WHERE c.tenant_id = %(tenant)s AND c.changed_at <= %(moment)s
  AND c.field IN ('expected_close_date', 'amount') {deals}
GROUP BY c.opportunity_id
"""


@dataclass(frozen=True)
class DealMoves:
    """How a deal's close date and amount moved up to a moment."""

    push_count: int  # times the close date moved into a later calendar month
    slip_days: int  # total days the close date moved later
    amount_changes: int  # amount rows after the creation row


def deal_moves(
    *, tenant: Tenant, moment: datetime, deal_ids: Iterable[int] | None = None
) -> dict[int, DealMoves]:
    """Push count, slip days and amount changes of each deal (that has history) up to
    `moment`; `deal_ids` narrows it. One query."""
    params: dict[str, Any] = {"tenant": tenant.pk, "moment": moment}
    deals = ""
    if deal_ids is not None:
        params["deal_ids"] = list(deal_ids)
        deals = "AND c.opportunity_id = ANY(%(deal_ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(CLOSE_DATE_AND_AMOUNT_MOVES.format(deals=deals), params)
        return {
            deal_id: DealMoves(push_count=pushes, slip_days=slips, amount_changes=changes)
            for deal_id, pushes, slips, changes in cursor.fetchall()
        }

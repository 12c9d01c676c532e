"""What changed in the pipeline between two moments: a waterfall that reconciles.

Scope. The pipeline at a moment = the open deals (as of that moment, rebuilt from the
field history) whose expected close date falls in the chosen period, or, with no
period, all open deals; its total is the sum of their amounts (no amount counts 0) in
the tenant's currency as stored. Partner admins see their organization's deals, partner
reps the deals they own now.

Parts. Each deal that changed after `since` is attributed to exactly one part, by the
first rule that applies (s = the deal at `since`, u = at `until`, "in" = in the
pipeline as defined above):
1. in at s and at u: amount_up or amount_down by the difference of its amounts;
2. in at u only: new (it did not exist at s), reopened (it was won or lost at s), else
   pulled_in (open at s, its close date moved into the period) — by its amount at u;
3. in at s only: won or lost (its status at u), else pushed_out (still open, its close
   date moved out of the period) — by minus its amount at s.
So start_total + sum(parts) == end_total, to the cent.

How. The live table gives today's total; only deals with history rows after `since`
can differ: total(t) = live total − Σ changed deals (today's contribution − contribution
at t). Their states come from those rows alone, read in one pass (so the cost follows the
rows after `since`, not the deals' whole history): a field's value at `since` is the old
value of its first change after `since`; at `until`, the new value of its last change at
or before `until`, else the old value of its first change after it; a field that did not
change after `since` has today's value at both (the history chains: each row's old value
is the previous row's new value, and the last new value is the live one).
One query for the figures, one for a part's deals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from accounts.models import Membership
from analytics.periods import Period
from analytics.selectors.history import day, money

PARTS: tuple[str, ...] = (
    "new",
    "pulled_in",
    "pushed_out",
    "amount_up",
    "amount_down",
    "won",
    "lost",
    "reopened",
)
PART_LABELS = {
    "new": "New",
    "pulled_in": "Pulled in",
    "pushed_out": "Pushed out",
    "amount_up": "Amount up",
    "amount_down": "Amount down",
    "won": "Won",
    "lost": "Lost",
    "reopened": "Reopened",
}

IN_WINDOW = (
    "coalesce({s}_status = 'open' AND (NOT %(has_period)s OR "
    "(nullif({s}_close, '')::date >= %(start)s "
    "AND nullif({s}_close, '')::date < %(end)s)), false)"
)


def _contribution(state: str) -> str:
    return (
        f"CASE WHEN {IN_WINDOW.format(s=state)} "
        f"THEN coalesce(nullif({state}_amount, '')::numeric, 0) ELSE 0 END"
    )


FIELDS = (
    ("amount", "amount"),
    ("expected_close_date", "close"),
    ("stage", "stage"),
    ("status", "status"),
)
LIVE = {
    "amount": "coalesce(o.amount::text, '')",
    "close": "coalesce(o.expected_close_date::text, '')",
    "stage": "o.stage_id::text",
    "status": "o.status::text",
}


def _ends() -> str:
    """Each field at `since` (s_) and at `until` (u_), from the rows after `since` only:
    at since, the old value of the first row after it; at until, the new value of the
    last row at or before it, else the old value of the first row after it. NULL: the
    field did not change after `since` (its value then is today's)."""
    last = "changed_at <= %(until)s AND (next_at IS NULL OR next_at > %(until)s)"
    return ",\n".join(
        f"max(old_value) FILTER (WHERE first AND field = '{field}') AS s_{name},\n"
        f"coalesce(max(new_value) FILTER (WHERE {last} AND field = '{field}'),\n"
        f"         max(old_value) FILTER (WHERE first AND field = '{field}')) AS u_{name}"
        for field, name in FIELDS
    )


def _state(moment: str) -> str:
    """A field of the deal at the moment: from its history, else today's value ("" as
    stored means none: a deal created after the moment has "" everywhere)."""
    return ",\n".join(
        f"coalesce(h.{moment}_{name}, {LIVE[name]}) AS {moment}_{name}" for _, name in FIELDS
    )


# Built from constants only (no input): every value is a query parameter. One pass over
# the history rows after `since` (index fieldchange_recent, sorted once by deal, field and
# time) gives each changed deal's fields at `since` and at `until`; an index-only lookup
# per changed deal (opp_changes_state) gives today's values of the fields that did not
# change since then.
# Category and owner rows are not read: they change no deal's contribution (the scope
# follows today's owner).
CLASSIFIED = f"""
WITH moves AS (
    SELECT c.opportunity_id AS id, c.field, c.old_value, c.new_value, c.changed_at,
           lag(c.id) OVER w IS NULL AS first, lead(c.changed_at) OVER w AS next_at
    FROM pipeline_fieldchange c
    WHERE c.tenant_id = %(tenant)s AND c.changed_at > %(since)s
      AND c.field IN ('amount', 'expected_close_date', 'stage', 'status')
    WINDOW w AS (PARTITION BY c.opportunity_id, c.field ORDER BY c.changed_at, c.id)
), ends AS MATERIALIZED (
    SELECT id, {_ends()} FROM moves GROUP BY id
), states AS (
    SELECT o.id, o.partner_id,
           CASE WHEN o.status = 'open' AND (NOT %(has_period)s OR
                (o.expected_close_date >= %(start)s AND o.expected_close_date < %(end)s))
                THEN coalesce(o.amount, 0) ELSE 0 END AS now_c,
           {_state("s")}, {_state("u")}
    FROM ends h CROSS JOIN LATERAL (
        SELECT o.id, o.partner_id, o.status, o.expected_close_date, o.amount, o.stage_id
        FROM pipeline_opportunity o
        WHERE o.id = h.id AND o.tenant_id = %(tenant)s {{scope}}
        LIMIT 1  -- an index-only lookup per changed deal (opp_changes_state), no heap
    ) o
), both_ends AS (
    SELECT x.id, x.partner_id, x.now_c, x.s_amount, x.u_amount,
           nullif(x.s_status, '') AS s_status, nullif(x.u_status, '') AS u_status,
           nullif(x.s_stage, '') AS s_stage, nullif(x.u_stage, '') AS u_stage,
           x.s_close, x.u_close,
           {_contribution("x.s")} AS s_c, {_contribution("x.u")} AS u_c,
           {IN_WINDOW.format(s="x.s")} AS s_in, {IN_WINDOW.format(s="x.u")} AS u_in,
           x.s_status <> '' AS s_exists
    FROM states x
), classified AS (
    SELECT b.*, b.u_c - b.s_c AS delta,
           CASE
               WHEN b.s_in AND b.u_in THEN
                   CASE WHEN b.u_c > b.s_c THEN 'amount_up'
                        WHEN b.u_c < b.s_c THEN 'amount_down' END
               WHEN b.u_in THEN
                   CASE WHEN NOT b.s_exists THEN 'new'
                        WHEN b.s_status <> 'open' THEN 'reopened'
                        ELSE 'pulled_in' END
               WHEN b.s_in THEN
                   CASE WHEN b.u_status = 'won' THEN 'won'
                        WHEN b.u_status = 'lost' THEN 'lost'
                        ELSE 'pushed_out' END
           END AS part
    FROM both_ends b
)
"""  # noqa: S608

FIGURES = (
    CLASSIFIED
    + """
SELECT part, sum(delta), count(*), sum(now_c - s_c), sum(now_c - u_c)
FROM classified GROUP BY part
UNION ALL
{live}
"""
)
# Today's total: of a partner's or the tenant's deals from the rollup the database keeps
# per month (pipeline.OpportunityRollup; periods are whole months), a few thousand rows;
# of a rep's own deals (the rollup has no owner) from the deals.
LIVE_KEPT = """
SELECT '_live', coalesce(sum(o.amount), 0), 0, 0, 0
FROM pipeline_opportunityrollup o
WHERE o.tenant_id = %(tenant)s AND o.status = 'open' {scope} AND (NOT %(has_period)s OR
      (o.month >= %(start)s AND o.month < %(end)s))
"""
LIVE_DEALS = """
SELECT '_live', coalesce(sum(o.amount), 0), 0, 0, 0
FROM pipeline_opportunity o
WHERE o.tenant_id = %(tenant)s AND o.status = 'open' {scope} AND (NOT %(has_period)s OR
      (o.expected_close_date >= %(start)s AND o.expected_close_date < %(end)s))
"""

# Built from constants only, like CLASSIFIED.
PART_DEALS = (
    CLASSIFIED  # noqa: S608
    + """
SELECT k.id, n.name, p.name, k.delta, k.s_amount, k.u_amount, k.s_status, k.u_status,
       ss.name, us.name, k.s_close, k.u_close
FROM (
    SELECT id, partner_id, delta, s_amount, u_amount, s_status, u_status, s_stage, u_stage,
           s_close, u_close
    FROM classified WHERE part = %(part)s ORDER BY abs(delta) DESC, id LIMIT %(limit)s
) k
JOIN pipeline_opportunity n ON n.id = k.id
LEFT JOIN partners_partnerorganization p ON p.id = k.partner_id
LEFT JOIN pipeline_stage ss ON ss.id = nullif(k.s_stage, '')::bigint
LEFT JOIN pipeline_stage us ON us.id = nullif(k.u_stage, '')::bigint
ORDER BY abs(k.delta) DESC, k.id
"""
)


@dataclass(frozen=True)
class ChangeScope:
    """Whose deals: all of the tenant's (vendor roles), a partner's, or a rep's own."""

    tenant_id: int
    partner_id: int | None = None
    owner_id: int | None = None

    @classmethod
    def of(cls, membership: Membership) -> ChangeScope:
        """The same deals `Opportunity.objects.visible_to(membership)` gives."""
        if not membership.is_partner:
            return cls(membership.tenant_id)
        owner = membership.user_id if membership.role == "partner_rep" else None
        return cls(membership.tenant_id, membership.partner_id, owner)

    def sql(self) -> str:
        conditions = ""
        if self.partner_id is not None:
            conditions += " AND o.partner_id = %(partner)s"
        if self.owner_id is not None:
            conditions += " AND o.owner_id = %(owner)s"
        return conditions


@dataclass
class PipelineChanges:
    since: datetime
    until: datetime
    period: Period | None
    start_total: Decimal
    end_total: Decimal
    parts: dict[str, Decimal]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def difference(self) -> Decimal:
        return self.end_total - self.start_total


@dataclass(frozen=True)
class DealChange:
    """One deal behind a part: before (at since) → after (at until)."""

    id: int
    name: str
    partner: str | None
    change: Decimal
    amount_before: Decimal | None
    amount_after: Decimal | None
    status_before: str | None
    status_after: str | None
    stage_before: str | None
    stage_after: str | None
    close_before: date | None
    close_after: date | None


def _params(
    scope: ChangeScope, since: datetime, until: datetime, period: Period | None
) -> dict[str, Any]:
    return {
        "tenant": scope.tenant_id,
        "partner": scope.partner_id,
        "owner": scope.owner_id,
        "since": since,
        "until": until,
        "has_period": period is not None,
        "start": period.start if period else date.min,
        "end": period.end if period else date.max,
    }


def _rows(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Run one of the queries above. JIT off for the transaction: compiling the plan cost
    more (150 ms in the bench) than running it; 64 MB to sort the rows after `since` in
    memory (a week at a million deals: 300,000 rows, 20 MB spilled to disk at 4 MB)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)"
        )
        cursor.execute(sql, params)
        return cursor.fetchall()


def pipeline_changes(
    *, scope: ChangeScope, since: datetime, until: datetime, period: Period | None = None
) -> PipelineChanges:
    """The waterfall from the pipeline total at `since` to the total at `until` (see
    the module's docstring for the scope and the parts). One query."""
    live = (LIVE_DEALS if scope.owner_id is not None else LIVE_KEPT).format(scope=scope.sql())
    sql = FIGURES.format(scope=scope.sql(), live=live)
    rows = _rows(sql, _params(scope, since, until, period))
    live = next(row[1] for row in rows if row[0] == "_live")
    parts = {part: Decimal("0.00") for part in PARTS}
    counts = dict.fromkeys(PARTS, 0)
    since_gap = until_gap = Decimal(0)
    for part, delta, count, to_since, to_until in rows:
        if part == "_live":
            continue
        since_gap += to_since
        until_gap += to_until
        if part is not None:
            parts[part], counts[part] = Decimal(delta), count
    return PipelineChanges(
        since=since,
        until=until,
        period=period,
        start_total=Decimal(live - since_gap),
        end_total=Decimal(live - until_gap),
        parts=parts,
        counts=counts,
    )


def pipeline_change_deals(
    *,
    scope: ChangeScope,
    since: datetime,
    until: datetime,
    part: str,
    period: Period | None = None,
    limit: int = 500,
) -> list[DealChange]:
    """The deals behind one part, largest change first (at most `limit`). One query."""
    params = _params(scope, since, until, period) | {"part": part, "limit": limit}
    rows = _rows(PART_DEALS.format(scope=scope.sql()), params)
    return [
        DealChange(
            id=row[0],
            name=row[1],
            partner=row[2],
            change=Decimal(row[3]),
            amount_before=money(row[4]),
            amount_after=money(row[5]),
            status_before=row[6],
            status_after=row[7],
            stage_before=row[8],
            stage_after=row[9],
            close_before=day(row[10]),
            close_after=day(row[11]),
        )
        for row in rows
    ]

"""Pipeline data at size for the benchmarks: customers, opportunities, their stage
history and field history (10 rows a deal), generated inside PostgreSQL (generate_series)
so a million deals take seconds.

Idempotent: only the missing opportunities (up to the requested count) are added.
"""

from __future__ import annotations

import os

GENERATE = """
WITH stages AS (
    SELECT array_agg(id ORDER BY position) FILTER (WHERE kind = 'open') AS open_ids,
           min(id) FILTER (WHERE kind = 'won') AS won_id,
           min(id) FILTER (WHERE kind = 'lost') AS lost_id
    FROM pipeline_stage WHERE tenant_id = %(tenant)s AND is_active
), reps AS (
    SELECT array_agg(partner_id ORDER BY partner_id) AS partner_ids,
           array_agg(user_id ORDER BY partner_id) AS owner_ids
    FROM (SELECT DISTINCT ON (partner_id) partner_id, user_id FROM accounts_membership
          WHERE tenant_id = %(tenant)s AND role = 'partner_rep' ORDER BY partner_id, id) r
), customers AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM pipeline_customer
    WHERE tenant_id = %(tenant)s
), reason AS (
    SELECT min(id) AS id FROM pipeline_lostreason WHERE tenant_id = %(tenant)s
), rows AS (
    SELECT g, g %% 10 AS kind, (g * 7919) %% cardinality(reps.partner_ids) + 1 AS p,
           stages.*, reps.*, customers.ids AS customer_ids, reason.id AS reason_id
    FROM generate_series(%(start)s::bigint, %(stop)s::bigint) g, stages, reps, customers, reason
)
INSERT INTO pipeline_opportunity (
    tenant_id, partner_id, owner_id, customer_id, name, amount, currency,
    expected_close_date, stage_id, status, budget_confirmed, decision_maker, need, timeline,
    decision_maker_name, next_step, next_step_date, competitor, purchase_order_number,
    lost_reason_id, lost_note, closed_on, close_date_slips, stage_entered_at,
    last_activity_at, created_at, updated_at, forecast_category_override)
SELECT %(tenant)s,
       CASE WHEN kind = 0 THEN NULL ELSE partner_ids[p] END,
       CASE WHEN kind = 0 THEN %(admin)s ELSE owner_ids[p] END,
       customer_ids[(g * 104729) %% cardinality(customer_ids) + 1],
       'Deal ' || g, ((g * 37) %% 500000 + 1000)::numeric(14, 2), 'USD',
       current_date + ((g %% 400) - 100)::int,
       CASE kind WHEN 8 THEN won_id WHEN 9 THEN lost_id
                 ELSE open_ids[(g %% cardinality(open_ids)) + 1] END,
       CASE kind WHEN 8 THEN 'won' WHEN 9 THEN 'lost' ELSE 'open' END,
       true, true, 'Generated need', 'This year', '', 'Follow up', NULL, '', '',
       CASE WHEN kind = 9 THEN reason_id END, '',
       CASE WHEN kind IN (8, 9) THEN current_date - (g %% 300)::int END, 0,
       now() - ((g %% 90) || ' days')::interval, now() - ((g %% 60) || ' days')::interval,
       now() - ((g %% 365) || ' days')::interval, now(), ''
FROM rows
"""

HISTORY = """
INSERT INTO pipeline_stagemove (tenant_id, opportunity_id, from_stage_id, to_stage_id,
                                from_status, to_status, actor_id, note, forced, force_reason,
                                skipped_criteria, created_at)
SELECT o.tenant_id, o.id, NULL, first_stage.id, '', 'open', o.owner_id, 'Created', false, '',
       '{}'::varchar[], o.created_at
FROM pipeline_opportunity o,
     (SELECT id FROM pipeline_stage WHERE tenant_id = %(tenant)s AND kind = 'open'
      ORDER BY position LIMIT 1) first_stage
WHERE o.tenant_id = %(tenant)s AND o.id > %(after_id)s
UNION ALL
SELECT o.tenant_id, o.id, first_stage.id, o.stage_id, 'open', o.status, o.owner_id, '',
       false, '', '{}'::varchar[], o.stage_entered_at
FROM pipeline_opportunity o,
     (SELECT id FROM pipeline_stage WHERE tenant_id = %(tenant)s AND kind = 'open'
      ORDER BY position LIMIT 1) first_stage
WHERE o.tenant_id = %(tenant)s AND o.id > %(after_id)s AND o.stage_id <> first_stage.id
"""

# Field history: for deals without any, creation rows at created_at (amount at 80 %, the
# close date 60 days earlier, today's stage, status, category and owner), then the amount
# to 90 % and to today's value and the close date to 30 days earlier and to today's, at a
# quarter, half and three quarters of the deal's life: 10 rows a deal, consistent with the
# live row (so as-of "now" equals the live state).
FIELD_HISTORY = """
INSERT INTO pipeline_fieldchange
    (tenant_id, opportunity_id, field, old_value, new_value, actor_id, source, changed_at)
SELECT o.tenant_id, o.id, v.field, v.old, v.new, o.owner_id, 'bench',
       o.created_at + (now() - o.created_at) * v.at
FROM pipeline_opportunity o
JOIN pipeline_stage st ON st.id = o.stage_id
CROSS JOIN LATERAL (VALUES
    ('amount', '', (o.amount * 0.8)::numeric(14, 2)::text, 0.0),
    ('expected_close_date', '', (o.expected_close_date - 60)::text, 0.0),
    ('stage', '', o.stage_id::text, 0.0),
    ('status', '', o.status::text, 0.0),
    ('forecast_category', '', st.forecast_category::text, 0.0),
    ('owner', '', o.owner_id::text, 0.0),
    ('amount', (o.amount * 0.8)::numeric(14, 2)::text, (o.amount * 0.9)::numeric(14, 2)::text,
     0.25),
    ('expected_close_date', (o.expected_close_date - 60)::text,
     (o.expected_close_date - 30)::text, 0.5),
    ('amount', (o.amount * 0.9)::numeric(14, 2)::text, o.amount::text, 0.75),
    ('expected_close_date', (o.expected_close_date - 30)::text,
     o.expected_close_date::text, 0.75)
) AS v(field, old, new, at)
WHERE o.tenant_id = %(tenant)s AND o.id > %(after_id)s
"""

CUSTOMERS = """
INSERT INTO pipeline_customer (tenant_id, name, website, country, name_normalized, name_core,
                               root_domain, created_at)
SELECT %(tenant)s, 'Customer ' || g || ' Inc', 'https://customer' || g || '.example', 'US',
       'customer ' || g, 'customer ' || g, 'customer' || g || '.example', now()
FROM generate_series(%(start)s::bigint, %(stop)s::bigint) g
"""


def seed_pipeline(
    *, tenant_id: int, admin_id: int, opportunities: int, customers: int
) -> tuple[int, float]:
    """Add what is missing; returns (opportunities now, seconds spent)."""
    import time

    import psycopg

    started = time.perf_counter()
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:  # the owner role
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        have_customers = conn.execute(
            "SELECT count(*) FROM pipeline_customer WHERE tenant_id = %s", [tenant_id]
        ).fetchone()[0]
        if have_customers < customers:
            conn.execute(
                CUSTOMERS, {"tenant": tenant_id, "start": have_customers + 1, "stop": customers}
            )
        have, last_id = conn.execute(
            "SELECT count(*), coalesce(max(id), 0) FROM pipeline_opportunity WHERE tenant_id = %s",
            [tenant_id],
        ).fetchone()
        if have < opportunities:
            conn.execute(
                GENERATE,
                {"tenant": tenant_id, "admin": admin_id, "start": have + 1, "stop": opportunities},
            )
            conn.execute(HISTORY, {"tenant": tenant_id, "after_id": last_id})
        with_history = conn.execute(
            "SELECT coalesce(max(opportunity_id), 0) FROM pipeline_fieldchange "
            "WHERE tenant_id = %s",
            [tenant_id],
        ).fetchone()[0]
        conn.execute(FIELD_HISTORY, {"tenant": tenant_id, "after_id": with_history})
        conn.commit()
    return max(have, opportunities), time.perf_counter() - started


# A year of weekly forecast snapshots, as the Monday beat job would have stored them: for
# each of the last 52 Mondays, this quarter and the next (of the tenant's fiscal year),
# one row per partner and a tenant-total row. The figures are generated from the partner
# id and the week (deterministic, cumulative: closed won ≤ commit ≤ best case ≤ pipeline),
# the total row is the sum of the partners' rows. Idempotent (ON CONFLICT DO NOTHING on
# the once-per-week constraint).
SNAPSHOTS = """
WITH weeks AS (
    SELECT w.week::date AS week, w.period, w.n
    FROM unnest(%(weeks)s::date[], %(periods)s::text[], %(numbers)s::int[]) AS w(week, period, n)
), partners AS (
    SELECT id FROM partners_partnerorganization WHERE tenant_id = %(tenant)s
), figures AS (
    SELECT w.week, w.period, p.id AS partner_id,
           ((p.id * 7919 + w.n * 104729) %% 400000 + 20000)::numeric(16, 2) AS pipeline,
           ((p.id * 31 + w.n * 17) %% 60 + 20)::numeric / 100 AS best,
           ((p.id * 13 + w.n * 7) %% 40 + 10)::numeric / 100 AS commit_share,
           (w.n %% 13)::numeric / 26 AS won_share
    FROM weeks w CROSS JOIN partners p
), rows AS (
    SELECT week, period, partner_id,
           round(pipeline * commit_share * won_share, 2) AS closed_won,
           round(pipeline * commit_share, 2) AS commit,
           round(pipeline * best, 2) + round(pipeline * commit_share, 2) AS best_case_raw,
           pipeline
    FROM figures
), capped AS (
    SELECT week, period, partner_id, closed_won, commit,
           least(best_case_raw, pipeline) AS best_case, pipeline,
           round(closed_won + (pipeline - closed_won) * 0.35, 2) AS weighted,
           round(closed_won + (pipeline - closed_won) * 0.32, 2) AS calibrated_weighted
    FROM rows
)
INSERT INTO analytics_forecastsnapshot
    (tenant_id, period, week, partner_id, closed_won, commit, best_case, pipeline, weighted,
     calibrated_weighted, target, created_at)
SELECT %(tenant)s, period, week, partner_id, closed_won, commit, best_case, pipeline,
       weighted, calibrated_weighted, NULL::numeric, week + time '06:00'
FROM capped
UNION ALL
SELECT %(tenant)s, period, week, NULL, sum(closed_won), sum(commit), sum(best_case),
       sum(pipeline), sum(weighted), sum(calibrated_weighted), NULL::numeric, week + time '06:00'
FROM capped GROUP BY period, week
ON CONFLICT DO NOTHING
"""


def seed_snapshots(*, tenant_id: int, fiscal_start_month: int, weeks: int = 52) -> int:
    """A year of weekly snapshots (see SNAPSHOTS); returns the rows the tenant has."""
    from datetime import timedelta

    import psycopg
    from django.utils import timezone

    from analytics.periods import quarter_of

    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    days, periods, numbers = [], [], []
    for n in range(weeks):
        week = monday - timedelta(weeks=n)
        quarter = quarter_of(week, fiscal_start_month)
        for period in (quarter, quarter.shifted(1)):
            days.append(week)
            periods.append(period.label)
            numbers.append(n)
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:  # the owner role
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        have = conn.execute(
            "SELECT count(DISTINCT (week, period)) FROM analytics_forecastsnapshot "
            "WHERE tenant_id = %s AND week >= %s",
            [tenant_id, monday - timedelta(weeks=weeks - 1)],
        ).fetchone()[0]
        if have < len(days):
            conn.execute(
                SNAPSHOTS,
                {"tenant": tenant_id, "weeks": days, "periods": periods, "numbers": numbers},
            )
        count = conn.execute(
            "SELECT count(*) FROM analytics_forecastsnapshot WHERE tenant_id = %s", [tenant_id]
        ).fetchone()[0]
        conn.commit()
    return count

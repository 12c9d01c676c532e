"""Pipeline data at size for the benchmarks: customers, opportunities and their stage
history, generated inside PostgreSQL (generate_series) so a million deals take seconds.

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
        conn.commit()
    return max(have, opportunities), time.perf_counter() - started

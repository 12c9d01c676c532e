"""Co-sell impact report on the bench tenant (make bench BENCH_ARGS="cosell_impact …"):
the vendor page (a year of closed deals, then one tier) and GET /api/v1/cosell-impact/,
median / p95 ms and queries.

Adds, once (idempotent), what the million-deal seed lacks for this report, generated
inside PostgreSQL: co-sell requests on one partner deal in eight (three in four of them
engaged at a fifth to four fifths of the deal's life, one in twenty refused for capacity),
and, for every closed deal, stage history through the open stages (three moves at 10, 30
and 50 % of its life, then its closing stage at 95 %), so the help stage is read from
history as in production. Then builds the per-deal facts (analytics.models.DealFact) the
report reads, as the worker would, and times the report cold (cache emptied each round).
"""

from __future__ import annotations

import os
import statistics
import time

REQUESTS = """
INSERT INTO pipeline_cosellrequest (
    tenant_id, opportunity_id, resource_type_id, need, need_by, details, status, load,
    override_reason, decline_reason, created_at, assigned_at, engaged_at,
    capacity_refused_at)
SELECT o.tenant_id, o.id, t.id, 'Bench need', current_date, '',
       CASE WHEN (o.id / 8) %% 4 = 0 THEN 'requested' ELSE 'engaged' END, 1, '', '',
       o.created_at + (coalesce(o.closed_on::timestamptz, now()) - o.created_at) * 0.15,
       CASE WHEN (o.id / 8) %% 4 <> 0
            THEN o.created_at + (coalesce(o.closed_on::timestamptz, now()) - o.created_at) * 0.18
       END,
       CASE WHEN (o.id / 8) %% 4 <> 0
            THEN o.created_at + (coalesce(o.closed_on::timestamptz, now()) - o.created_at)
                 * (0.2 + (o.id %% 7) * 0.1)
       END,
       CASE WHEN (o.id / 8) %% 20 = 1 THEN o.created_at + interval '1 day' END
FROM pipeline_opportunity o
CROSS JOIN (SELECT %(type)s::bigint AS id) t
WHERE o.tenant_id = %(tenant)s AND o.partner_id IS NOT NULL AND o.id %% 8 = 3
"""

STAGE_HISTORY = """
WITH open_stages AS (
    SELECT array_agg(id ORDER BY position) AS ids FROM pipeline_stage
    WHERE tenant_id = %(tenant)s AND kind = 'open' AND is_active
)
INSERT INTO pipeline_fieldchange
    (tenant_id, opportunity_id, field, old_value, new_value, actor_id, source, changed_at)
SELECT o.tenant_id, o.id, 'stage', v.old, v.new, o.owner_id, 'bench-cosell',
       o.created_at + (o.closed_on::timestamptz - o.created_at) * v.at
FROM pipeline_opportunity o, open_stages s
CROSS JOIN LATERAL (VALUES
    (o.stage_id::text, s.ids[2]::text, 0.1),
    (s.ids[2]::text, s.ids[3]::text, 0.3),
    (s.ids[3]::text, s.ids[4]::text, 0.5),
    (s.ids[4]::text, o.stage_id::text, 0.95)
) AS v(old, new, at)
WHERE o.tenant_id = %(tenant)s AND o.status IN ('won', 'lost') AND o.closed_on > o.created_at
"""


def seed_cosell(tenant) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    import psycopg

    from accounts.tenancy import tenant_context
    from pipeline.models import CoSellResourceType

    started = time.perf_counter()
    tenant_id = tenant.pk
    with tenant_context(tenant):
        kind, _ = CoSellResourceType.objects.get_or_create(
            tenant=tenant, code="bench_engineer", defaults={"name": "Bench engineer"}
        )
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:  # the owner role
        have = conn.execute(
            "SELECT count(*) FROM pipeline_cosellrequest WHERE tenant_id = %s", [tenant_id]
        ).fetchone()[0]
        if not have:
            conn.execute(REQUESTS, {"tenant": tenant_id, "type": kind.pk})
        history = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pipeline_fieldchange WHERE tenant_id = %s "
            "AND source = 'bench-cosell')",
            [tenant_id],
        ).fetchone()[0]
        if not history:
            conn.execute(STAGE_HISTORY, {"tenant": tenant_id})
        conn.commit()
        have = conn.execute(
            "SELECT count(*) FROM pipeline_cosellrequest WHERE tenant_id = %s", [tenant_id]
        ).fetchone()[0]
    return have, time.perf_counter() - started


def build_facts(tenant) -> float:  # type: ignore[no-untyped-def]
    """The per-deal facts the report reads, as the worker keeps them: the backfill the first
    time, then the sweep's check (rewrites only drifted rows). Printed with its time."""
    from analytics.services.deal_facts import deal_facts_refresh_all

    started = time.perf_counter()
    written = deal_facts_refresh_all(tenant=tenant)
    seconds = time.perf_counter() - started
    print(f"deal facts: {written} rows written ({seconds:.1f} s)")
    return seconds


def run(*, tenant, admin, rounds: int) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache
    from django.test import Client

    from accounts.services.tokens import api_token_create
    from accounts.tenancy import tenant_context
    from bench.__main__ import analyze, measure
    from partners.models import PartnerTier

    added, seconds = seed_cosell(tenant)
    print(f"co-sell requests: {added} ({seconds:.1f} s)")
    facts_seconds = build_facts(tenant)
    if seconds > 1 or facts_seconds > 1:
        analyze()
    with tenant_context(tenant):
        membership = admin.memberships.get(tenant=tenant)
        _, secret = api_token_create(membership=membership, name="bench cosell impact")
        tier = PartnerTier.objects.for_tenant(tenant).order_by("rank").first()
    client = Client()
    client.force_login(admin)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    cases = [
        ("co-sell impact page (a year)", "/vendor/analytics/cosell-impact/", {}),
        (
            "co-sell impact page, one tier",
            f"/vendor/analytics/cosell-impact/?tier_id={tier.pk}",
            {},
        ),
        ("API GET /api/v1/cosell-impact/", "/api/v1/cosell-impact/", bearer),
    ]
    print("cold: nothing cached (each round empties the cache first); warm: within 5 minutes")
    heads = ("cold p50", "cold p95", "warm p50", "warm p95", "queries", "status")
    print(f"{'co-sell impact':40}", " ".join(f"{head:>8}" for head in heads))
    for label, url, headers in cases:
        cold = []
        for _ in range(max(1, rounds // 4)):
            cache.clear()  # the bench's own Redis
            median, _, queries, status = measure(client, url, 1, **headers)
            cold.append(median)
        cold.sort()
        cold_p95 = cold[min(len(cold) - 1, int(len(cold) * 0.95))]
        median, p95, warm_queries, status = measure(client, url, rounds, **headers)
        figures = (statistics.median(cold), cold_p95, median, p95)
        print(
            f"{label:40}",
            " ".join(f"{value:8.0f}" for value in figures),
            f"{queries:8d} {status:8d}",
        )

"""The Metrics pages and `GET /api/v1/metrics/` at size (issue 10 §8: ≤ 500 ms p95).

    python -m bench metrics --opportunities 1000000

On the bench tenant's generated pipeline (bench/pipeline_data.py) it adds close-date
history to the deals that have none yet (idempotent): a creation row per deal and one or
two later changes on about half of them (some push the date into a later month), written
in PostgreSQL. Then it times the vendor page and API (this quarter, and filtered by
one tier) and a partner admin's page and API: the first request with nothing cached
(cold), then p50 / p95 ms of the next ones (warm: the figures are cached for five minutes,
analytics.selectors.metrics.METRICS_CACHE_SECONDS), with query counts.
"""

from __future__ import annotations

import os
import time

CLOSE_DATE_HISTORY = """
INSERT INTO pipeline_fieldchange (tenant_id, opportunity_id, field, old_value, new_value,
                                  actor_id, source, changed_at)
SELECT o.tenant_id, o.id, 'expected_close_date', '', (o.expected_close_date - 61)::text,
       o.owner_id, 'created', o.created_at
FROM pipeline_opportunity o
WHERE o.tenant_id = %(tenant)s AND o.expected_close_date IS NOT NULL AND o.id > %(after)s
UNION ALL
SELECT o.tenant_id, o.id, 'expected_close_date', (o.expected_close_date - 61)::text,
       (o.expected_close_date - 30)::text, o.owner_id, 'edit',
       o.created_at + (now() - o.created_at) / 3
FROM pipeline_opportunity o
WHERE o.tenant_id = %(tenant)s AND o.expected_close_date IS NOT NULL AND o.id %% 2 = 0
  AND o.id > %(after)s
UNION ALL
SELECT o.tenant_id, o.id, 'expected_close_date', (o.expected_close_date - 30)::text,
       o.expected_close_date::text, o.owner_id, 'edit',
       o.created_at + (now() - o.created_at) * 2 / 3
FROM pipeline_opportunity o
WHERE o.tenant_id = %(tenant)s AND o.expected_close_date IS NOT NULL AND o.id %% 4 = 0
  AND o.id > %(after)s
"""


def seed_close_date_history(tenant_id: int) -> tuple[int, float]:
    """Rows added (for the deals after the last one with history) and seconds."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:  # the owner role
        after = conn.execute(
            "SELECT coalesce(max(opportunity_id), 0) FROM pipeline_fieldchange"
            " WHERE tenant_id = %s AND field = 'expected_close_date'",
            [tenant_id],
        ).fetchone()[0]
        added = conn.execute(CLOSE_DATE_HISTORY, {"tenant": tenant_id, "after": after}).rowcount
        conn.commit()
    return added, time.perf_counter() - started


def partner_admin(tenant):  # type: ignore[no-untyped-def]
    """A partner admin of the first bench partner (created once)."""
    from accounts.models import Membership, Role, User
    from accounts.tenancy import tenant_context

    with tenant_context(tenant):
        rep = Membership.objects.filter(role=Role.PARTNER_REP).order_by("pk").first()
        user, _ = User.objects.get_or_create(email="padmin@bench.test")
        membership, _ = Membership.objects.get_or_create(
            tenant=tenant,
            user=user,
            defaults={"role": Role.PARTNER_ADMIN, "partner_id": rep.partner_id},
        )
        return membership


def run(*, tenant, admin, rounds: int) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache
    from django.test import Client

    from accounts.services.tokens import api_token_create
    from accounts.tenancy import tenant_context
    from bench.__main__ import analyze, measure
    from partners.models import PartnerTier

    added, seconds = seed_close_date_history(tenant.pk)
    print(f"close-date history: {added} rows added ({seconds:.1f} s)")
    if added:
        analyze()
    with tenant_context(tenant):
        membership = admin.memberships.get(tenant=tenant)
        _, secret = api_token_create(membership=membership, name="bench metrics")
        tier = PartnerTier.objects.for_tenant(tenant).order_by("rank").first()
    padmin = partner_admin(tenant)
    with tenant_context(tenant):
        _, partner_secret = api_token_create(membership=padmin, name="bench metrics")
    vendor, partner = Client(), Client()
    vendor.force_login(admin)
    partner.force_login(padmin.user)
    bearer, partner_bearer = f"Bearer {secret}", f"Bearer {partner_secret}"
    cases = [
        ("vendor metrics page", vendor, "/vendor/metrics/", {}),
        ("vendor metrics page, one tier", vendor, f"/vendor/metrics/?tier_id={tier.pk}", {}),
        ("API GET /api/v1/metrics/", vendor, "/api/v1/metrics/", {"HTTP_AUTHORIZATION": bearer}),
        ("partner admin metrics page", partner, "/partner/metrics/", {}),
        (
            "partner admin API metrics",
            partner,
            "/api/v1/metrics/",
            {"HTTP_AUTHORIZATION": partner_bearer},
        ),
    ]
    print("cold: the first request, nothing cached; warm: the next ones within the cache time")
    heads = ("cold ms", "queries", "warm p50", "p95 ms", "queries", "status")
    print(f"{'metrics':40}", " ".join(f"{head:>8}" for head in heads))
    for label, client, url, headers in cases:
        cache.clear()  # the bench's own Redis
        cold, _, cold_queries, _ = measure(client, url, 1, **headers)
        median, p95, queries, status = measure(client, url, rounds, **headers)
        print(
            f"{label:40} {cold:8.1f} {cold_queries:8d} {median:8.1f} {p95:8.1f} {queries:8d}"
            f" {status:8d}"
        )

"""Forecast timings on the bench tenant (make bench BENCH_ARGS="forecast …"): the vendor
Forecast page per grouping, the API, the partner admin's page, and the calibration's
counting query cold (done by the Celery refresh task, off the request path: the pages
read the stored table).

Prints median / p95 ms and the query count of each. The cache is emptied first, then the
calibration table stored as the refresh task / beat sweep would.
"""

from __future__ import annotations

import time


def run(tenant, admin, rounds: int) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache
    from django.test import Client

    from accounts.services.tokens import api_token_create
    from accounts.tenancy import tenant_context
    from analytics.periods import current_quarter
    from analytics.selectors.calibration_cache import calibration_refresh
    from bench.__main__ import measure

    period = current_quarter(tenant).label
    with tenant_context(tenant):
        membership = admin.memberships.get(tenant=tenant)
        _, secret = api_token_create(membership=membership, name="bench-forecast")
        partner_admin = (
            admin.memberships.model.objects.filter(role="partner_rep").order_by("pk").first()
        )
        cache.clear()
        start = time.perf_counter()
        calibration_refresh(tenant=tenant)
        cold = (time.perf_counter() - start) * 1000
    print(f"calibration refresh task (counts the stage history, off requests): {cold:.0f} ms")
    client = Client()
    client.force_login(admin)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    rows = [
        (f"forecast by {group}", f"/vendor/forecast/?period={period}&group_by={group}", {})
        for group in ("partner", "tier", "region", "product_line", "channel_manager")
    ]
    rows.append(("API GET /api/v1/forecast/", f"/api/v1/forecast/?period={period}", bearer))
    print(f"{'forecast ' + period:40} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'status':>7}")
    for label, url, headers in rows:
        median, p95, queries, status = measure(client, url, rounds, **headers)
        print(f"{label:40} {median:10.1f} {p95:8.1f} {queries:8d} {status:7d}")
    partner = Client()
    partner.force_login(partner_admin.user)
    median, p95, queries, status = measure(partner, f"/partner/forecast/?period={period}", rounds)
    print(f"{'partner rep: forecast':40} {median:10.1f} {p95:8.1f} {queries:8d} {status:7d}")

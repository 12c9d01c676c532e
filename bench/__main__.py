"""Benchmarks of the foundation's list pages and API lists at size. Not part of the tests.

    make bench                               # 5,000 partners, 20,000 people, 1M deals
    make bench BENCH_ARGS="--partners 20000 --people 80000 --opportunities 2000000"
    make bench BENCH_ARGS=pages              # the pages only
    make bench BENCH_ARGS=changes            # the Changes page and API only
    make bench BENCH_ARGS=deals              # deal registration only (1M registrations)
    make bench BENCH_ARGS=api                # API req/s against a bare DRF list (bench/api.py)
    make bench BENCH_ARGS=webhooks           # commit → first webhook attempt, real worker
    make bench BENCH_ARGS=crm_sync           # approval → in the fake CRM, real worker
    make bench BENCH_ARGS=forecast           # the forecast pages and API (bench/forecast.py)
    make bench BENCH_ARGS=metrics            # the Metrics pages and API (bench/metrics_data.py)
    make bench BENCH_ARGS=leads              # lead routing p50 / p95 (bench/leads_routing.py)
    make bench BENCH_ARGS=lead_routing       # routing simulator (bench/lead_routing_sim.py)
    make bench BENCH_ARGS=cosell_impact      # the co-sell impact report (bench/cosell_impact.py)
    make bench BENCH_ARGS=lead_import        # 10,000-row CSV import, real worker (lead_import.py)

Seeds a tenant `bench` once (idempotent), then times each page in-process with Django's
test client as the vendor admin and prints median / p95 milliseconds and query counts;
then deal registration's figures (bench/deals_data.py): screening p50 / p95 among a
million registrations, and submit → decided with a real Celery worker.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def migrate() -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        check=True,
        env={**os.environ, "PRM_DB_AS_OWNER": "1"},
    )


def analyze() -> None:
    """Fresh statistics and visibility map, as autovacuum would have them (run as the owner
        role): the Changes waterfall reads the field history and each changed deal's state by
    index-only scans."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("VACUUM pipeline_fieldchange")
        conn.execute("VACUUM pipeline_opportunity")
        conn.execute("VACUUM analytics_dealfact")
        conn.execute("ANALYZE")


def seed(partners: int, people: int):  # type: ignore[no-untyped-def]
    from accounts.models import Membership, Role, Tenant, User
    from accounts.tenancy import tenant_context
    from partners.models import PartnerOrganization, PartnerTier, Region

    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench Vendor"})
    admin, _ = User.objects.get_or_create(email="admin@bench.test")
    with tenant_context(tenant):
        Membership.objects.get_or_create(
            tenant=tenant, user=admin, defaults={"role": Role.VENDOR_ADMIN}
        )
        tiers = [
            PartnerTier.objects.get_or_create(
                tenant=tenant, rank=rank, defaults={"name": f"Tier {rank}"}
            )[0]
            for rank in (1, 2, 3)
        ]
        have = PartnerOrganization.objects.count()
        regions = list(Region.values)
        PartnerOrganization.objects.bulk_create(
            [
                PartnerOrganization(
                    tenant=tenant,
                    name=f"Bench Partner {n:06d}",
                    tier=tiers[n % 3],
                    country="US",
                    region=regions[n % len(regions)],
                )
                for n in range(have, partners)
            ],
            batch_size=2000,
        )
        partner_ids = list(PartnerOrganization.objects.values_list("pk", flat=True))
        have = Membership.objects.filter(role=Role.PARTNER_REP).count()
        users = User.objects.bulk_create(
            [
                User(email=f"rep{n}@bench.test", full_name=f"Rep {n}", password="!")  # noqa: S106
                for n in range(have, people)
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
        users = list(User.objects.filter(email__in=[u.email for u in users]))
        Membership.objects.bulk_create(
            [
                Membership(
                    tenant=tenant,
                    user=user,
                    role=Role.PARTNER_REP,
                    partner_id=partner_ids[i % len(partner_ids)],
                )
                for i, user in enumerate(users)
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
    return tenant, admin


def measure(client, url: str, rounds: int, **headers: str) -> tuple[float, float, int, int]:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    queries = 0
    status = 0
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url, **headers)
            timings.append((time.perf_counter() - start) * 1000)
        queries, status = len(captured), response.status_code
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(len(timings) * 0.95))]
    return statistics.median(timings), p95, queries, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "suite",
        nargs="?",
        choices=[
            "all",
            "pages",
            "changes",
            "deals",
            "api",
            "webhooks",
            "crm_sync",
            "forecast",
            "metrics",
            "leads",
            "lead_routing",
            "cosell_impact",
            "lead_import",
        ],
        default="all",
    )
    parser.add_argument("--partners", type=int, default=5000)
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--registrations", type=int, default=1_000_000)
    parser.add_argument("--screenings", type=int, default=200)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument(
        "--screening-ab",
        type=int,
        default=0,
        help="deals: only an interleaved A/B of find_matches against the reference on N names",
    )
    parser.add_argument(
        "--deals-reseed", action="store_true", help="regenerate the generated registrations"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="api: per side")
    parser.add_argument("--connections", type=int, default=8, help="api: client connections")
    parser.add_argument("--workers", type=int, default=2, help="api: gunicorn workers")
    parser.add_argument("--slices", type=int, default=5, help="api: alternations per side")
    parser.add_argument("--api-opportunities", type=int, default=100_000)
    parser.add_argument("--lead-partners", type=int, default=500, help="leads: partners")
    parser.add_argument("--leads", type=int, default=200, help="leads: leads routed")
    parser.add_argument(
        "--lead-threads", type=int, default=4, help="leads: threads creating leads at once"
    )
    parser.add_argument("--sim-leads", type=int, default=10_000, help="lead_routing: leads")
    parser.add_argument("--sim-partners", type=int, default=40, help="lead_routing: partners")
    parser.add_argument("--sim-seed", type=int, default=1, help="lead_routing: seed")
    parser.add_argument("--import-rows", type=int, default=10_000, help="lead_import: rows")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")
    if os.environ.get("DATABASE_URL"):
        from prm.embedded import ensure_database

        ensure_database(os.environ["DATABASE_URL"])
    migrate()
    import django

    django.setup()
    from accounts.tenancy import tenant_context

    if args.suite == "api":
        from bench import api

        api.run(
            opportunities=args.api_opportunities,
            rows=200,
            connections=args.connections,
            seconds=args.seconds,
            workers=args.workers,
            slices=args.slices,
        )
        return
    if args.suite == "webhooks":
        from bench import webhooks

        webhooks.run()
        return
    if args.suite == "lead_routing":
        from bench import lead_routing_sim

        lead_routing_sim.run(partners=args.sim_partners, leads=args.sim_leads, seed=args.sim_seed)
        return
    if args.suite == "crm_sync":
        from bench import crm_sync

        crm_sync.run(submissions=args.submissions * 2)
        return
    if args.suite == "leads":
        from bench import leads_routing

        leads_routing.run(partners=args.lead_partners, leads=args.leads, threads=args.lead_threads)
        return
    if args.suite == "lead_import":
        from bench import lead_import

        lead_import.run(partners=args.lead_partners, rows=args.import_rows)
        return
    started = time.perf_counter()
    tenant, admin = seed(args.partners, args.people)
    print(
        f"seeded tenant 'bench': {args.partners} partners, {args.people} people "
        f"in {time.perf_counter() - started:.1f} s"
    )
    from bench.pipeline_data import seed_pipeline, seed_snapshots
    from pipeline.services.stages import stages_install_defaults

    with tenant_context(tenant):
        stages_install_defaults(tenant=tenant)
    count, seconds = seed_pipeline(
        tenant_id=tenant.pk,
        admin_id=admin.pk,
        opportunities=args.opportunities,
        customers=args.customers,
    )
    print(f"pipeline: {count} opportunities with stage and field history ({seconds:.1f} s)")
    started = time.perf_counter()
    snapshots = seed_snapshots(
        tenant_id=tenant.pk, fiscal_start_month=tenant.fiscal_year_start_month
    )
    print(
        f"forecast snapshots: {snapshots} rows, a year of weeks "
        f"({time.perf_counter() - started:.1f} s)"
    )
    analyze()
    if args.suite in ("all", "pages"):
        pages(tenant, admin, args.rounds)
    if args.suite == "changes":
        pages(tenant, admin, args.rounds, only_changes=True)
    if args.suite in ("all", "forecast"):
        from bench import forecast

        forecast.run(tenant, admin, args.rounds)
    if args.suite in ("all", "metrics"):
        from bench import metrics_data

        metrics_data.run(tenant=tenant, admin=admin, rounds=args.rounds)
    if args.suite in ("all", "cosell_impact"):
        from bench import cosell_impact

        cosell_impact.run(tenant=tenant, admin=admin, rounds=args.rounds)
    if args.suite in ("all", "deals"):
        from bench import deals_data

        deals_data.run(
            tenant=tenant,
            registrations=args.registrations,
            calls=args.screenings,
            submissions=args.submissions,
            reseed=args.deals_reseed,
            ab=args.screening_ab,
        )


def pages(tenant, admin, rounds: int, only_changes: bool = False) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    from accounts.services.tokens import api_token_create
    from accounts.tenancy import tenant_context

    with tenant_context(tenant):
        membership = admin.memberships.get(tenant=tenant)
        _, secret = api_token_create(membership=membership, name="bench")
        from pipeline.models import Stage

        second_stage = Stage.objects.for_tenant(tenant).order_by("position")[1].pk
    from datetime import timedelta

    from django.utils import timezone

    thirty_days_ago = (timezone.localdate() - timedelta(days=30)).isoformat()
    client = Client()
    client.force_login(admin)
    pages = [
        ("vendor home", "/vendor/", {}),
        ("vendor home figures (after it)", "/vendor/figures/", {"HTTP_HX_REQUEST": "true"}),
        ("vendor partners list", "/vendor/partners/", {}),
        ("vendor partners list, last page", "/vendor/partners/?page=last", {}),
        ("vendor people list", "/vendor/people/", {}),
        (
            "API GET /api/v1/partners/",
            "/api/v1/partners/",
            {"HTTP_AUTHORIZATION": f"Bearer {secret}"},
        ),
        ("API GET /api/v1/me/", "/api/v1/me/", {"HTTP_AUTHORIZATION": f"Bearer {secret}"}),
        ("vendor pipeline", "/vendor/pipeline/", {}),
        ("vendor pipeline, one stage", f"/vendor/pipeline/?stage={second_stage}", {}),
        ("vendor pipeline, stale", "/vendor/pipeline/?stale=yes", {}),
        (
            "API GET /api/v1/opportunities/",
            "/api/v1/opportunities/",
            {"HTTP_AUTHORIZATION": f"Bearer {secret}"},
        ),
        (
            "API opportunities, one stage",
            f"/api/v1/opportunities/?stage_id={second_stage}",
            {"HTTP_AUTHORIZATION": f"Bearer {secret}"},
        ),
        ("vendor changes (7 days)", "/vendor/analytics/changes/", {}),
        ("vendor changes, new deals", "/vendor/analytics/changes/?part=new", {}),
        (
            "API GET /api/v1/pipeline-changes/",
            "/api/v1/pipeline-changes/",
            {"HTTP_AUTHORIZATION": f"Bearer {secret}"},
        ),
        (
            "API pipeline-changes, 30 days",
            f"/api/v1/pipeline-changes/?since={thirty_days_ago}",
            {"HTTP_AUTHORIZATION": f"Bearer {secret}"},
        ),
    ]
    if only_changes:
        pages = [page for page in pages if "changes" in page[0]]
    print(f"{'page':40} {'median ms':>10} {'p95 ms':>8} {'queries':>8} {'status':>7}")
    for label, url, headers in pages:
        median, p95, queries, status = measure(client, url, rounds, **headers)
        print(f"{label:40} {median:10.1f} {p95:8.1f} {queries:8d} {status:7d}")
    if only_changes:
        return
    partner_side = Client()
    with tenant_context(tenant):
        partner_admin = (
            admin.memberships.model.objects.filter(role="partner_rep").order_by("pk").first()
        )
    partner_side.force_login(partner_admin.user)
    for label, url in (
        ("partner rep: my opportunities", "/partner/opportunities/"),
        ("partner rep: board", "/partner/opportunities/board/"),
    ):
        median, p95, queries, status = measure(partner_side, url, rounds)
        print(f"{label:40} {median:10.1f} {p95:8.1f} {queries:8d} {status:7d}")

    explain(tenant, admin)


def explain(tenant, admin) -> None:  # type: ignore[no-untyped-def]
    """Does the main list query stay on indexes at this size?"""
    from accounts.tenancy import tenant_context
    from pipeline.selectors import opportunity_list_for

    with tenant_context(tenant):
        membership = admin.memberships.get(tenant=tenant)
        plan = opportunity_list_for(membership=membership)[:50].explain()
    seq = "Seq Scan on pipeline_opportunity" in plan
    print(
        f"opportunity list plan: {'SEQUENTIAL SCAN' if seq else 'index scan'} "
        f"({plan.splitlines()[0].strip()[:90]})"
    )


if __name__ == "__main__":
    main()

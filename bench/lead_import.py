"""Bulk lead import with a real Celery worker (not part of the tests).

    make bench BENCH_ARGS=lead_import
    make bench BENCH_ARGS="lead_import --lead-partners 50"   # 10,000 rows, 50 partners

Seeds a tenant `bench-import-<partners>` (bench/leads_routing.py: partners with
territories, specializations, capacity 1,000; each run adds its leads and offers to it),
uploads a CSV of N distinct leads through the service (as the page and API do), and with a
worker running (in-thread, 4 threads, the configured broker) prints: rows/s of checking and
storing (upload → imported), and the time from the upload to the last lead routed
(offered or queued).
"""

from __future__ import annotations

import csv
import io
import random
import time


def csv_file(rows: int, tag: str) -> bytes:
    rng = random.Random(5)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["company_name", "company_website", "country", "contact_email", "product_lines",
         "estimated_value", "source"]
    )  # fmt: skip
    for n in range(rows):
        domain = f"imp{tag}-{n}.example"
        writer.writerow(
            [
                f"Import {tag} Customer {n}",
                f"https://{domain}",
                rng.choice(["US", "DE", "JP", "FR", "CA"]),
                f"buyer@{domain}",
                rng.choice(["cloud", "security", "data", "cloud;data"]),
                str(rng.randint(1000, 90000)),
                "Bench import",
            ]
        )
    return out.getvalue().encode()


def run(*, partners: int, rows: int) -> None:
    from django.db.models import Count

    from accounts.tenancy import tenant_context
    from bench.deals_data import running_worker
    from bench.leads_routing import seed
    from leads.models import Lead, LeadImport
    from leads.services.imports import lead_import_create

    tenant, member = seed(partners, slug=f"bench-import-{partners}")
    raw = csv_file(rows, str(time.time_ns()))
    print(f"lead_import: {rows:,} rows ({len(raw) / 1e6:.1f} MB) among {partners} partners")

    def state(import_id: int) -> tuple[str, int]:
        with tenant_context(tenant):
            found = LeadImport.objects.filter(pk=import_id).values_list("status", flat=True)
            waiting = Lead.objects.filter(lead_import_id=import_id, status="new").count()
            return str(found.get()), waiting

    with running_worker():
        started = time.perf_counter()
        with tenant_context(tenant):
            lead_import = lead_import_create(
                tenant=tenant, actor=member, file_name="bench.csv", raw=raw
            )
        uploaded = time.perf_counter()
        imported = routed = None
        while routed is None:
            time.sleep(0.25)
            status, waiting = state(lead_import.pk)
            now = time.perf_counter()
            if status == "rejected":
                print("  rejected: the bench file has errors")
                return
            if status == "imported" and imported is None:
                imported = now
            if imported is not None and waiting == 0:
                routed = now
    with tenant_context(tenant):
        outcomes = dict(
            Lead.objects.filter(lead_import_id=lead_import.pk)
            .values("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
    assert imported is not None
    print(f"  upload (file checks, stored):     {uploaded - started:.2f} s")
    print(
        f"  checked, screened and stored:     {imported - started:.1f} s "
        f"= {rows / (imported - started):,.0f} rows/s"
    )
    print(
        f"  upload → last lead routed:        {routed - started:.1f} s "
        f"({rows / (routed - imported):,.0f} leads/s routed) {outcomes}"
    )

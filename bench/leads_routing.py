"""Lead routing time at size: a tenant `bench-leads` with N partners (territories,
specializations, some history of offers), then L leads each created and routed in process
(the task's work: screening, facts, locks, decision, offer). Prints p50 / p95 ms of the
routing and of creation, and how many were offered or queued.

    make bench BENCH_ARGS="leads --lead-partners 500 --leads 200 --lead-threads 4"
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
from collections import Counter


def seed(partners: int, slug: str = "bench-leads"):  # type: ignore[no-untyped-def]
    from accounts.models import Membership, Role, Tenant, User
    from accounts.tenancy import tenant_context
    from deals.models import ProductLine
    from partners.models import PartnerOrganization, PartnerTier

    tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug})
    user, _ = User.objects.get_or_create(email=f"cm@{slug}.test")
    rng = random.Random(12)
    with tenant_context(tenant):
        member, _ = Membership.objects.get_or_create(
            tenant=tenant, user=user, defaults={"role": Role.CHANNEL_MANAGER}
        )
        for code in ("cloud", "security", "data"):
            ProductLine.objects.get_or_create(tenant=tenant, code=code, defaults={"name": code})
        tier, _ = PartnerTier.objects.get_or_create(tenant=tenant, rank=1, defaults={"name": "T1"})
        have = PartnerOrganization.objects.filter(tenant=tenant).count()
        PartnerOrganization.objects.bulk_create(
            PartnerOrganization(
                tenant=tenant,
                name=f"Bench partner {n}",
                tier=tier,
                country="US",
                region="NA",
                territories=rng.sample(["US", "CA", "DE", "FR", "JP", "NA", "EMEA"], 2),
                specializations=rng.sample(["cloud", "security", "data"], 1),
                lead_capacity=1000,
            )
            for n in range(have, partners)
        )
    return tenant, member


def _lead_data(rng: random.Random, number: int) -> dict[str, object]:
    return {
        "company_name": f"Bench Customer {time.time_ns()} {number}",
        "country": rng.choice(["US", "DE", "JP", "BR"]),
        "product_lines": [rng.choice(["cloud", "security", "data"])],
        "estimated_value": "10000",
    }


def _create_and_route(tenant, member, data):  # type: ignore[no-untyped-def]
    """Create a lead (screened) and route it as the task does: (created ms, decided ms
    after creation, status)."""
    from accounts.tenancy import tenant_context
    from leads.services.intake import lead_create
    from leads.services.routing import lead_route

    started = time.perf_counter()
    with tenant_context(tenant):
        lead = lead_create(tenant=tenant, actor=member, data=data)
    middle = time.perf_counter()
    with tenant_context(tenant):
        result = lead_route(tenant=tenant, lead_id=lead.pk)
    ended = time.perf_counter()
    status = result.status if result is not None else "skipped"
    return (middle - started) * 1000, (ended - middle) * 1000, status


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def _report(label: str, created: list[float], routed: list[float], outcomes: Counter) -> None:
    print(f"{label}: {dict(outcomes)}")
    print(
        f"  create (screening included): p50 {_p(created, 50):.1f} ms, p95 {_p(created, 95):.1f} ms"
    )
    print(
        f"  created → decided (offer or queue committed): p50 {_p(routed, 50):.1f} ms, "
        f"p95 {_p(routed, 95):.1f} ms, max {max(routed):.1f} ms"
    )


def _concurrent(tenant, member, *, leads: int, threads: int) -> float:  # type: ignore[no-untyped-def]
    """`threads` threads, each creating and routing its share of the leads at once."""
    from django.db import connections

    rng = random.Random(11)
    datas = [_lead_data(rng, n) for n in range(leads)]
    results: list[tuple[float, float, str]] = []

    def work(part: list[dict[str, object]]) -> None:
        try:
            for data in part:
                results.append(_create_and_route(tenant, member, data))
        finally:
            connections.close_all()

    started = time.perf_counter()
    pool = [threading.Thread(target=work, args=(datas[i::threads],)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    _report(
        f"  {threads} threads at once, {leads} leads ({leads / elapsed:.1f} leads/s)",
        [r[0] for r in results],
        [r[1] for r in results],
        Counter(r[2] for r in results),
    )
    return elapsed


def run(*, partners: int, leads: int, threads: int = 4) -> None:
    tenant, member = seed(partners)
    rng = random.Random(7)
    results = [_create_and_route(tenant, member, _lead_data(rng, n)) for n in range(leads)]
    print(f"leads: {leads} leads among {partners} partners, one at a time")
    _report(
        "  sequential",
        [r[0] for r in results],
        [r[1] for r in results],
        Counter(r[2] for r in results),
    )
    _concurrent(tenant, member, leads=leads, threads=threads)
    print("  load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

"""Lead routing time at size: a tenant `bench-leads` with N partners (territories,
specializations, some history of offers), then L leads each created and routed in process
(the task's work: screening, facts, locks, decision, offer). Prints p50 / p95 ms of the
routing and of creation, and how many were offered or queued.

    make bench BENCH_ARGS="leads --lead-partners 500 --leads 200"
"""

from __future__ import annotations

import random
import statistics
import time


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


def run(*, partners: int, leads: int) -> None:
    from accounts.tenancy import tenant_context
    from leads.services.intake import lead_create
    from leads.services.routing import lead_route

    tenant, member = seed(partners)
    rng = random.Random(7)
    created, routed, outcomes = [], [], {"offered": 0, "queued": 0}
    for number in range(leads):
        data = {
            "company_name": f"Bench Customer {time.time_ns()} {number}",
            "country": rng.choice(["US", "DE", "JP", "BR"]),
            "product_lines": [rng.choice(["cloud", "security", "data"])],
            "estimated_value": "10000",
        }
        started = time.perf_counter()
        with tenant_context(tenant):
            lead = lead_create(tenant=tenant, actor=member, data=data)
        middle = time.perf_counter()
        with tenant_context(tenant):
            result = lead_route(tenant=tenant, lead_id=lead.pk)
        created.append((middle - started) * 1000)
        routed.append((time.perf_counter() - middle) * 1000)
        if result is not None:
            outcomes[result.status] += 1

    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1]

    print(f"leads: {leads} leads among {partners} partners: {outcomes}")
    print(
        f"  create (screening included): p50 {p(created, 50):.1f} ms, p95 {p(created, 95):.1f} ms"
    )
    print(f"  routing decision + offer:    p50 {p(routed, 50):.1f} ms, p95 {p(routed, 95):.1f} ms")

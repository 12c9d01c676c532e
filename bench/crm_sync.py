"""CRM sync: approval → the deal present in the (fake) Salesforce, with a real Celery
worker (not part of the tests).

    make bench BENCH_ARGS=crm_sync

Partner registrations are submitted through the service and auto-approved by the
worker's screening; the approval's outbox event makes the worker push the new deal to
the in-repo fake Salesforce (TLS on 127.0.0.1, tests/integrations/fake_crm.py), which
notes when each record arrives. Measured: from the approval (the deal's `created_at`:
approval opens it in the same transaction) to the record's creation in the fake CRM.
Goal: p95 ≤ 10 s.
"""

from __future__ import annotations

import time
from decimal import Decimal

from bench.deals_data import Timing, running_worker

TARGET_MS = 10_000


def setup(fake):  # type: ignore[no-untyped-def]
    from accounts.models import Membership, Role, Tenant, User
    from accounts.tenancy import tenant_context
    from deals.models import ProductLine
    from deals.services.configuration import registration_defaults_install
    from integrations.services.crm_mapping import DEFAULT_MAPPINGS
    from integrations.services.crm_settings import crm_connection_save
    from partners.models import PartnerOrganization, PartnerTier
    from pipeline.models import Stage
    from pipeline.services.stages import stages_install_defaults

    tenant, _ = Tenant.objects.get_or_create(slug="bench-crm", defaults={"name": "Bench CRM"})
    admin_user, _ = User.objects.get_or_create(email="admin@bench-crm.test")
    rep_user, _ = User.objects.get_or_create(email="rep@bench-crm.test")
    with tenant_context(tenant):
        stages_install_defaults(tenant=tenant)
        registration_defaults_install(tenant=tenant)
        ProductLine.objects.get_or_create(tenant=tenant, code="cloud", defaults={"name": "Cloud"})
        tier, _ = PartnerTier.objects.get_or_create(
            tenant=tenant, name="Gold", defaults={"rank": 3}
        )
        PartnerTier.objects.filter(pk=tier.pk).update(auto_approval_limit=Decimal("1000000"))
        partner, _ = PartnerOrganization.objects.get_or_create(
            tenant=tenant, name="Bench Partner", defaults={"tier": tier}
        )
        admin, _ = Membership.objects.get_or_create(
            tenant=tenant, user=admin_user, defaults={"role": Role.VENDOR_ADMIN}
        )
        rep, _ = Membership.objects.get_or_create(
            tenant=tenant, user=rep_user, defaults={"role": Role.PARTNER_REP, "partner": partner}
        )
        stages = {s.name: s.pk for s in Stage.objects.for_tenant(tenant)}
        crm_connection_save(
            tenant=tenant,
            actor=admin,
            system="salesforce",
            credentials=fake.credentials(),
            field_mapping=DEFAULT_MAPPINGS["salesforce"],
            stage_mapping=stages,
            is_active=True,
        )
    return tenant, rep


def run(*, submissions: int = 40) -> None:
    import random

    from django.test import override_settings

    from accounts.tenancy import tenant_context
    from bench.deals_data import random_word, submission
    from deals.models import DealRegistration
    from deals.services.registrations import registration_create
    from tests.integrations.fake_crm import RunningFake

    running = RunningFake()
    rng = random.Random()  # noqa: S311  (unique names per run)
    try:
        with override_settings(CRM_CA_BUNDLE=running.fake.cert):
            tenant, rep = setup(running.fake)
            ids = []
            with running_worker():
                for _ in range(submissions):
                    word = random_word(rng, 11)
                    with tenant_context(tenant):
                        registration = registration_create(
                            tenant=tenant,
                            actor=rep,
                            submit=True,
                            **submission(
                                f"{word} Ltd", f"https://www.{word.lower()}.io", "US", "cloud"
                            ),
                        )
                    ids.append(registration.pk)
                    deadline = time.monotonic() + 30
                    while time.monotonic() < deadline:
                        with tenant_context(tenant):
                            deal = DealRegistration.objects.get(pk=registration.pk).opportunity_id
                        if deal and str(deal) in running.fake.created_at:
                            break
                        time.sleep(0.01)
            samples, missing = [], 0
            with tenant_context(tenant):
                rows = list(
                    DealRegistration.objects.filter(pk__in=ids).values_list(
                        "opportunity_id", "opportunity__created_at"
                    )
                )
            for deal, decided in rows:
                arrived = running.fake.created_at.get(str(deal))
                if arrived is None or decided is None:
                    missing += 1
                    continue
                samples.append((arrived - decided).total_seconds() * 1000)
    finally:
        running.stop()
    if not samples:
        from collections import Counter

        from integrations.models import SyncError

        with tenant_context(tenant):
            statuses = Counter(
                DealRegistration.objects.filter(pk__in=ids).values_list("status", flat=True)
            )
            errors = list(SyncError.objects.values_list("message", flat=True)[:3])
        calls = running.fake.calls[:5]
        print(
            f"crm_sync: no deal reached the fake CRM ({dict(statuses)}; errors {errors}; {calls})"
        )
        return
    timing = Timing.of(samples)
    verdict = "OK" if timing.p95 <= TARGET_MS else "OVER"
    print(
        f"crm_sync: approval → present in the fake Salesforce, {len(samples)} deals "
        f"({missing} missing): p50 {timing.p50:.0f} ms, p95 {timing.p95:.0f} ms, "
        f"p99 {timing.p99:.0f} ms, worst {timing.worst:.0f} ms "
        f"(goal p95 ≤ {TARGET_MS} ms: {verdict})"
    )

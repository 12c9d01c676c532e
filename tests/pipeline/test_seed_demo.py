"""The demo seeds deals across the pipeline, once."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from accounts.models import Tenant
from accounts.tenancy import tenant_context
from pipeline.models import Activity, CoSellRequest, Opportunity


def deals_by_state(tenant: Tenant) -> list[tuple[str, str]]:
    with tenant_context(tenant):
        return sorted(
            Opportunity.objects.for_tenant(tenant)
            .filter(registration__isnull=True)  # the deal registrations' demo opens its own
            .values_list("status", "stage__name")
        )


def test_seed_demo_creates_deals_in_every_state_once(db: None):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    acme = Tenant.objects.get(slug="acme")
    first = deals_by_state(acme)
    assert len(first) == 6
    assert {status for status, _ in first} == {"open", "won"}  # 6 deals: journeys 0..5
    assert len({stage for _, stage in first}) == 6
    with tenant_context(acme):
        # one call per deal, and the co-sell request's line on its deal's activity log
        assert Activity.objects.for_tenant(acme).count() == 7
        assert CoSellRequest.objects.for_tenant(acme).count() >= 1
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert deals_by_state(acme) == first
    assert "Demo deals ready: 0 created." in again.getvalue()

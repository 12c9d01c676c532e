from __future__ import annotations

from typing import Any

import pytest

from accounts.tenancy import tenant_context
from pipeline.models import Opportunity, Stage
from pipeline.services.customers import customer_get_or_create
from pipeline.services.opportunities import opportunity_create
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World


@pytest.fixture
def stages(world: World) -> list[Stage]:
    """Both tenants get the default stages; the first tenant's, in order."""
    for tenant in (world.other_tenant, world.tenant):
        with tenant_context(tenant):
            stages_install_defaults(tenant=tenant)
    with tenant_context(world.tenant):
        return list(Stage.objects.for_tenant(world.tenant))


@pytest.fixture
def make_deal(world: World, stages):
    """A deal created through the service (so with its creation history), by default the
    partner rep's; `actor` is a World attribute."""
    count = iter(range(1, 10_000))

    def make(actor: str = "partner_rep", **fields: Any) -> Opportunity:
        member = world.member(actor)
        with tenant_context(member.tenant):
            customer, _ = customer_get_or_create(
                tenant=member.tenant, name=f"Customer {next(count)} Ltd"
            )
            return opportunity_create(
                tenant=member.tenant,
                actor=member,
                customer=customer,
                name=fields.pop("name", "Rollout"),
                owner=member.user,
                partner_id=member.partner_id,
                **fields,
            )

    return make

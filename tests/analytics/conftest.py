from __future__ import annotations

from dataclasses import dataclass

import pytest

from accounts.models import Role
from accounts.tenancy import tenant_context
from analytics.periods import Period, parse_period
from deals.models import ProductLine
from partners.models import PartnerOrganization, Region
from pipeline.models import Stage
from pipeline.services.stages import stages_install_defaults
from tests.accounts.factories import MembershipFactory
from tests.analytics.metrics_data import History, generate
from tests.conftest import World
from tests.partners.factories import PartnerOrganizationFactory, PartnerTierFactory


@dataclass
class MetricsWorld:
    world: World
    stages: list[Stage]
    partners: list[PartnerOrganization]
    lines: list[ProductLine]
    history: History
    period: Period


@pytest.fixture
def metrics_world(world: World) -> MetricsWorld:
    return build_metrics_world(world)


def build_metrics_world(world: World) -> MetricsWorld:
    """Four partners in two tiers and three regions, two product lines, and 160 generated
    deals (a tenth of them direct) with their moves, close-date history and registrations."""
    tenant = world.tenant
    silver = PartnerTierFactory(tenant=tenant, name="Silver", rank=2)
    fabrikam = PartnerOrganizationFactory(
        tenant=tenant, tier=silver, name="Fabrikam", region=Region.NORTH_AMERICA, country="US"
    )
    tailspin = PartnerOrganizationFactory(
        tenant=tenant, tier=silver, name="Tailspin", region=Region.APAC, country="JP"
    )
    partners = [world.partner, world.other_partner, fabrikam, tailspin]
    owners = {
        world.partner.pk: [world.partner_rep.user, world.partner_admin.user],
        world.other_partner.pk: [world.other_partner_rep.user],
        0: [world.channel_manager.user],
    }
    for partner in (fabrikam, tailspin):
        member = MembershipFactory(tenant=tenant, role=Role.PARTNER_REP, partner=partner)
        owners[partner.pk] = [member.user]
    with tenant_context(tenant):
        stages_install_defaults(tenant=tenant)
        stages = list(Stage.objects.for_tenant(tenant).order_by("position"))
        lines = [
            ProductLine.objects.create(tenant=tenant, code="cloud", name="Cloud"),
            ProductLine.objects.create(tenant=tenant, code="edge", name="Edge"),
        ]
    history = generate(
        tenant=tenant, partners=partners, owners=owners, stages=stages, lines=lines, count=160
    )
    return MetricsWorld(world, stages, partners, lines, history, parse_period("2026-Q2"))

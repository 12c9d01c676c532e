"""Generated forecast data: deals of several partners, tiers, regions, product lines and
channel managers, open, won and lost, in and out of the period, with stage history."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import Role
from accounts.tenancy import tenant_context
from analytics.periods import Period, parse_period
from deals.models import DealRegistration, ProductLine, RegistrationProductLine
from partners.models import PartnerOrganization, Region
from pipeline.models import ForecastCategory, LostReason, Opportunity, Stage, StageMove
from pipeline.services.customers import customer_get_or_create
from pipeline.services.opportunities import opportunity_create
from pipeline.services.stages import stages_install_defaults
from tests.accounts.factories import MembershipFactory
from tests.analytics.metrics_data import History
from tests.analytics.metrics_data import generate as generate_history
from tests.conftest import World
from tests.partners.factories import PartnerOrganizationFactory, PartnerTierFactory
from tests.pipeline.factories import CustomerFactory

PERIOD = "2027-Q1"
OVERRIDES = ("", "", "", "commit", "best_case", "pipeline", "omitted")


@dataclass
class Generated:
    period: Period
    deals: list[Opportunity]
    partners: list[PartnerOrganization]


def moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def install_stages(world: World) -> list[Stage]:
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
        return list(Stage.objects.for_tenant(world.tenant).order_by("position"))


def extra_partners(world: World) -> list[PartnerOrganization]:
    """A third partner in another tier and region, with a channel manager."""
    silver = PartnerTierFactory(tenant=world.tenant, name="Silver", rank=2)
    with tenant_context(world.tenant):
        PartnerOrganization.objects.filter(pk=world.partner.pk).update(
            channel_manager=world.channel_manager.user
        )
    third = PartnerOrganizationFactory(
        tenant=world.tenant, tier=silver, name="Fabrikam", country="DE", region="EMEA"
    )
    return [world.partner, world.other_partner, third]


def generate(world: World, *, count: int = 60, seed: int = 7) -> Generated:
    """Deals with random partner (or direct), stage, status, amount (sometimes none),
    dates in and around the period, category override, customer country, product lines;
    each with its stage moves (entered, then closed for won and lost deals)."""
    rng = random.Random(seed)
    period = parse_period(PERIOD)
    stages = install_stages(world)
    partners = extra_partners(world)
    open_stages = [s for s in stages if s.kind == "open"]
    won = next(s for s in stages if s.kind == "won")
    lost = next(s for s in stages if s.kind == "lost")
    owner = MembershipFactory(tenant=world.tenant, role=Role.PARTNER_REP, partner=world.partner)
    customers = [
        CustomerFactory(tenant=world.tenant, country=c) for c in ("US", "DE", "BR", "JP", "US")
    ]
    with tenant_context(world.tenant):
        lines = [
            ProductLine.objects.create(tenant=world.tenant, code=c, name=c.title())
            for c in ("cloud", "edge")
        ]
        reason = LostReason.objects.for_tenant(world.tenant).first()
        deals = [
            _deal(world, rng, period, (open_stages, won, lost), partners, customers, owner, reason)
            for _ in range(count)
        ]
        for deal in deals:
            _history(world, rng, deal, open_stages)
            _registration(world, rng, deal, lines, owner)
    return Generated(period, deals, partners)


def _deal(world, rng, period, stage_sets, partners, customers, owner, reason) -> Opportunity:
    open_stages, won, lost = stage_sets
    status = rng.choice(["open"] * 6 + ["won"] * 3 + ["lost"])
    day = period.start + timedelta(days=rng.randint(-40, 130))
    stage = {"open": rng.choice(open_stages), "won": won, "lost": lost}[status]
    return Opportunity.objects.create(
        tenant=world.tenant,
        partner=rng.choice([*partners, None]),
        owner=owner.user,
        customer=rng.choice(customers),
        name="Deal",
        currency="USD",
        amount=None if rng.random() < 0.1 else Decimal(rng.randint(100, 90000)) / 4,
        expected_close_date=None if rng.random() < 0.05 else day,
        stage=stage,
        status=status,
        forecast_category_override=rng.choice(OVERRIDES) if status == "open" else "",
        closed_on=day if status != "open" else None,
        lost_reason=reason if status == "lost" else None,
    )


def _history(world, rng, deal: Opportunity, open_stages: list[Stage]) -> None:
    start = moment(date(2026, 6, 1)) + timedelta(hours=rng.randint(0, 4000))
    entered = open_stages[: rng.randint(1, len(open_stages))]
    if deal.status == "open":
        entered = [s for s in open_stages if s.position <= deal.stage.position]
    moves = [
        StageMove(
            tenant=world.tenant,
            opportunity=deal,
            to_stage=stage,
            to_status="open",
            created_at=start + timedelta(hours=step),
        )
        for step, stage in enumerate(entered)
    ]
    if deal.status != "open":
        moves.append(
            StageMove(
                tenant=world.tenant,
                opportunity=deal,
                to_stage=deal.stage,
                to_status=deal.status,
                created_at=start + timedelta(days=30),
            )
        )
    StageMove.objects.bulk_create(moves)


def _registration(world, rng, deal: Opportunity, lines: list[ProductLine], owner) -> None:
    if deal.partner_id is None or rng.random() < 0.2:
        return
    registration = DealRegistration.objects.create(
        tenant=world.tenant,
        partner_id=deal.partner_id,
        owner=owner.user,
        customer_name="Customer",
        currency="USD",
        status="approved",
        opportunity=deal,
        protected_until=date(2027, 6, 1),
    )
    for line in rng.sample(lines, rng.randint(0, 2)):
        RegistrationProductLine.objects.create(
            tenant=world.tenant, registration=registration, product_line=line
        )


@pytest.fixture
def generated(world: World) -> Generated:
    return generate(world)


CATEGORY_ADDS = {
    ForecastCategory.CLOSED: ("commit", "best_case", "pipeline"),
    ForecastCategory.COMMIT: ("commit", "best_case", "pipeline"),
    ForecastCategory.BEST_CASE: ("best_case", "pipeline"),
    ForecastCategory.PIPELINE: ("pipeline",),
    ForecastCategory.OMITTED: (),
}


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
    history = generate_history(
        tenant=tenant, partners=partners, owners=owners, stages=stages, lines=lines, count=160
    )
    return MetricsWorld(world, stages, partners, lines, history, parse_period("2026-Q2"))

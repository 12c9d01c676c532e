"""Leads fixtures: the world with product lines and two partners serving the US, and a
lead factory going through the real service."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import DomainEvent
from accounts.tenancy import tenant_context
from deals.models import ProductLine
from deals.services.configuration import registration_defaults_install
from leads.models import Lead
from leads.services.intake import lead_create
from leads.services.routing import RoutingResult, lead_route
from partners.models import PartnerOrganization
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World


def set_profile(partner: PartnerOrganization, **fields: Any) -> None:
    with tenant_context(partner.tenant_id):
        PartnerOrganization.objects.filter(pk=partner.pk).update(**fields)


@pytest.fixture
def leads_world(world: World) -> World:
    return with_lead_routing(world)


def with_lead_routing(world: World) -> World:
    """Product lines `cloud` and `security` per tenant; Northwind and Contoso both serve
    the US (Northwind also specializes in cloud), capacity 10 from the Gold tier."""
    for tenant in (world.tenant, world.other_tenant):
        with tenant_context(tenant):
            stages_install_defaults(tenant=tenant)
            registration_defaults_install(tenant=tenant)
            ProductLine.objects.create(tenant=tenant, code="cloud", name="Cloud Suite")
            ProductLine.objects.create(tenant=tenant, code="security", name="Security")
    set_profile(world.partner, territories=["US"], specializations=["cloud"])
    set_profile(world.other_partner, territories=["NA"], specializations=[])
    return world


def lead_data(**overrides: Any) -> dict[str, Any]:
    return {
        "company_name": "Fabrikam Inc.",
        "company_website": "https://www.fabrikam.com",
        "country": "US",
        "contact_name": "Jane Doe",
        "contact_email": "jane@fabrikam.com",
        "contact_phone": "+1 555 0100",
        "product_lines": ["cloud"],
        "estimated_value": "25000",
        "currency": "USD",
        "source": "Webinar Q4",
        "notes": "Asked for a demo.",
        **overrides,
    }


def make_lead(world: World, **overrides: Any) -> Lead:
    with tenant_context(world.tenant):
        return lead_create(
            tenant=world.tenant, actor=world.channel_manager, data=lead_data(**overrides)
        )


def route(world: World, lead: Lead) -> RoutingResult | None:
    with tenant_context(world.tenant):
        return lead_route(tenant=world.tenant, lead_id=lead.pk)


def reload(world: World, lead: Lead) -> Lead:
    with tenant_context(world.tenant):
        return Lead.objects.get(pk=lead.pk)


def event_dispatch_of(world: World, name: str) -> tuple[str, tuple[int, int]]:
    """The dispatch task of the latest lead event `name` (the outbox enqueues it on commit,
    for webhooks and the change feed)."""
    with tenant_context(world.tenant):
        event = DomainEvent.objects.filter(name=name).latest("id")
    return ("accounts.tasks.event_dispatch", (world.tenant.pk, event.pk))

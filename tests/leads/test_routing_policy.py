"""The routing rules settings (vendor admins): the page and the service. A saved policy
grows its version, the next routing follows the new chain and records the version; bad
input changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.errors import PermissionDenied, ValidationFailed
from accounts.tenancy import tenant_context
from leads.forms import RoutingPolicyForm
from leads.models import LeadOffer, RoutingPolicy
from leads.services.policy import routing_policy_for, routing_policy_update
from tests.leads.conftest import make_lead, route, set_profile


def policy_of(world) -> tuple:
    with tenant_context(world.tenant):
        policy = routing_policy_for(world.tenant)
        return policy.version, policy.rules, policy.weights, policy.max_hops


def page_form(world, **changes) -> dict:
    with tenant_context(world.tenant):
        initial = RoutingPolicyForm.initial_for(routing_policy_for(world.tenant))
    return {**initial, **changes}


@pytest.mark.parametrize(
    ("actor", "status"),
    [("vendor_admin", 200), ("channel_manager", 403), ("partner_admin", 403)],
)
def test_settings_page_role_matrix(leads_world, client_for, actor, status):
    response = client_for(leads_world.member(actor)).get(reverse("vendor:routing_settings"))

    assert response.status_code == status


def test_the_page_reorders_the_chain_and_bumps_the_version(leads_world, client_for):
    form = page_form(
        leads_world,
        product_line_mode="required",
        product_line_order=1,
        territory_order=2,
        certification_mode="off",
        max_hops=5,
    )

    response = client_for(leads_world.vendor_admin).post(reverse("vendor:routing_settings"), form)

    assert response.status_code == 302
    version, rules, _, hops = policy_of(leads_world)
    assert (version, hops) == (2, 5)
    assert rules == [
        {"rule": "product_line", "required": True},
        {"rule": "territory", "required": True},
        {"rule": "capacity", "required": True},
        {"rule": "not_declined", "required": True},
    ]


def test_routing_follows_the_new_chain_and_records_the_version(leads_world):
    set_profile(leads_world.partner, specializations=[])
    set_profile(leads_world.other_partner, specializations=["cloud"], territories=["DE"])
    with tenant_context(leads_world.tenant):
        routing_policy_update(
            tenant=leads_world.tenant,
            actor=leads_world.vendor_admin,
            rules=[
                {"rule": "product_line", "required": True},
                {"rule": "territory", "required": False},
            ],
        )
    lead = make_lead(leads_world)

    route(leads_world, lead)

    with tenant_context(leads_world.tenant):
        offer = LeadOffer.objects.get(lead=lead)
    assert (offer.partner_id, offer.policy_version) == (leads_world.other_partner.pk, 2)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rules": []}, "rules"),
        ({"rules": [{"rule": "astrology", "required": True}]}, "rules"),
        ({"rules": [{"rule": "territory", "required": "yes"}]}, "rules"),
        ({"rules": [{"rule": "territory", "required": True}] * 2}, "rules"),
        ({"weights": {"acceptance": 1}}, "weights"),
        ({"weights": {"acceptance": -1, "conversion": 1, "headroom": 1, "fairness": 1}}, "weights"),
        ({"scoring": "astrology"}, "scoring"),
        ({"max_hops": 0}, "max_hops"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"working_days": [7]}, "working_days"),
        ({"day_starts_at": 18, "day_ends_at": 9}, "day_ends_at"),
        ({"version": 9}, "version"),
    ],
)
def test_bad_policy_changes_nothing(leads_world, changes, field):
    before = policy_of(leads_world)

    with tenant_context(leads_world.tenant), pytest.raises(ValidationFailed) as error:
        routing_policy_update(tenant=leads_world.tenant, actor=leads_world.vendor_admin, **changes)

    assert field in error.value.fields
    assert policy_of(leads_world) == before


def test_a_channel_manager_cannot_change_the_policy(leads_world):
    before = policy_of(leads_world)

    with tenant_context(leads_world.tenant), pytest.raises(PermissionDenied):
        routing_policy_update(
            tenant=leads_world.tenant, actor=leads_world.channel_manager, max_hops=9
        )

    assert policy_of(leads_world) == before


def test_another_tenants_policy_is_untouched(leads_world):
    with tenant_context(leads_world.tenant):
        routing_policy_update(tenant=leads_world.tenant, actor=leads_world.vendor_admin, max_hops=7)
    with tenant_context(leads_world.other_tenant):
        assert routing_policy_for(leads_world.other_tenant).max_hops == 3
        assert RoutingPolicy.objects.count() == 1

"""Who looks after a partner for the vendor: its channel manager while their membership of
the tenant is active; once they leave or are deactivated, the tenant's active channel
managers (else its vendor admins). Registration reviews and co-sell requests follow it."""

# ruff: noqa: F811  (the deals fixtures are imported to be shared, then used as parameters)
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Membership, Notification, Role
from accounts.services.memberships import membership_set_active
from accounts.tenancy import tenant_context
from deals.models import DealRegistration
from deals.services.timeline import reviewers_of
from partners.models import PartnerOrganization
from partners.selectors import partner_managers
from pipeline.services.cosell_requests import cosell_request_create
from tests.accounts.factories import MembershipFactory
from tests.conftest import World
from tests.deals.conftest import deals_world, register  # noqa: F401  (fixtures)
from tests.pipeline.factories import OpportunityFactory


def assign(world: World, manager: Membership | None) -> PartnerOrganization:
    with tenant_context(world.tenant):
        PartnerOrganization.objects.filter(pk=world.partner.pk).update(
            channel_manager=manager.user if manager else None
        )
        return PartnerOrganization.objects.select_related("channel_manager").get(
            pk=world.partner.pk
        )


def deactivate(world: World, membership: Membership) -> None:
    with tenant_context(world.tenant):
        membership_set_active(
            tenant=world.tenant, actor=world.vendor_admin, membership_id=membership.pk, active=False
        )


def managers(world: World, partner: PartnerOrganization) -> list[str]:
    with tenant_context(world.tenant):
        return sorted(user.email for user in partner_managers(partner=partner))


def second_manager(world: World) -> Membership:
    return MembershipFactory(
        tenant=world.tenant, role=Role.CHANNEL_MANAGER, user__email="cm2@acme.test"
    )


def test_the_assigned_channel_manager_while_active(world: World):
    second_manager(world)
    partner = assign(world, world.channel_manager)
    assert managers(world, partner) == ["cm@acme.test"]


def test_a_deactivated_channel_manager_falls_back_to_the_active_ones(world: World):
    second_manager(world)
    partner = assign(world, world.channel_manager)
    deactivate(world, world.channel_manager)
    assert managers(world, partner) == ["cm2@acme.test"]


def test_a_channel_manager_who_left_the_tenant_falls_back(world: World):
    second_manager(world)
    partner = assign(world, world.channel_manager)
    with tenant_context(world.tenant):
        Membership.objects.filter(pk=world.channel_manager.pk).delete()
    assert managers(world, partner) == ["cm2@acme.test"]


def test_no_assigned_manager_means_every_active_channel_manager(world: World):
    second_manager(world)
    partner = assign(world, None)
    assert managers(world, partner) == ["cm2@acme.test", "cm@acme.test"]


def test_with_no_active_channel_manager_the_vendor_admins(world: World):
    partner = assign(world, world.channel_manager)
    deactivate(world, world.channel_manager)
    assert managers(world, partner) == ["admin@acme.test"]


def test_registration_reviewers_skip_a_deactivated_channel_manager(deals_world: World, register):
    w = deals_world
    second_manager(w)
    assign(w, w.channel_manager)
    deactivate(w, w.channel_manager)
    registration = register(w.partner_rep, screen=False)
    with tenant_context(w.tenant):
        registration = DealRegistration.objects.select_related("partner__channel_manager").get(
            pk=registration.pk
        )
        assert [u.email for u in reviewers_of(registration)] == ["cm2@acme.test"]


def test_a_cosell_request_reaches_the_active_channel_managers(deals_world: World):
    w = deals_world
    second_manager(w)
    assign(w, w.channel_manager)
    deactivate(w, w.channel_manager)
    deal = OpportunityFactory(
        tenant=w.tenant, partner=w.partner, owner=w.partner_rep.user, amount=Decimal(1000)
    )
    with tenant_context(w.tenant):
        cosell_request_create(
            tenant=w.tenant,
            actor=w.partner_rep,
            opportunity_id=deal.pk,
            resource_type="marketing_support",
            need="A webinar",
            need_by=timezone.localdate() + timedelta(days=7),
        )
        recipients = list(
            Notification.objects.filter(verb="cosell_requested").values_list(
                "recipient__email", flat=True
            )
        )
    assert recipients == ["cm2@acme.test"]

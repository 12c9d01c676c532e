"""Stale-deal alerts and digests follow memberships: a deactivated channel manager gets no
digest (checked again at send time) and their partner's alerts reach the tenant's active
channel managers instead."""

# ruff: noqa: F811  (fixtures imported to be shared, then used as parameters)
from __future__ import annotations

from datetime import timedelta

from django.core import mail

from accounts.models import Role
from accounts.services.memberships import membership_set_active
from pipeline.services.staleness import stale_digest_prepare, stale_digest_send
from tests.accounts.factories import MembershipFactory
from tests.conftest import World
from tests.pipeline.test_staleness import (
    START,
    make_deal,
    managed,  # noqa: F401  (fixture)
    notifications,
    scan,
)


def deactivate(world: World, in_tenant, membership) -> None:  # noqa: ANN001
    with in_tenant(world.tenant):
        membership_set_active(
            tenant=world.tenant, actor=world.vendor_admin, membership_id=membership.pk, active=False
        )


def test_a_digest_prepared_while_active_is_not_sent_after_deactivation(managed: World, in_tenant):
    make_deal(managed)
    now = START + timedelta(days=31)
    scan(managed, in_tenant, now)
    with in_tenant(managed.tenant):
        prepared = stale_digest_prepare(tenant=managed.tenant, now=now + timedelta(hours=1))
    assert len(prepared) == 2  # the rep's and the channel manager's

    deactivate(managed, in_tenant, managed.channel_manager)
    for digest_id in prepared:
        with in_tenant(managed.tenant):
            stale_digest_send(tenant=managed.tenant, digest_id=digest_id)

    assert [m.to for m in mail.outbox] == [["rep@northwind.test"]]
    with in_tenant(managed.tenant):  # nor is it listed for the worker again
        assert len(stale_digest_prepare(tenant=managed.tenant, now=now + timedelta(hours=2))) == 0


def test_alerts_of_a_partner_whose_manager_was_deactivated_reach_the_active_ones(
    managed: World, in_tenant
):
    MembershipFactory(tenant=managed.tenant, role=Role.CHANNEL_MANAGER, user__email="cm2@acme.test")
    deactivate(managed, in_tenant, managed.channel_manager)
    make_deal(managed)

    scan(managed, in_tenant, START + timedelta(days=31))

    assert sorted({n[0] for n in notifications(managed, in_tenant)}) == [
        "cm2@acme.test",
        "rep@northwind.test",
    ]

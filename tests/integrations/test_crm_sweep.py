"""The sweep for lost CRM pushes (beat `crm-push-sweep`): an approved registration's deal
the CRM was never sent (the worker died after the commit) and a linked deal edited after
its last sync are queued again; changes younger than the grace period, registrations
decided before the connection existed and other tenants' deals are not; ten sweeps make
one CRM record."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_context
from deals.models import DealRegistration
from integrations import tasks
from integrations.models import CrmConnection, CrmRecordState
from integrations.services.crm_sync import crm_push, crm_pushes_lost
from pipeline.models import Opportunity
from pipeline.services.stages import stages_install_defaults
from tests.pipeline.factories import OpportunityFactory

FUTURE = timezone.localdate() + timedelta(days=40)


def registered(world, tenant=None, partner=None, *, decided_ago: timedelta) -> Opportunity:
    tenant = tenant or world.tenant
    partner = partner or world.partner
    deal = OpportunityFactory(
        tenant=tenant, partner=partner, name="Fleet renewal", amount=Decimal("40000"),
        expected_close_date=FUTURE,
    )  # fmt: skip
    with tenant_context(tenant):
        DealRegistration.objects.create(
            tenant=tenant, partner=partner, owner=world.partner_rep.user,
            customer_name="Contoso", currency="EUR", status=DealRegistration.Status.APPROVED,
            decided_at=timezone.now() - decided_ago, opportunity=deal, protected_until=FUTURE,
        )  # fmt: skip
    return deal


@pytest.fixture
def older_connection(world, connected):
    with tenant_context(world.tenant):
        CrmConnection.objects.filter(pk=connected.pk).update(
            created_at=timezone.now() - timedelta(days=1)
        )
    return connected


def lost(world, connection) -> list[int]:
    with tenant_context(world.tenant):
        return crm_pushes_lost(tenant=world.tenant, connection_id=connection.pk)


def test_a_registration_never_pushed_is_found(world, older_connection):
    deal = registered(world, decided_ago=timedelta(minutes=10))
    registered(world, decided_ago=timedelta(seconds=5))  # its push is still on its way
    registered(world, decided_ago=timedelta(days=3))  # before the CRM was connected

    assert lost(world, older_connection) == [deal.pk]


def test_another_tenants_registrations_are_never_swept(world, older_connection):
    with tenant_context(world.other_tenant):
        stages_install_defaults(tenant=world.other_tenant)
    registered(
        world, world.other_tenant, world.other_tenant_partner, decided_ago=timedelta(minutes=10)
    )

    assert lost(world, older_connection) == []


def test_ten_sweeps_make_one_crm_record(world, older_connection, salesforce, monkeypatch):
    deal = registered(world, decided_ago=timedelta(minutes=10))
    monkeypatch.setattr(tasks.crm_push, "delay", lambda *args: tasks.crm_push.run(*args))

    queued = [tasks.crm_push_sweep() for _ in range(10)]

    assert queued == [1] + [0] * 9  # pushed once: nothing is lost any more
    assert len(salesforce.by_prm_id(deal.pk)) == 1
    assert salesforce.count("PATCH") == 1


def test_resends_after_a_lost_record_of_the_push_stay_one_record(
    world, older_connection, salesforce, monkeypatch
):
    deal = registered(world, decided_ago=timedelta(minutes=10))
    monkeypatch.setattr(tasks.crm_push, "delay", lambda *args: tasks.crm_push.run(*args))

    for _ in range(10):  # the CRM got it, the worker died before recording it
        tasks.crm_push_sweep()
        with tenant_context(world.tenant):
            CrmRecordState.objects.all().delete()

    assert len(salesforce.by_prm_id(deal.pk)) == 1
    assert salesforce.count("PATCH") == 10


def test_a_linked_deal_edited_after_its_sync_is_found(world, older_connection, salesforce):
    deal = registered(world, decided_ago=timedelta(minutes=10))
    with tenant_context(world.tenant):
        crm_push(tenant=world.tenant, connection_id=older_connection.pk, opportunity_id=deal.pk)
    assert lost(world, older_connection) == []

    with tenant_context(world.tenant):  # edited, and the push that followed was lost
        Opportunity.objects.filter(pk=deal.pk).update(
            name="Renamed", updated_at=timezone.now() - timedelta(minutes=5)
        )
        CrmRecordState.objects.update(synced_at=timezone.now() - timedelta(minutes=6))

    assert lost(world, older_connection) == [deal.pk]

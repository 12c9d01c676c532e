"""The deal's owner both ways: CRM users (Salesforce Users, HubSpot owners) are matched
to active vendor members of the same tenant by e-mail; a vendor admin may set one; an
unmapped CRM owner is a conflict on the status page (never dropped, never guessed); another
tenant's or an inactive member is never assigned."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.errors import NotFound, ValidationFailed
from accounts.models import Membership
from accounts.tenancy import tenant_context
from integrations.models import CrmUserMapping, SyncConflict
from integrations.services.crm_conflicts import sync_conflict_resolve
from integrations.services.crm_mapping import DEFAULT_MAPPINGS
from integrations.services.crm_sync import crm_pull, crm_push
from integrations.services.crm_users import crm_user_map
from pipeline.models import Opportunity
from pipeline.services.stages import stages_install_defaults
from tests.integrations.crm_fixtures import connect, connect_hubspot
from tests.pipeline.factories import OpportunityFactory

FUTURE = timezone.localdate() + timedelta(days=40)
USERS = [
    {"Id": "005CM", "Name": "Cara Manager", "Email": "CM@acme.test"},  # our channel manager
    {"Id": "005GX", "Name": "Globex admin", "Email": "admin@globex.test"},  # another tenant's
    {"Id": "005RP", "Name": "Partner rep", "Email": "rep@northwind.test"},  # not vendor people
    {"Id": "005NO", "Name": "Nobody", "Email": "nobody@acme.test"},
]


@pytest.fixture
def deal(world):
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    return OpportunityFactory(
        tenant=world.tenant, partner=world.partner, name="Fleet renewal",
        amount=Decimal("40000"), expected_close_date=FUTURE, owner=world.vendor_admin.user,
    )  # fmt: skip


def push(world, connection, deal):
    with tenant_context(world.tenant):
        return crm_push(tenant=world.tenant, connection_id=connection.pk, opportunity_id=deal.pk)


def pull(world, connection):
    with tenant_context(world.tenant):
        return crm_pull(tenant=world.tenant, connection_id=connection.pk)


def owner_of(world, deal) -> int:
    with tenant_context(world.tenant):
        return Opportunity.objects.get(pk=deal.pk).owner_id


def conflicts(world) -> list[tuple]:
    with tenant_context(world.tenant):
        return list(
            SyncConflict.objects.filter(status="open").values_list("field", "kind", "theirs")
        )


def mappings(world) -> dict[str, int | None]:
    with tenant_context(world.tenant):
        return dict(CrmUserMapping.objects.values_list("crm_user_id", "membership_id"))


def test_a_crm_owner_comes_back_as_the_member_with_that_email(world, salesforce, deal):
    connection = connect(world, salesforce)
    salesforce.users = USERS
    push(world, connection, deal)
    salesforce.edit(salesforce.by_prm_id(deal.pk)[0]["Id"], OwnerId="005CM")

    assert pull(world, connection) == 1

    assert owner_of(world, deal) == world.channel_manager.user_id
    assert mappings(world) == {
        "005CM": world.channel_manager.pk,
        "005GX": None,  # never a member of another tenant
        "005RP": None,  # nor a partner's person
        "005NO": None,
    }
    assert conflicts(world) == []


def test_an_unmapped_crm_owner_is_a_conflict_until_an_admin_maps_them(world, salesforce, deal):
    connection = connect(world, salesforce)
    salesforce.users = USERS
    push(world, connection, deal)
    salesforce.edit(salesforce.by_prm_id(deal.pk)[0]["Id"], OwnerId="005NO")

    pull(world, connection)

    assert owner_of(world, deal) == world.vendor_admin.user_id  # unchanged, not dropped
    assert conflicts(world) == [("owner", "refused", "crm:005NO")]
    with tenant_context(world.tenant):
        conflict = SyncConflict.objects.get()
        assert "005NO (Nobody, nobody@acme.test)" in conflict.reason
        mapping = CrmUserMapping.objects.get(crm_user_id="005NO")
        crm_user_map(
            tenant=world.tenant, actor=world.vendor_admin, mapping_id=mapping.pk,
            membership_id=world.channel_manager.pk,
        )  # fmt: skip
        sync_conflict_resolve(
            tenant=world.tenant, actor=world.vendor_admin, conflict_id=conflict.pk,
            resolution="take_theirs", value="",
        )  # fmt: skip
    assert owner_of(world, deal) == world.channel_manager.user_id
    assert conflicts(world) == []
    pull(world, connection)  # the admin's choice survives the next match by e-mail
    assert mappings(world)["005NO"] == world.channel_manager.pk


def test_an_inactive_member_is_never_the_owner(world, salesforce, deal):
    connection = connect(world, salesforce)
    salesforce.users = USERS
    with tenant_context(world.tenant):
        Membership.objects.filter(pk=world.channel_manager.pk).update(is_active=False)
    push(world, connection, deal)
    salesforce.edit(salesforce.by_prm_id(deal.pk)[0]["Id"], OwnerId="005CM")

    pull(world, connection)

    assert owner_of(world, deal) == world.vendor_admin.user_id
    assert conflicts(world) == [("owner", "refused", "crm:005CM")]


def test_mapping_refuses_other_tenants_members_and_mappings(world, salesforce, deal):
    connection = connect(world, salesforce)
    salesforce.users = USERS
    push(world, connection, deal)
    pull(world, connection)
    with tenant_context(world.tenant):
        mapping = CrmUserMapping.objects.get(crm_user_id="005NO")
        for membership in (world.other_tenant_admin, world.partner_rep):
            with pytest.raises(ValidationFailed):
                crm_user_map(
                    tenant=world.tenant, actor=world.vendor_admin, mapping_id=mapping.pk,
                    membership_id=membership.pk,
                )  # fmt: skip
    with tenant_context(world.other_tenant), pytest.raises(NotFound):
        crm_user_map(
            tenant=world.other_tenant, actor=world.other_tenant_admin, mapping_id=mapping.pk,
            membership_id=world.other_tenant_admin.pk,
        )  # fmt: skip
    assert mappings(world)["005NO"] is None


def test_our_owner_goes_to_the_crm_when_prm_owns_the_field(world, salesforce, deal):
    field_mapping = [
        {**m, "owner": "prm"} if m["prm"] == "owner" else m for m in DEFAULT_MAPPINGS["salesforce"]
    ]
    connection = connect(world, salesforce, field_mapping=field_mapping)
    salesforce.users = [*USERS, {"Id": "005AD", "Name": "Admin", "Email": "admin@acme.test"}]
    push(world, connection, deal)
    assert "OwnerId" not in salesforce.by_prm_id(deal.pk)[0]  # no CRM user known yet
    pull(world, connection)  # reads the CRM's users

    assert push(world, connection, deal) is True

    assert salesforce.by_prm_id(deal.pk)[0]["OwnerId"] == "005AD"


def test_hubspot_owners_come_back_too(world, hubspot, deal):
    connection = connect_hubspot(world, hubspot)
    hubspot.owners = [
        {"id": "71", "email": "nobody@acme.test", "firstName": "No", "lastName": "Body"},
        {"id": "72", "email": "cm@acme.test", "firstName": "Cara", "lastName": "Manager"},
        {"id": "73", "email": "admin@globex.test"},
    ]
    push(world, connection, deal)
    hubspot.edit(hubspot.by_prm_id(deal.pk)[0]["id"], hubspot_owner_id="72")

    pull(world, connection)

    assert owner_of(world, deal) == world.channel_manager.user_id
    assert mappings(world) == {"71": None, "72": world.channel_manager.pk, "73": None}

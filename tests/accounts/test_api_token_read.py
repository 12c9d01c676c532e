"""The token lookup reads the token and its membership (with user, tenant and partner) in
plain SQL written from the models' fields: what it loads must be what the ORM loads, and
every way a token stops being usable must be refused on the very next request."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership, User
from accounts.services.tokens import api_token_authenticate, api_token_create
from accounts.tenancy import TENANT_SETTING, tenant_context
from partners.models import PartnerOrganization
from tests.api_clients import bearer_client
from tests.conftest import World

ME = "/api/v1/me/"


def field_values(instance: object) -> dict[str, object]:
    model = type(instance)
    return {f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields}  # type: ignore[attr-defined]


@pytest.mark.parametrize("actor", ["vendor_admin", "partner_rep", "other_tenant_partner_admin"])
def test_the_member_read_is_what_the_orm_reads(world: World, actor: str):
    member: Membership = getattr(world, actor)
    with tenant_context(member.tenant):
        _, secret = api_token_create(membership=member, name="read")
    with tenant_context(member.tenant):
        expected = Membership.objects.select_related("user", "tenant", "partner").get(pk=member.pk)

    with transaction.atomic():
        membership = api_token_authenticate(secret)
        with CaptureQueriesContext(connection) as later:
            loaded = [membership.user, membership.tenant, membership.partner]
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting(%s, true)", [TENANT_SETTING])
            pinned = cursor.fetchone()[0]

    assert field_values(membership) == field_values(expected)
    assert field_values(loaded[0]) == field_values(expected.user)
    assert field_values(loaded[1]) == field_values(expected.tenant)
    if expected.partner is None:
        assert loaded[2] is None
    else:
        assert field_values(loaded[2]) == field_values(expected.partner)
    assert len(later) == 0  # user, tenant and partner came with the membership
    assert pinned == str(member.tenant_id)


def test_an_unknown_token_pins_no_tenant(world: World):
    with transaction.atomic():
        assert api_token_authenticate("prm_not-a-token") is None
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting(%s, true)", [TENANT_SETTING])
            assert (cursor.fetchone()[0] or "") == ""


def test_a_deactivated_user_is_refused_on_the_next_request(world: World):
    client = bearer_client(world.partner_rep)
    assert client.get(ME).status_code == 200

    User.objects.filter(pk=world.partner_rep.user_id).update(is_active=False)

    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_suspended_partners_member_is_refused_on_the_next_request(world: World):
    client = bearer_client(world.partner_admin)
    assert client.get(ME).status_code == 200

    with tenant_context(world.tenant):
        PartnerOrganization.objects.filter(pk=world.partner.pk).update(status="suspended")

    assert client.get(ME).status_code == 401

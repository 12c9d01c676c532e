"""GET /api/v1/me/: who the caller is, which tenant and role they act as, all their tenants."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from tests.accounts.factories import MembershipFactory
from tests.api_clients import api_as, bearer_client
from tests.conftest import ALL_ACTORS, World

ME_URL = "/api/v1/me/"


def test_anonymous_gets_401_in_the_error_shape(world: World):
    response = APIClient().get(ME_URL)

    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "fields": {},
        }
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("actor", ALL_ACTORS)
def test_every_role_sees_itself(world: World, actor: str):
    membership = world.member(actor)

    response = api_as(world, actor).get(ME_URL)

    assert response.status_code == 200
    body = response.json()
    tenant = membership.tenant
    assert body == {
        "id": membership.user.pk,
        "email": membership.user.email,
        "full_name": membership.user.full_name,
        "tenant": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
        "role": membership.role,
        "partner_id": membership.partner_id,
        "memberships": [
            {
                "tenant": {"id": tenant.pk, "slug": tenant.slug, "name": tenant.name},
                "role": membership.role,
                "partner_id": membership.partner_id,
            }
        ],
    }


def test_a_user_in_two_tenants_lists_both_and_acts_as_the_tokens_tenant(world: World):
    user = world.partner_admin.user
    globex_membership = MembershipFactory(
        tenant=world.other_tenant,
        user=user,
        role=Role.PARTNER_ADMIN,
        partner=world.other_tenant_partner,
    )

    response = bearer_client(globex_membership).get(ME_URL)

    body = response.json()
    assert response.status_code == 200
    assert body["tenant"]["slug"] == world.other_tenant.slug
    assert body["partner_id"] == world.other_tenant_partner.pk
    assert [(m["tenant"]["name"], m["role"], m["partner_id"]) for m in body["memberships"]] == [
        ("Acme Software", "partner_admin", world.partner.pk),
        ("Globex", "partner_admin", world.other_tenant_partner.pk),
    ]


def test_me_never_lists_other_peoples_memberships(world: World):
    body = api_as(world, "vendor_admin").get(ME_URL).json()

    assert [m["tenant"]["id"] for m in body["memberships"]] == [world.tenant.pk]


def test_session_login_works_for_reads(world: World):
    client = APIClient()
    client.force_login(world.channel_manager.user)

    response = client.get(ME_URL)

    assert response.status_code == 200
    assert response.json()["role"] == "channel_manager"


def test_me_is_read_only(world: World):
    response = api_as(world, "vendor_admin").post(ME_URL, {}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"

"""POST /api/v1/invitations/: vendor admins invite anyone; partner admins invite partner
roles of their own organization. The response never contains the link or its token."""

from __future__ import annotations

import pytest
from django.utils import timezone

from partners.models import Invitation
from tests.api_clients import api_as
from tests.conftest import World

INVITATIONS_URL = "/api/v1/invitations/"


def invitations(tenant, in_tenant) -> list[tuple]:
    with in_tenant(tenant):
        return list(
            Invitation.objects.order_by("id").values_list(
                "email", "role", "partner_id", "invited_by_id"
            )
        )


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 201),
        ("channel_manager", 403),
        ("partner_admin", 201),
        ("partner_rep", 403),
        ("other_partner_admin", 400),  # another organization's id is "not found" to them
        ("other_tenant_admin", 400),  # another tenant's id too
    ],
)
def test_invite_a_partner_rep_role_matrix(world: World, in_tenant, actor: str | None, status: int):
    body = {
        "email": "new.rep@northwind.test",
        "role": "partner_rep",
        "partner_id": world.partner.pk,
    }

    response = api_as(world, actor).post(INVITATIONS_URL, body, format="json")

    assert response.status_code == status
    created = invitations(world.tenant, in_tenant)
    if status == 201:
        inviter = world.member(actor).user_id
        assert created == [("new.rep@northwind.test", "partner_rep", world.partner.pk, inviter)]
    else:
        assert created == []
        assert invitations(world.other_tenant, in_tenant) == []
    if status == 400:
        assert response.json()["error"]["fields"] == {"partner_id": ["Not found."]}


def test_response_has_the_contract_fields_and_no_token(world: World, in_tenant):
    body = {"email": "New.CM@Acme.test", "role": "channel_manager"}

    response = api_as(world, "vendor_admin").post(INVITATIONS_URL, body, format="json")

    assert response.status_code == 201
    data = response.json()
    with in_tenant(world.tenant):
        invitation = Invitation.objects.get()
    assert data == {
        "id": invitation.pk,
        "email": "new.cm@acme.test",
        "role": "channel_manager",
        "partner_id": None,
        "expires_at": data["expires_at"],
        "status": "pending",
    }
    assert data["expires_at"].startswith(invitation.expires_at.isoformat()[:19])
    assert invitation.expires_at > timezone.now()
    assert invitation.nonce not in response.content.decode()


@pytest.mark.parametrize(
    ("actor", "body", "status"),
    [
        ("partner_admin", {"role": "vendor_admin"}, 403),
        ("partner_admin", {"role": "channel_manager"}, 403),
        ("partner_admin", {"role": "partner_admin", "partner_id": "OWN"}, 201),
        ("partner_admin", {"role": "partner_rep", "partner_id": "OTHER"}, 400),
        ("vendor_admin", {"role": "partner_admin", "partner_id": "OTHER"}, 201),
        ("vendor_admin", {"role": "vendor_admin"}, 201),
    ],
)
def test_who_may_invite_whom(world: World, in_tenant, actor: str, body: dict, status: int):
    ids = {"OWN": world.partner.pk, "OTHER": world.other_partner.pk}
    if "partner_id" in body:
        body = {**body, "partner_id": ids[body["partner_id"]]}

    response = api_as(world, actor).post(
        INVITATIONS_URL, {"email": "x@example.com", **body}, format="json"
    )

    assert response.status_code == status
    assert len(invitations(world.tenant, in_tenant)) == (1 if status == 201 else 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "role": "vendor_admin"}, "email"),
        ({"email": "a@b@example.com", "role": "vendor_admin"}, "email"),
        ({"email": "<script>@example.com", "role": "vendor_admin"}, "email"),
        ({"email": ["x@example.com"], "role": "vendor_admin"}, "email"),
        ({"email": "x" * 250 + "@example.com", "role": "vendor_admin"}, "email"),
        ({"role": "vendor_admin"}, "email"),
        ({"email": "x@example.com", "role": "owner"}, "role"),
        ({"email": "x@example.com"}, "role"),
        ({"email": "x@example.com", "role": "partner_rep"}, "partner_id"),
        ({"email": "x@example.com", "role": "vendor_admin", "partner_id": "PARTNER"}, "partner_id"),
        ({"email": "x@example.com", "role": "partner_rep", "partner_id": "7"}, "partner_id"),
        ({"email": "x@example.com", "role": "partner_rep", "partner_id": "FOREIGN"}, "partner_id"),
        ({"email": "x@example.com", "role": "vendor_admin", "token": "abc"}, "token"),
    ],
)
def test_bad_input_is_400_and_creates_nothing(world: World, in_tenant, body: dict, field: str):
    ids = {"PARTNER": world.partner.pk, "FOREIGN": world.other_tenant_partner.pk}
    if body.get("partner_id") in ids:
        body = {**body, "partner_id": ids[body["partner_id"]]}

    response = api_as(world, "vendor_admin").post(INVITATIONS_URL, body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert invitations(world.tenant, in_tenant) == []


@pytest.mark.parametrize(
    ("email", "field"),
    [
        ("padmin@northwind.test", "email"),  # already a member
        ("pending@example.com", "email"),  # an invitation is already pending
    ],
)
def test_conflicts_are_409(world: World, in_tenant, email: str, field: str):
    client = api_as(world, "vendor_admin")
    client.post(
        INVITATIONS_URL, {"email": "pending@example.com", "role": "vendor_admin"}, format="json"
    )
    before = invitations(world.tenant, in_tenant)

    response = client.post(INVITATIONS_URL, {"email": email, "role": "vendor_admin"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert list(response.json()["error"]["fields"]) == [field]
    assert invitations(world.tenant, in_tenant) == before


def test_inviting_into_a_suspended_partner_is_409(world: World, in_tenant):
    client = api_as(world, "vendor_admin")
    client.post(f"/api/v1/partners/{world.other_partner.pk}/suspend/")

    response = client.post(
        INVITATIONS_URL,
        {"email": "x@example.com", "role": "partner_rep", "partner_id": world.other_partner.pk},
        format="json",
    )

    assert response.status_code == 409
    assert invitations(world.tenant, in_tenant) == []


def test_invitations_cannot_be_listed_here(world: World):
    response = api_as(world, "vendor_admin").get(INVITATIONS_URL)

    assert response.status_code == 405

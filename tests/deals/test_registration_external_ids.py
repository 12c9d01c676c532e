"""External ids on registrations: written with the registration (create or PATCH) by its
partner's people, read by whoever may see it, unique per tenant and system."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from deals.models import RegistrationExternalId
from tests.api_clients import api_as
from tests.conftest import World
from tests.deals.api_helpers import (
    URL,
    json_body,
    registration_url,
    registrations_state,
    set_status,
)


def stored_ids(in_tenant, tenant) -> list[tuple]:
    with in_tenant(tenant):
        return list(
            RegistrationExternalId.objects.order_by("id").values_list(
                "registration_id", "system", "external_id"
            )
        )


@pytest.fixture
def registration(deals_world: World) -> dict:
    response = api_as(deals_world, "partner_rep").post(
        URL, json_body(external_ids={"partner_crm": "OPP-1"}), format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_created_with_its_ids(deals_world: World, registration, in_tenant):
    assert registration["external_ids"] == {"partner_crm": "OPP-1"}
    assert stored_ids(in_tenant, deals_world.tenant) == [
        (registration["id"], "partner_crm", "OPP-1")
    ]


@pytest.mark.parametrize(
    ("actor", "status", "ids"),
    [
        ("vendor_admin", 200, {"partner_crm": "OPP-1"}),
        ("channel_manager", 200, {"partner_crm": "OPP-1"}),
        ("partner_admin", 200, {"partner_crm": "OPP-1"}),
        ("partner_rep", 200, {"partner_crm": "OPP-1"}),
        ("other_partner_admin", 404, None),
        ("other_tenant_admin", 404, None),
    ],
)
def test_read_matrix(deals_world: World, registration, actor, status, ids):
    response = api_as(deals_world, actor).get(registration_url(registration["id"]))

    assert response.status_code == status
    if ids is not None:
        assert response.json()["external_ids"] == ids
        listed = api_as(deals_world, actor).get(URL).json()["results"]
        assert [r["external_ids"] for r in listed if r["id"] == registration["id"]] == [ids]


def test_patch_sets_ids_even_once_approved(deals_world: World, registration, in_tenant):
    set_status(
        deals_world.tenant,
        registration["id"],
        status="approved",
        protected_until=timezone.localdate() + timedelta(days=90),
    )

    response = api_as(deals_world, "partner_admin").patch(
        registration_url(registration["id"]),
        {"external_ids": {"salesforce": "006Q", "partner_crm": None}},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["external_ids"] == {"salesforce": "006Q"}


@pytest.mark.parametrize("actor", ["other_partner_admin", "other_tenant_partner_admin"])
def test_another_partner_or_tenant_cannot_write_them(
    deals_world: World, registration, in_tenant, actor
):
    before = stored_ids(in_tenant, deals_world.tenant)

    response = api_as(deals_world, actor).patch(
        registration_url(registration["id"]), {"external_ids": {"x": "1"}}, format="json"
    )

    assert response.status_code == 404
    assert stored_ids(in_tenant, deals_world.tenant) == before


def test_an_id_already_used_is_a_409_and_creates_nothing(
    deals_world: World, registration, in_tenant
):
    before = registrations_state(deals_world.tenant)

    response = api_as(deals_world, "partner_rep").post(
        URL, json_body(external_ids={"partner_crm": "OPP-1"}), format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "external_id_taken"
    assert registrations_state(deals_world.tenant) == before


@pytest.mark.parametrize(
    "ids",
    [
        "OPP-1",
        ["partner_crm"],
        {"partner_crm": 5},
        {"partner_crm": ""},
        {"partner_crm": "x" * 256},
        {"<script>": "1"},
        {f"s{n}": "1" for n in range(21)},
    ],
)
def test_bad_ids_are_a_400(deals_world: World, registration, in_tenant, ids):
    before = (registrations_state(deals_world.tenant), stored_ids(in_tenant, deals_world.tenant))

    response = api_as(deals_world, "partner_rep").patch(
        registration_url(registration["id"]), {"external_ids": ids}, format="json"
    )

    assert response.status_code == 400
    assert "external_ids" in response.json()["error"]["fields"]
    after = (registrations_state(deals_world.tenant), stored_ids(in_tenant, deals_world.tenant))
    assert after == before

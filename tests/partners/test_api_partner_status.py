"""POST /api/v1/partners/{id}/suspend/ and /reactivate/: vendor admins only; the people
of a suspended partner lose access to the tenant."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry
from tests.api_clients import api_as
from tests.conftest import World
from tests.partners.factories import PartnerOrganizationFactory
from tests.partners.test_api_partners import STATUS_MATRIX, partner_url, rows


@pytest.mark.parametrize(("actor", "status"), STATUS_MATRIX)
def test_suspend_role_matrix(world: World, in_tenant, actor: str | None, status: int):
    response = api_as(world, actor).post(partner_url(world.partner.pk, "suspend"))

    assert response.status_code == status
    expected = "suspended" if status == 200 else "active"
    assert rows(world.tenant, in_tenant)[0][4] == expected


@pytest.mark.parametrize(("actor", "status"), STATUS_MATRIX)
def test_reactivate_role_matrix(world: World, in_tenant, actor: str | None, status: int):
    suspended = PartnerOrganizationFactory(tenant=world.tenant, tier=world.tier, status="suspended")

    response = api_as(world, actor).post(partner_url(suspended.pk, "reactivate"))

    assert response.status_code == status
    expected = "active" if status == 200 else "suspended"
    assert rows(world.tenant, in_tenant)[-1][4] == expected


def test_suspend_then_reactivate(world: World, in_tenant):
    client = api_as(world, "vendor_admin")

    suspended = client.post(partner_url(world.partner.pk, "suspend"))
    again = client.post(partner_url(world.partner.pk, "suspend"))
    reactivated = client.post(partner_url(world.partner.pk, "reactivate"))

    assert (suspended.status_code, suspended.json()["status"]) == (200, "suspended")
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "conflict",
        "message": "The partner is already suspended.",
        "fields": {},
    }
    assert (reactivated.status_code, reactivated.json()["status"]) == (200, "active")
    with in_tenant(world.tenant):
        verbs = list(
            AuditEntry.objects.filter(subject_id=str(world.partner.pk))
            .order_by("id")
            .values_list("verb", flat=True)
        )
    assert verbs == ["partner_suspended", "partner_reactivated"]


def test_people_of_a_suspended_partner_lose_api_access(world: World):
    client = api_as(world, "partner_admin")
    api_as(world, "vendor_admin").post(partner_url(world.partner.pk, "suspend"))

    response = client.get("/api/v1/me/")

    assert response.status_code == 401

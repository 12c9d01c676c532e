"""PATCH /api/v1/partners/{id}/ with what lead routing needs: territories (country and
region codes), specializations (the tenant's product-line codes), certifications with an
expiry date, lead capacity (default from the tier).

Partner admins keep their own organization's profile; vendor roles any partner's; only
vendor roles set capacity. Bad input is a 400 naming the field and nothing changes.
"""

from __future__ import annotations

from datetime import date

import pytest

from accounts.models import AuditEntry
from accounts.tenancy import tenant_context
from deals.models import ProductLine
from partners.models import Certification, PartnerOrganization
from tests.api_clients import api_as
from tests.conftest import World
from tests.partners.factories import PartnerOrganizationFactory

PROFILE = {
    "territories": ["us", "EMEA", "US"],
    "specializations": ["cloud"],
    "certifications": [{"product_line": "cloud", "name": "Cloud Pro", "expires_on": "2027-06-30"}],
}


LIST_QUERIES = 8  # the token lookup is one round trip


def url(partner_id: int) -> str:
    return f"/api/v1/partners/{partner_id}/"


@pytest.fixture
def lines(world: World) -> World:
    for tenant in (world.tenant, world.other_tenant):
        with tenant_context(tenant):
            ProductLine.objects.create(tenant=tenant, code="cloud", name="Cloud Suite")
    with tenant_context(world.other_tenant):
        ProductLine.objects.create(tenant=world.other_tenant, code="globex-only", name="Globex")
    return world


def profile_of(world: World, partner_id: int) -> tuple:
    with tenant_context(world.tenant):
        partner = PartnerOrganization.objects.get(pk=partner_id)
        certifications = [
            (c.product_line, c.name, c.expires_on)
            for c in Certification.objects.filter(partner=partner)
        ]
        return partner.territories, partner.specializations, partner.lead_capacity, certifications


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 200),
        ("channel_manager", 200),
        ("partner_admin", 200),
        ("partner_rep", 403),
        ("other_partner_admin", 404),
        ("other_tenant_admin", 404),
    ],
)
def test_profile_role_matrix(lines: World, actor: str | None, status: int):
    before = profile_of(lines, lines.partner.pk)

    response = api_as(lines, actor).patch(url(lines.partner.pk), PROFILE, format="json")

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["territories"] == ["US", "EMEA"]
        assert body["specializations"] == ["cloud"]
        assert body["certifications"] == [
            {"product_line": "cloud", "name": "Cloud Pro", "expires_on": "2027-06-30"}
        ]
        assert profile_of(lines, lines.partner.pk) == (
            ["US", "EMEA"],
            ["cloud"],
            None,
            [("cloud", "Cloud Pro", date(2027, 6, 30))],
        )
    else:
        assert profile_of(lines, lines.partner.pk) == before


def test_a_partner_admin_update_is_audited(lines: World):
    api_as(lines, "partner_admin").patch(url(lines.partner.pk), PROFILE, format="json")

    with tenant_context(lines.tenant):
        entry = AuditEntry.objects.get(verb="partner_lead_profile_updated")
    assert entry.actor_id == lines.partner_admin.user_id
    assert entry.after["territories"] == "US, EMEA"
    assert entry.before["territories"] == ""


def test_capacity_defaults_from_the_tier_and_vendor_roles_override_it(lines: World):
    client = api_as(lines, "channel_manager")
    assert client.get(url(lines.partner.pk)).json()["lead_capacity"] == 10

    response = client.patch(url(lines.partner.pk), {"lead_capacity": 3}, format="json")
    assert (response.json()["lead_capacity"], response.json()["lead_capacity_from_tier"]) == (
        3,
        False,
    )

    response = client.patch(url(lines.partner.pk), {"lead_capacity": None}, format="json")
    assert (response.json()["lead_capacity"], response.json()["lead_capacity_from_tier"]) == (
        10,
        True,
    )


def test_a_partner_admin_cannot_set_capacity_or_other_fields(lines: World):
    before = profile_of(lines, lines.partner.pk)
    client = api_as(lines, "partner_admin")

    capacity = client.patch(url(lines.partner.pk), {"lead_capacity": 99}, format="json")
    renamed = client.patch(
        url(lines.partner.pk), {"name": "Mine now", "territories": ["US"]}, format="json"
    )

    assert (capacity.status_code, renamed.status_code) == (403, 403)
    assert profile_of(lines, lines.partner.pk) == before
    with tenant_context(lines.tenant):
        assert PartnerOrganization.objects.get(pk=lines.partner.pk).name == "Northwind Resellers"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"territories": ["XX"]}, "territories"),
        ({"territories": ["<b>US</b>"]}, "territories"),
        ({"territories": "US"}, "territories"),
        ({"territories": [1]}, "territories"),
        ({"territories": ["US"] * 301}, "territories"),
        ({"specializations": ["nope"]}, "specializations"),
        ({"specializations": ["globex-only"]}, "specializations"),
        ({"specializations": ["x" * 41]}, "specializations"),
        ({"certifications": [{"product_line": "cloud", "name": "X"}]}, "certifications"),
        (
            {"certifications": [{"product_line": "nope", "name": "X", "expires_on": "2027-01-01"}]},
            "certifications",
        ),
        (
            {
                "certifications": [
                    {"product_line": "cloud", "name": "X" * 201, "expires_on": "2027-01-01"}
                ]
            },  # noqa: E501
            "certifications",
        ),
        ({"lead_capacity": -1}, "lead_capacity"),
        ({"lead_capacity": "5"}, "lead_capacity"),
        ({"lead_capacity": 1001}, "lead_capacity"),
    ],
)
def test_bad_profile_input_is_a_400_and_changes_nothing(lines: World, body: dict, field: str):
    before = profile_of(lines, lines.partner.pk)

    response = api_as(lines, "vendor_admin").patch(url(lines.partner.pk), body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert profile_of(lines, lines.partner.pk) == before


def test_the_partner_list_query_count_does_not_grow(lines: World, django_assert_num_queries):
    client = api_as(lines, "vendor_admin")
    client.patch(url(lines.partner.pk), PROFILE, format="json")

    def more_partners() -> None:
        for number in range(3):
            partner = PartnerOrganizationFactory(tenant=lines.tenant, tier=lines.tier)
            client.patch(url(partner.pk), {**PROFILE, "lead_capacity": number}, format="json")

    # auth, token, tenant pin, membership, count, page, certifications … the same for 2 or 5
    for _ in range(2):
        with django_assert_num_queries(LIST_QUERIES):
            assert client.get("/api/v1/partners/").status_code == 200
        more_partners()

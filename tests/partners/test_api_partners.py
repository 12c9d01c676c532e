"""/api/v1/partners/: vendor roles read, vendor admins write, suspend and reactivate.

Partner people get 403 here (a vendor endpoint); another tenant's partner is a 404; a
tier or channel manager id of another tenant is a 400 "Not found." and nothing changes.
"""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry
from partners.models import PartnerOrganization
from tests.api_clients import api_as
from tests.conftest import World
from tests.partners.factories import PartnerOrganizationFactory, PartnerTierFactory

PARTNERS_URL = "/api/v1/partners/"
NO_LEAD_PROFILE = {
    "territories": [],
    "specializations": [],
    "certifications": [],
    "lead_capacity": 10,
    "lead_capacity_from_tier": True,
}
FIELDS = ("name", "tier_id", "country", "region", "status", "channel_manager_id")

LIST_MATRIX = [
    (None, 401),
    ("vendor_admin", 200),
    ("channel_manager", 200),
    ("partner_admin", 403),
    ("partner_rep", 403),
    ("other_partner_admin", 403),
    ("other_tenant_admin", 200),
]
# A partner admin reads their own organization (for its lead profile); another's is a 404.
DETAIL_READ_MATRIX = [
    (None, 401),
    ("vendor_admin", 200),
    ("channel_manager", 200),
    ("partner_admin", 200),
    ("partner_rep", 403),
    ("other_partner_admin", 404),
    ("other_tenant_admin", 404),
]
DETAIL_WRITE_MATRIX = [
    (None, 401),
    ("vendor_admin", 200),
    ("channel_manager", 403),
    ("partner_admin", 403),
    ("partner_rep", 403),
    ("other_partner_admin", 404),
    ("other_tenant_admin", 404),
]
# Suspend and reactivate are vendor-admin endpoints: partner people are refused by role.
STATUS_MATRIX = [
    (actor, 403 if actor == "other_partner_admin" else status)
    for actor, status in DETAIL_WRITE_MATRIX
]


def partner_url(partner_id: int, action: str = "") -> str:
    return f"{PARTNERS_URL}{partner_id}/{action + '/' if action else ''}"


def rows(tenant, in_tenant) -> list[tuple]:
    """Every partner of a tenant as (name, tier, country, region, status, channel manager)."""
    with in_tenant(tenant):
        return [
            (p.name, p.tier_id, p.country.code, p.region, p.status, p.channel_manager_id)
            for p in PartnerOrganization.objects.order_by("id")
        ]


def new_partner(world: World, **overrides) -> dict:
    return {
        "name": "Litware Inc",
        "tier_id": world.tier.pk,
        "country": "FR",
        "region": "EMEA",
        **overrides,
    }


# --- List -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "status"), LIST_MATRIX)
def test_list_role_matrix(world: World, actor: str | None, status: int):
    response = api_as(world, actor).get(PARTNERS_URL)

    assert response.status_code == status
    if status == 200:
        names = [partner["name"] for partner in response.json()["results"]]
        expected = (
            ["Initech"]
            if actor == "other_tenant_admin"
            else ["Contoso Partners", "Northwind Resellers"]
        )
        assert names == expected


def test_list_returns_the_contract_fields(world: World):
    response = api_as(world, "channel_manager").get(PARTNERS_URL)

    assert response.json()["results"][1] == {
        "id": world.partner.pk,
        "name": "Northwind Resellers",
        "tier_id": world.tier.pk,
        "country": "DE",
        "region": "EMEA",
        "status": "active",
        "channel_manager_id": None,
        **NO_LEAD_PROFILE,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Contoso Partners", "Fabrikam", "Northwind Resellers", "Tailspin"]),
        ({"status": "suspended"}, ["Tailspin"]),
        ({"status": "active", "region": "EMEA"}, ["Contoso Partners", "Northwind Resellers"]),
        ({"region": "NA"}, ["Fabrikam", "Tailspin"]),
        ({"country": "BR"}, ["Tailspin"]),
        ({"tier_id": "silver"}, ["Fabrikam"]),
        ({"country": "US", "tier_id": "silver"}, ["Fabrikam"]),
    ],
)
def test_list_filters(world: World, query: dict, expected: list[str]):
    silver = PartnerTierFactory(tenant=world.tenant, name="Silver", rank=2)
    PartnerOrganizationFactory(
        tenant=world.tenant, name="Fabrikam", tier=silver, country="US", region="NA"
    )
    PartnerOrganizationFactory(
        tenant=world.tenant,
        name="Tailspin",
        tier=world.tier,
        country="BR",
        region="NA",
        status="suspended",
    )
    if query.get("tier_id") == "silver":
        query = {**query, "tier_id": silver.pk}

    response = api_as(world, "vendor_admin").get(PARTNERS_URL, query)

    assert response.status_code == 200
    assert [partner["name"] for partner in response.json()["results"]] == expected


@pytest.mark.parametrize(
    "query",
    [
        {"status": "deleted"},
        {"region": "MARS"},
        {"country": "XX"},
        {"tier_id": "gold"},
        {"tier_id": 999_999},
        {"tier_id": "other-tenant"},
    ],
)
def test_list_rejects_bad_filters(world: World, query: dict):
    if query.get("tier_id") == "other-tenant":
        query = {"tier_id": world.other_tenant_partner.tier_id}

    response = api_as(world, "vendor_admin").get(PARTNERS_URL, query)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == list(query)


def test_list_query_count_does_not_grow_with_rows(world: World, django_assert_max_num_queries):
    client = api_as(world, "vendor_admin")
    client.get(PARTNERS_URL)  # the token's first use records last_used_at
    with django_assert_max_num_queries(12) as few:
        client.get(PARTNERS_URL, {"tier_id": world.tier.pk, "region": "EMEA"})
    for _ in range(25):
        PartnerOrganizationFactory(tenant=world.tenant, tier=world.tier)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(PARTNERS_URL, {"tier_id": world.tier.pk, "region": "EMEA"})
    assert response.json()["count"] == 27


# --- Create ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "status"), LIST_MATRIX)
def test_create_role_matrix(world: World, in_tenant, actor: str | None, status: int):
    expected = {None: 401, "vendor_admin": 201}.get(actor, 403)
    if actor == "other_tenant_admin":
        expected = 400  # Acme's tier id is "not found" in Globex
    before = rows(world.tenant, in_tenant), rows(world.other_tenant, in_tenant)

    response = api_as(world, actor).post(PARTNERS_URL, new_partner(world), format="json")

    assert response.status_code == expected
    after = rows(world.tenant, in_tenant), rows(world.other_tenant, in_tenant)
    if actor == "vendor_admin":
        assert after[0] == [
            *before[0],
            ("Litware Inc", world.tier.pk, "FR", "EMEA", "active", None),
        ]
        assert after[1] == before[1]
    else:
        assert after == before


def test_create_returns_the_partner_and_writes_an_audit_row(world: World, in_tenant):
    body = new_partner(
        world, name=" Litware Inc ", channel_manager_id=world.channel_manager.user_id
    )

    response = api_as(world, "vendor_admin").post(PARTNERS_URL, body, format="json")

    created = response.json()
    assert response.status_code == 201
    assert created == {
        "id": created["id"],
        "name": "Litware Inc",
        "tier_id": world.tier.pk,
        "country": "FR",
        "region": "EMEA",
        "status": "active",
        "channel_manager_id": world.channel_manager.user_id,
        **NO_LEAD_PROFILE,
    }
    with in_tenant(world.tenant):
        audit = AuditEntry.objects.get(verb="partner_created")
    assert audit.subject_id == str(created["id"])


def test_a_name_with_html_is_stored_as_plain_text(world: World, in_tenant):
    name = '<img src=x onerror="alert(1)"> Resellers'

    response = api_as(world, "vendor_admin").post(
        PARTNERS_URL, new_partner(world, name=name), format="json"
    )

    assert response.status_code == 201
    assert response.json()["name"] == name
    assert rows(world.tenant, in_tenant)[-1][0] == name


BAD_CREATE_INPUT = [
    ({"name": "x" * 201}, "name"),
    ({"name": ""}, "name"),
    ({"name": 42}, "name"),
    ({"name": {"text": "Litware"}}, "name"),
    ({"name": "northwind resellers"}, "name"),  # unique per tenant, ignoring case
    ({"tier_id": "1"}, "tier_id"),
    ({"tier_id": True}, "tier_id"),
    ({"tier_id": None}, "tier_id"),
    ({"tier_id": 999_999_999_999_999_999_999}, "tier_id"),
    ({"tier_id": "OTHER_TENANT_TIER"}, "tier_id"),
    ({"country": "XX"}, "country"),
    ({"country": 276}, "country"),
    ({"region": "MARS"}, "region"),
    ({"channel_manager_id": "PARTNER_ADMIN_USER"}, "channel_manager_id"),
    ({"channel_manager_id": "OTHER_TENANT_ADMIN_USER"}, "channel_manager_id"),
    ({"status": "suspended"}, "status"),
]


def _resolve(world: World, body: dict) -> dict:
    placeholders = {
        "OTHER_TENANT_TIER": world.other_tenant_partner.tier_id,
        "PARTNER_ADMIN_USER": world.partner_admin.user_id,
        "OTHER_TENANT_ADMIN_USER": world.other_tenant_admin.user_id,
    }
    return {
        key: placeholders.get(value, value) if isinstance(value, str) else value
        for key, value in body.items()
    }


@pytest.mark.parametrize(("override", "field"), BAD_CREATE_INPUT)
def test_create_rejects_bad_input_and_creates_nothing(
    world: World, in_tenant, override: dict, field: str
):
    before = rows(world.tenant, in_tenant)

    response = api_as(world, "vendor_admin").post(
        PARTNERS_URL, new_partner(world, **_resolve(world, override)), format="json"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert rows(world.tenant, in_tenant) == before


def test_another_tenants_id_reads_exactly_like_a_missing_one(world: World):
    client = api_as(world, "vendor_admin")

    foreign = client.post(
        PARTNERS_URL, new_partner(world, tier_id=world.other_tenant_partner.tier_id), format="json"
    )
    missing = client.post(PARTNERS_URL, new_partner(world, tier_id=999_999), format="json")

    assert foreign.json() == missing.json()
    assert foreign.json()["error"]["fields"] == {"tier_id": ["Not found."]}


# --- Detail, update -------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "status"), DETAIL_READ_MATRIX)
def test_detail_role_matrix(world: World, actor: str | None, status: int):
    response = api_as(world, actor).get(partner_url(world.partner.pk))

    assert response.status_code == status
    if status == 200:
        assert response.json()["name"] == "Northwind Resellers"


@pytest.mark.parametrize(("actor", "status"), DETAIL_WRITE_MATRIX)
def test_update_role_matrix(world: World, in_tenant, actor: str | None, status: int):
    before = rows(world.tenant, in_tenant)

    response = api_as(world, actor).patch(
        partner_url(world.partner.pk), {"name": "Renamed", "region": "APAC"}, format="json"
    )

    assert response.status_code == status
    after = rows(world.tenant, in_tenant)
    if status == 200:
        assert after[0] == ("Renamed", world.tier.pk, "DE", "APAC", "active", None)
        assert after[1:] == before[1:]
    else:
        assert after == before


def test_update_changes_tier_and_channel_manager(world: World, in_tenant):
    silver = PartnerTierFactory(tenant=world.tenant, name="Silver", rank=2)

    response = api_as(world, "vendor_admin").patch(
        partner_url(world.partner.pk),
        {"tier_id": silver.pk, "channel_manager_id": world.channel_manager.user_id},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["tier_id"] == silver.pk
    assert rows(world.tenant, in_tenant)[0] == (
        "Northwind Resellers",
        silver.pk,
        "DE",
        "EMEA",
        "active",
        world.channel_manager.user_id,
    )


@pytest.mark.parametrize(("override", "field"), BAD_CREATE_INPUT[:-1])
def test_update_rejects_bad_input_and_changes_nothing(
    world: World, in_tenant, override: dict, field: str
):
    before = rows(world.tenant, in_tenant)
    if field == "name" and override["name"] == "northwind resellers":
        override = {"name": "contoso partners"}

    response = api_as(world, "vendor_admin").patch(
        partner_url(world.partner.pk), _resolve(world, override), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert rows(world.tenant, in_tenant) == before


def test_status_is_read_only_in_update(world: World, in_tenant):
    before = rows(world.tenant, in_tenant)

    response = api_as(world, "vendor_admin").patch(
        partner_url(world.partner.pk), {"status": "suspended"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "status": ["Read-only here: use the suspend and reactivate endpoints."]
    }
    assert rows(world.tenant, in_tenant) == before


def test_other_tenants_partner_is_404_and_untouched(world: World, in_tenant):
    foreign = world.other_tenant_partner
    client = api_as(world, "vendor_admin")
    before = rows(world.other_tenant, in_tenant)

    answers = [
        client.get(partner_url(foreign.pk)),
        client.patch(partner_url(foreign.pk), {"name": "Hijacked"}, format="json"),
        client.post(partner_url(foreign.pk, "suspend")),
    ]

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert all(
        answer.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
        for answer in answers
    )
    assert rows(world.other_tenant, in_tenant) == before

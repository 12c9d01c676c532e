"""/api/v1/product-lines/: every role of the tenant reads the catalog (partners: the active
lines), vendor admins add, rename and retire lines; other tenants' lines are a 404."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry
from deals.models import ProductLine
from tests.api_clients import api_as
from tests.conftest import World
from tests.deals.api_helpers import NOT_FOUND_BODY, URL, VENDOR_ADMIN_MATRIX, json_body

LINES_URL = "/api/v1/product-lines/"


def line_url(line_id: int) -> str:
    return f"{LINES_URL}{line_id}/"


def lines_of(tenant, in_tenant) -> list[tuple[str, str, bool]]:
    with in_tenant(tenant):
        return list(ProductLine.objects.order_by("code").values_list("code", "name", "is_active"))


def line(tenant, in_tenant, code: str) -> ProductLine:
    with in_tenant(tenant):
        return ProductLine.objects.get(code=code)


@pytest.fixture
def retired(deals_world: World, in_tenant) -> ProductLine:
    with in_tenant(deals_world.tenant):
        return ProductLine.objects.create(
            tenant=deals_world.tenant, code="legacy", name="Legacy", is_active=False
        )


@pytest.mark.parametrize(
    ("actor", "status", "codes"),
    [
        (None, 401, None),
        ("vendor_admin", 200, ["all-products", "cloud", "legacy", "security"]),
        ("channel_manager", 200, ["all-products", "cloud", "legacy", "security"]),
        ("partner_admin", 200, ["all-products", "cloud", "security"]),
        ("partner_rep", 200, ["all-products", "cloud", "security"]),
        ("other_partner_admin", 200, ["all-products", "cloud", "security"]),
        ("other_tenant_admin", 200, ["all-products", "cloud", "security"]),
    ],
)
def test_list_role_matrix(deals_world: World, retired, in_tenant, actor, status, codes):
    response = api_as(deals_world, actor).get(LINES_URL)

    assert response.status_code == status
    if codes is not None:
        assert sorted(row["code"] for row in response.json()) == codes
    if actor == "other_tenant_admin":
        own = line(deals_world.other_tenant, in_tenant, "cloud").pk
        assert own in [row["id"] for row in response.json()]


def test_list_shows_the_lines_by_name(deals_world: World, in_tenant):
    cloud = line(deals_world.tenant, in_tenant, "cloud")

    body = api_as(deals_world, "partner_rep").get(LINES_URL).json()

    assert [row["name"] for row in body] == ["All products", "Cloud Suite", "Security"]
    assert body[1] == {"id": cloud.pk, "code": "cloud", "name": "Cloud Suite", "is_active": True}


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 201),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_tenant_admin", 201),
    ],
)
def test_create_role_matrix(deals_world: World, in_tenant, actor, status):
    response = api_as(deals_world, actor).post(
        LINES_URL, {"code": "analytics", "name": "Analytics"}, format="json"
    )

    assert response.status_code == status
    acme = ("analytics", "Analytics", True) in lines_of(deals_world.tenant, in_tenant)
    globex = ("analytics", "Analytics", True) in lines_of(deals_world.other_tenant, in_tenant)
    assert (acme, globex) == (actor == "vendor_admin", actor == "other_tenant_admin")


def test_create_returns_the_line_writes_an_audit_row_and_partners_can_use_it(
    deals_world: World, in_tenant
):
    response = api_as(deals_world, "vendor_admin").post(
        LINES_URL, {"code": "analytics", "name": " Analytics "}, format="json"
    )

    body = response.json()
    assert (response.status_code, body["code"], body["name"], body["is_active"]) == (
        201,
        "analytics",
        "Analytics",
        True,
    )
    with in_tenant(deals_world.tenant):
        assert AuditEntry.objects.filter(verb="product_line_created").count() == 1
    registered = api_as(deals_world, "partner_rep").post(
        URL, json_body(product_lines=["analytics"]), format="json"
    )
    assert registered.json()["product_lines"] == [{"code": "analytics", "name": "Analytics"}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Analytics"}, "code"),
        ({"code": "analytics"}, "name"),
        ({"code": "cloud", "name": "Cloud again"}, "code"),
        ({"code": "has space", "name": "Analytics"}, "code"),
        ({"code": "x" * 41, "name": "Analytics"}, "code"),
        ({"code": 7, "name": "Analytics"}, "code"),
        ({"code": "analytics", "name": ""}, "name"),
        ({"code": "analytics", "name": "x" * 101}, "name"),
        ({"code": "analytics", "name": ["Analytics"]}, "name"),
        ({"code": "analytics", "name": "Analytics", "is_active": False}, "is_active"),
    ],
)
def test_create_rejects_bad_input_and_creates_nothing(deals_world: World, in_tenant, body, field):
    before = lines_of(deals_world.tenant, in_tenant)

    response = api_as(deals_world, "vendor_admin").post(LINES_URL, body, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert lines_of(deals_world.tenant, in_tenant) == before


def test_a_name_with_html_is_stored_as_text(deals_world: World, in_tenant):
    name = "<img src=x onerror=alert(1)> & Co"

    response = api_as(deals_world, "vendor_admin").post(
        LINES_URL, {"code": "html", "name": name}, format="json"
    )

    assert (response.status_code, response.json()["name"]) == (201, name)
    assert ("html", name, True) in lines_of(deals_world.tenant, in_tenant)


@pytest.mark.parametrize(("actor", "status"), VENDOR_ADMIN_MATRIX)
def test_update_role_matrix(deals_world: World, in_tenant, actor, status):
    cloud = line(deals_world.tenant, in_tenant, "cloud")

    response = api_as(deals_world, actor).patch(
        line_url(cloud.pk), {"name": "Cloud Platform"}, format="json"
    )

    assert response.status_code == status
    expected = "Cloud Platform" if status == 200 else "Cloud Suite"
    assert line(deals_world.tenant, in_tenant, "cloud").name == expected


def test_a_retired_line_cannot_be_registered_against(deals_world: World, in_tenant):
    cloud = line(deals_world.tenant, in_tenant, "cloud")

    retire = api_as(deals_world, "vendor_admin").patch(
        line_url(cloud.pk), {"is_active": False}, format="json"
    )
    registered = api_as(deals_world, "partner_rep").post(
        URL, json_body(product_lines=["cloud"]), format="json"
    )

    assert (retire.status_code, retire.json()["is_active"]) == (200, False)
    assert registered.status_code == 400
    assert registered.json()["error"]["fields"] == {
        "product_lines": ["Unknown product line: cloud."]
    }
    assert api_as(deals_world, "partner_rep").get(line_url(cloud.pk)).status_code == 404


def test_the_last_active_line_cannot_be_retired(deals_world: World, in_tenant):
    with in_tenant(deals_world.tenant):
        ProductLine.objects.exclude(code="cloud").update(is_active=False)
    before = lines_of(deals_world.tenant, in_tenant)
    cloud = line(deals_world.tenant, in_tenant, "cloud")

    response = api_as(deals_world, "vendor_admin").patch(
        line_url(cloud.pk), {"is_active": False}, format="json"
    )

    assert response.status_code == 409
    assert lines_of(deals_world.tenant, in_tenant) == before


@pytest.mark.parametrize(
    "body", [{"code": "renamed"}, {"name": ""}, {"is_active": "no"}, {"name": 3}, []]
)
def test_update_rejects_bad_input_and_changes_nothing(deals_world: World, in_tenant, body):
    before = lines_of(deals_world.tenant, in_tenant)
    cloud = line(deals_world.tenant, in_tenant, "cloud")

    response = api_as(deals_world, "vendor_admin").patch(line_url(cloud.pk), body, format="json")

    assert response.status_code == 400
    assert lines_of(deals_world.tenant, in_tenant) == before


def test_another_tenants_line_reads_like_a_missing_one(deals_world: World, in_tenant):
    foreign = line(deals_world.other_tenant, in_tenant, "cloud")
    client = api_as(deals_world, "vendor_admin")

    read = client.get(line_url(foreign.pk))
    write = client.patch(line_url(foreign.pk), {"name": "Hijacked"}, format="json")

    assert read.json() == write.json() == client.get(line_url(999_999)).json() == NOT_FOUND_BODY
    assert line(deals_world.other_tenant, in_tenant, "cloud").name == "Cloud Suite"

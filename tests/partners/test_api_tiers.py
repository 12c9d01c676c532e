"""/api/v1/tiers/: vendor roles read, vendor admins write; other tenants' tiers are 404."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.errors import ValidationFailed
from accounts.models import AuditEntry
from partners.models import PartnerTier
from partners.services import tier_update
from tests.api_clients import api_as
from tests.conftest import World
from tests.partners.factories import PartnerTierFactory

TIERS_URL = "/api/v1/tiers/"
LEAD_DEFAULTS = {"lead_capacity": 10, "lead_acceptance_hours": 48}
DEFAULT_RULES = {"auto_approval_limit": None, "protection_days": 90, **LEAD_DEFAULTS}

READ_MATRIX = [
    (None, 401),
    ("vendor_admin", 200),
    ("channel_manager", 200),
    ("partner_admin", 403),
    ("partner_rep", 403),
    ("other_partner_admin", 403),
    ("other_tenant_admin", 200),
]


def tier_url(tier_id: int) -> str:
    return f"{TIERS_URL}{tier_id}/"


def tiers_of(tenant, in_tenant) -> list[tuple[str, int]]:
    with in_tenant(tenant):
        return list(PartnerTier.objects.order_by("rank", "name").values_list("name", "rank"))


@pytest.mark.parametrize(("actor", "status"), READ_MATRIX)
def test_list_role_matrix(world: World, actor: str | None, status: int):
    response = api_as(world, actor).get(TIERS_URL)

    assert response.status_code == status
    if status == 200:
        names = [tier["name"] for tier in response.json()["results"]]
        assert ("Gold" in names) == (actor != "other_tenant_admin")


def test_list_shows_the_tenants_tiers_highest_rank_first(world: World):
    PartnerTierFactory(tenant=world.tenant, name="Registered", rank=1)
    silver = PartnerTierFactory(tenant=world.tenant, name="Silver", rank=2)
    PartnerTierFactory(tenant=world.other_tenant, name="Globex Elite", rank=9)

    response = api_as(world, "channel_manager").get(TIERS_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["next"] is None
    assert body["results"] == [
        {"id": world.tier.pk, "name": "Gold", "rank": 3, **DEFAULT_RULES},
        {"id": silver.pk, "name": "Silver", "rank": 2, **DEFAULT_RULES},
        {"id": body["results"][2]["id"], "name": "Registered", "rank": 1, **DEFAULT_RULES},
    ]


def test_list_paginates_by_page_number(world: World):
    for rank in range(1, 5):
        PartnerTierFactory(tenant=world.tenant, name=f"Level {rank}", rank=rank)
    client = api_as(world, "vendor_admin")

    first = client.get(TIERS_URL, {"page_size": 2}).json()
    last = client.get(TIERS_URL, {"page_size": 2, "page": 3}).json()

    assert first["count"] == 5
    assert [tier["name"] for tier in first["results"]] == ["Level 4", "Gold"]
    assert [tier["name"] for tier in last["results"]] == ["Level 1"]
    assert last["next"] is None


def test_list_query_count_does_not_grow_with_rows(world: World, django_assert_max_num_queries):
    client = api_as(world, "vendor_admin")
    client.get(TIERS_URL)  # the token's first use records last_used_at
    with django_assert_max_num_queries(11) as few:
        client.get(TIERS_URL)
    for rank in range(10, 30):
        PartnerTierFactory(tenant=world.tenant, rank=rank)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(TIERS_URL)
    assert response.json()["count"] == 21


@pytest.mark.parametrize(("actor", "status"), READ_MATRIX)
def test_create_role_matrix(world: World, in_tenant, actor: str | None, status: int):
    expected = {None: 401, "vendor_admin": 201, "other_tenant_admin": 201}.get(actor, 403)

    response = api_as(world, actor).post(TIERS_URL, {"name": "Platinum", "rank": 4}, format="json")

    assert response.status_code == expected
    acme_has_it = ("Platinum", 4) in tiers_of(world.tenant, in_tenant)
    globex_has_it = ("Platinum", 4) in tiers_of(world.other_tenant, in_tenant)
    assert acme_has_it == (actor == "vendor_admin")
    assert globex_has_it == (actor == "other_tenant_admin")


def test_create_returns_the_tier_and_writes_an_audit_row(world: World, in_tenant):
    response = api_as(world, "vendor_admin").post(
        TIERS_URL, {"name": "  Platinum ", "rank": 4}, format="json"
    )

    body = response.json()
    assert response.status_code == 201
    assert body == {"id": body["id"], "name": "Platinum", "rank": 4, **DEFAULT_RULES}
    with in_tenant(world.tenant):
        audit = AuditEntry.objects.get(verb="tier_created")
    assert (audit.actor_id, audit.subject_id) == (world.vendor_admin.user_id, str(body["id"]))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Platinum"}, "rank"),
        ({"rank": 4}, "name"),
        ({"name": "", "rank": 4}, "name"),
        ({"name": "   ", "rank": 4}, "name"),
        ({"name": "x" * 101, "rank": 4}, "name"),
        ({"name": 12, "rank": 4}, "name"),
        ({"name": ["Platinum"], "rank": 4}, "name"),
        ({"name": "Platinum", "rank": "4"}, "rank"),
        ({"name": "Platinum", "rank": 4.5}, "rank"),
        ({"name": "Platinum", "rank": True}, "rank"),
        ({"name": "Platinum", "rank": 0}, "rank"),
        ({"name": "Platinum", "rank": 40000}, "rank"),
        ({"name": "Platinum", "rank": 4, "tenant_id": 1}, "tenant_id"),
        ({"name": "gold", "rank": 4}, "name"),  # names are unique per tenant, ignoring case
        ({"name": "Platinum", "rank": 4, "auto_approval_limit": "-1"}, "auto_approval_limit"),
        ({"name": "Platinum", "rank": 4, "auto_approval_limit": "lots"}, "auto_approval_limit"),
        ({"name": "Platinum", "rank": 4, "auto_approval_limit": True}, "auto_approval_limit"),
        ({"name": "Platinum", "rank": 4, "auto_approval_limit": "1.005"}, "auto_approval_limit"),
        ({"name": "Platinum", "rank": 4, "auto_approval_limit": "1e13"}, "auto_approval_limit"),
        ({"name": "Platinum", "rank": 4, "protection_days": 0}, "protection_days"),
        ({"name": "Platinum", "rank": 4, "protection_days": 731}, "protection_days"),
        ({"name": "Platinum", "rank": 4, "protection_days": "90"}, "protection_days"),
        ({"name": "Platinum", "rank": 4, "protection_days": None}, "protection_days"),
    ],
)
def test_create_rejects_bad_input_and_creates_nothing(
    world: World, in_tenant, body: dict, field: str
):
    before = tiers_of(world.tenant, in_tenant)

    response = api_as(world, "vendor_admin").post(TIERS_URL, body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert tiers_of(world.tenant, in_tenant) == before


def test_a_name_with_html_is_stored_as_plain_text(world: World, in_tenant):
    name = "<b>Elite</b> & <script>alert(1)</script>"

    response = api_as(world, "vendor_admin").post(
        TIERS_URL, {"name": name, "rank": 5}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["name"] == name
    assert (name, 5) in tiers_of(world.tenant, in_tenant)


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 200),
        ("channel_manager", 200),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_detail_role_matrix(world: World, actor: str | None, status: int):
    response = api_as(world, actor).get(tier_url(world.tier.pk))

    assert response.status_code == status
    if status == 200:
        assert response.json() == {"id": world.tier.pk, "name": "Gold", "rank": 3, **DEFAULT_RULES}


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 200),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_update_role_matrix(world: World, in_tenant, actor: str | None, status: int):
    response = api_as(world, actor).patch(tier_url(world.tier.pk), {"rank": 7}, format="json")

    assert response.status_code == status
    expected = ("Gold", 7) if status == 200 else ("Gold", 3)
    assert tiers_of(world.tenant, in_tenant) == [expected]


def test_update_changes_only_the_fields_sent(world: World, in_tenant):
    response = api_as(world, "vendor_admin").patch(
        tier_url(world.tier.pk), {"name": "Gold Plus"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": world.tier.pk,
        "name": "Gold Plus",
        "rank": 3,
        **DEFAULT_RULES,
    }
    assert tiers_of(world.tenant, in_tenant) == [("Gold Plus", 3)]


@pytest.mark.parametrize(
    "body", [{"rank": "high"}, {"name": None}, {"name": "x" * 101}, [], {"id": 5}]
)
def test_update_rejects_bad_input_and_changes_nothing(world: World, in_tenant, body):
    response = api_as(world, "vendor_admin").patch(tier_url(world.tier.pk), body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert tiers_of(world.tenant, in_tenant) == [("Gold", 3)]


def test_other_tenants_tier_is_404_and_untouched(world: World, in_tenant):
    globex_tier = PartnerTierFactory(tenant=world.other_tenant, name="Globex Elite", rank=9)
    client = api_as(world, "vendor_admin")

    read = client.get(tier_url(globex_tier.pk))
    write = client.patch(tier_url(globex_tier.pk), {"name": "Hijacked"}, format="json")

    assert (read.status_code, write.status_code) == (404, 404)
    assert read.json() == write.json() == client.get(tier_url(999_999)).json()
    assert ("Globex Elite", 9) in tiers_of(world.other_tenant, in_tenant)
    assert ("Hijacked", 9) not in tiers_of(world.other_tenant, in_tenant)


# --- Registration rules of a tier: auto-approval limit and protection days -----------------------


def rules_of(tier_id: int, in_tenant, tenant) -> tuple:
    with in_tenant(tenant):
        tier = PartnerTier.objects.get(pk=tier_id)
        return (tier.auto_approval_limit, tier.protection_days)


def test_create_takes_the_registration_rules(world: World, in_tenant):
    response = api_as(world, "vendor_admin").post(
        TIERS_URL,
        {"name": "Platinum", "rank": 4, "auto_approval_limit": "50000", "protection_days": 180},
        format="json",
    )

    body = response.json()
    assert response.status_code == 201
    assert (body["auto_approval_limit"], body["protection_days"]) == ("50000.00", 180)
    assert rules_of(body["id"], in_tenant, world.tenant) == (Decimal("50000.00"), 180)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"auto_approval_limit": "25000.50"}, (Decimal("25000.50"), 90)),
        ({"auto_approval_limit": 0}, (Decimal("0.00"), 90)),
        ({"protection_days": 730}, (None, 730)),
        ({"protection_days": 1, "auto_approval_limit": 1000}, (Decimal("1000.00"), 1)),
    ],
)
def test_update_sets_the_registration_rules(world: World, in_tenant, body, expected):
    response = api_as(world, "vendor_admin").patch(tier_url(world.tier.pk), body, format="json")

    assert response.status_code == 200
    limit, days = expected
    assert response.json() == {
        "id": world.tier.pk,
        "name": "Gold",
        "rank": 3,
        "auto_approval_limit": None if limit is None else str(limit),
        "protection_days": days,
        **LEAD_DEFAULTS,
    }
    assert rules_of(world.tier.pk, in_tenant, world.tenant) == expected


def test_a_null_limit_turns_auto_approval_off(world: World, in_tenant):
    with in_tenant(world.tenant):
        PartnerTier.objects.filter(pk=world.tier.pk).update(auto_approval_limit=Decimal(500))

    response = api_as(world, "vendor_admin").patch(
        tier_url(world.tier.pk), {"auto_approval_limit": None}, format="json"
    )

    assert (response.status_code, response.json()["auto_approval_limit"]) == (200, None)
    assert rules_of(world.tier.pk, in_tenant, world.tenant) == (None, 90)


@pytest.mark.parametrize(
    "body",
    [
        {"auto_approval_limit": "-0.01"},
        {"auto_approval_limit": [1]},
        {"auto_approval_limit": "NaN"},
        {"protection_days": 0},
        {"protection_days": 1000},
        {"protection_days": 30.5},
        {"protection_days": True},
        {"protection_days": 30, "auto_approval_limit": "x"},
    ],
)
def test_update_refuses_bad_rules_and_changes_nothing(world: World, in_tenant, body):
    response = api_as(world, "vendor_admin").patch(tier_url(world.tier.pk), body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert rules_of(world.tier.pk, in_tenant, world.tenant) == (None, 90)


def test_a_channel_manager_reads_but_cannot_change_the_rules(world: World, in_tenant):
    client = api_as(world, "channel_manager")

    read = client.get(tier_url(world.tier.pk))
    write = client.patch(tier_url(world.tier.pk), {"protection_days": 365}, format="json")

    assert (read.status_code, read.json()["protection_days"]) == (200, 90)
    assert write.status_code == 403
    assert rules_of(world.tier.pk, in_tenant, world.tenant) == (None, 90)


def test_the_service_refuses_bad_rules_too(world: World, in_tenant):
    with in_tenant(world.tenant), pytest.raises(ValidationFailed) as refused:
        tier_update(
            tenant=world.tenant,
            actor=world.vendor_admin,
            tier_id=world.tier.pk,
            auto_approval_limit=Decimal("-5"),
            protection_days=0,
        )

    assert set(refused.value.fields) == {"auto_approval_limit", "protection_days"}
    assert rules_of(world.tier.pk, in_tenant, world.tenant) == (None, 90)


def test_rule_changes_are_audited(world: World, in_tenant):
    api_as(world, "vendor_admin").patch(
        tier_url(world.tier.pk), {"protection_days": 120}, format="json"
    )

    with in_tenant(world.tenant):
        audit = AuditEntry.objects.get(verb="tier_updated")
    assert (audit.before["protection_days"], audit.after["protection_days"]) == (90, 120)
    assert "auto_approval_limit" not in audit.after  # unchanged: not recorded

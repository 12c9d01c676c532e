"""/api/v1/stages/: every role of the tenant reads the stages (partners: the active ones);
vendor admins create and change them. Another tenant's stage is a 404."""

from __future__ import annotations

import pytest

from pipeline.models import Stage
from pipeline.services.stages import stages_install_defaults
from tests.api_clients import api_as
from tests.conftest import World

URL = "/api/v1/stages/"
DEFAULT_NAMES = [
    "Identification",
    "Qualification",
    "Solution Development",
    "Proposal / Evaluation",
    "Negotiation / Closing",
    "Closed Won",
    "Closed Lost",
]
WRITE_MATRIX = [
    (None, 401),
    ("vendor_admin", 0),  # the success status of the endpoint
    ("channel_manager", 403),
    ("partner_admin", 403),
    ("partner_rep", 403),
    ("other_partner_admin", 403),
]


def stage_url(stage_id: int) -> str:
    return f"{URL}{stage_id}/"


def rows(world: World, in_tenant, tenant=None) -> list[tuple]:
    with in_tenant(tenant or world.tenant):
        return list(
            Stage.objects.order_by("position", "id").values_list(
                "name", "position", "probability", "entry_criteria", "is_active"
            )
        )


@pytest.fixture
def both_tenants(world: World, stages, in_tenant) -> list[Stage]:
    with in_tenant(world.other_tenant):
        stages_install_defaults(tenant=world.other_tenant)
    return stages


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 200),
        ("channel_manager", 200),
        ("partner_admin", 200),
        ("partner_rep", 200),
        ("other_partner_admin", 200),
        ("other_tenant_admin", 200),
    ],
)
def test_list_role_matrix(world: World, both_tenants, actor, status):
    response = api_as(world, actor).get(URL)

    assert response.status_code == status
    if status == 200:
        assert [stage["name"] for stage in response.json()] == DEFAULT_NAMES


def test_list_returns_the_stage_fields(world: World, stages):
    response = api_as(world, "partner_rep").get(URL)

    assert response.json()[1] == {
        "id": stages[1].pk,
        "name": "Qualification",
        "position": 2,
        "probability": 20,
        "kind": "open",
        "entry_criteria": ["budget_confirmed", "decision_maker", "need", "timeline"],
        "stale_after_days": 21,
        "guidance": (
            "Confirm budget, decision maker, need and timeline before investing more time."
        ),
        "is_active": True,
        "forecast_category": "pipeline",
    }


def test_partners_see_only_active_stages(world: World, stages, in_tenant):
    with in_tenant(world.tenant):
        Stage.objects.filter(pk=stages[2].pk).update(is_active=False)

    partner = api_as(world, "partner_admin").get(URL).json()
    vendor = api_as(world, "channel_manager").get(URL).json()

    assert "Solution Development" not in [stage["name"] for stage in partner]
    assert [stage["name"] for stage in vendor] == DEFAULT_NAMES
    assert api_as(world, "partner_admin").get(stage_url(stages[2].pk)).status_code == 404


def new_stage(**overrides) -> dict:
    return {
        "name": "Technical Validation",
        "probability": 50,
        "entry_criteria": ["amount"],
        "stale_after_days": 14,
        "guidance": "Prove it works.",
        **overrides,
    }


@pytest.mark.parametrize(("actor", "status"), [*WRITE_MATRIX, ("other_tenant_admin", 201)])
def test_create_role_matrix(world: World, both_tenants, in_tenant, actor, status):
    before = rows(world, in_tenant), rows(world, in_tenant, world.other_tenant)

    response = api_as(world, actor).post(URL, new_stage(), format="json")

    assert response.status_code == (status or 201)
    after = rows(world, in_tenant), rows(world, in_tenant, world.other_tenant)
    if actor == "vendor_admin":
        assert [row[0] for row in after[0]] == [*DEFAULT_NAMES[:5], "Technical Validation"] + [
            "Closed Won",
            "Closed Lost",
        ]
        assert after[1] == before[1]
    elif actor == "other_tenant_admin":
        assert after[0] == before[0]
    else:
        assert after == before


def test_create_places_the_stage_before_the_closing_ones(world: World, stages):
    response = api_as(world, "vendor_admin").post(URL, new_stage(), format="json")

    created = response.json()
    assert created == {
        "id": created["id"],
        "name": "Technical Validation",
        "position": 6,
        "probability": 50,
        "kind": "open",
        "entry_criteria": ["amount"],
        "stale_after_days": 14,
        "guidance": "Prove it works.",
        "is_active": True,
        "forecast_category": "pipeline",
    }


BAD_STAGE = [
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": 3}, "name"),
    ({"name": "qualification"}, "name"),  # unique per tenant, ignoring case
    ({"probability": 101}, "probability"),
    ({"probability": "50"}, "probability"),
    ({"probability": 50.5}, "probability"),
    ({"entry_criteria": ["mood"]}, "entry_criteria"),
    ({"entry_criteria": "amount"}, "entry_criteria"),
    ({"stale_after_days": 0}, "stale_after_days"),
    ({"stale_after_days": True}, "stale_after_days"),
    ({"guidance": "x" * 4001}, "guidance"),
    ({"kind": "won"}, "kind"),
    ({"tenant_id": 1}, "tenant_id"),
]


@pytest.mark.parametrize(("override", "field"), BAD_STAGE)
def test_create_rejects_bad_input(world: World, stages, in_tenant, override, field):
    before = rows(world, in_tenant)

    response = api_as(world, "vendor_admin").post(URL, new_stage(**override), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid", [field])
    assert rows(world, in_tenant) == before


@pytest.mark.parametrize(("actor", "status"), [*WRITE_MATRIX, ("other_tenant_admin", 404)])
def test_update_role_matrix(world: World, stages, in_tenant, actor, status):
    before = rows(world, in_tenant)

    response = api_as(world, actor).patch(
        stage_url(stages[1].pk), {"name": "Discovery", "probability": 25}, format="json"
    )

    assert response.status_code == (status or 200)
    after = rows(world, in_tenant)
    if actor == "vendor_admin":
        assert after[1][:3] == ("Discovery", 2, 25)
        assert after[:1] + after[2:] == before[:1] + before[2:]
    else:
        assert after == before


def test_update_deactivates_and_reactivates(world: World, stages, in_tenant):
    client = api_as(world, "vendor_admin")

    off = client.patch(stage_url(stages[2].pk), {"is_active": False}, format="json")
    on = client.patch(stage_url(stages[2].pk), {"is_active": True}, format="json")

    assert (off.json()["is_active"], on.json()["is_active"]) == (False, True)
    assert rows(world, in_tenant)[2][4] is True


def test_the_won_stage_cannot_be_deactivated(world: World, stages, in_tenant):
    before = rows(world, in_tenant)

    response = api_as(world, "vendor_admin").patch(
        stage_url(stages[5].pk), {"is_active": False}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": "The tenant needs one active won stage; rename or change this one instead.",
        "fields": {},
    }
    assert rows(world, in_tenant) == before


@pytest.mark.parametrize(
    ("override", "field"),
    [
        *[case for case in BAD_STAGE if case[1] not in ("kind", "name")],
        ({"name": "identification"}, "name"),
        ({"position": 1}, "position"),
        ({"kind": "won"}, "kind"),
        ({"is_active": "false"}, "is_active"),
    ],
)
def test_update_rejects_bad_input(world: World, stages, in_tenant, override, field):
    before = rows(world, in_tenant)

    response = api_as(world, "vendor_admin").patch(stage_url(stages[1].pk), override, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert rows(world, in_tenant) == before


def test_another_tenants_stage_is_404_and_untouched(world: World, both_tenants, in_tenant):
    with in_tenant(world.other_tenant):
        foreign = Stage.objects.for_tenant(world.other_tenant).order_by("position").first()
    before = rows(world, in_tenant, world.other_tenant)
    client = api_as(world, "vendor_admin")

    answers = [
        client.get(stage_url(foreign.pk)),
        client.patch(stage_url(foreign.pk), {"name": "Hijacked"}, format="json"),
    ]

    assert [answer.status_code for answer in answers] == [404, 404]
    assert rows(world, in_tenant, world.other_tenant) == before

"""External ids on opportunities and customers, and the upsert by external id:
`PUT /api/v1/opportunities/by-external-id/{system}/{id}/` (vendor roles).

An id is unique per tenant and system (a database constraint); the upsert creates once
(201) then updates (200) through the ordinary services, so history, events and the stage
rules apply; a refused request changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import DomainEvent
from pipeline.models import (
    CustomerExternalId,
    FieldChange,
    Opportunity,
    OpportunityExternalId,
    Stage,
    StageMove,
)
from tests.api_clients import api_as
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory
from tests.threads import run_at_once

URL = "/api/v1/opportunities/by-external-id/{system}/{id}/"


def upsert_url(system: str = "salesforce", external_id: str = "006A") -> str:
    return URL.format(system=system, id=external_id)


def body(**overrides) -> dict:
    return {
        "name": "Fleet renewal",
        "customer": {
            "name": "Tailspin Toys Ltd",
            "website": "https://www.tailspin.example",
            "external_ids": {"salesforce": "001A"},
        },
        "amount": "40000",
        **overrides,
    }


def deals_of(world: World, in_tenant, tenant=None) -> list[tuple]:
    with in_tenant(tenant or world.tenant):
        return list(
            Opportunity.objects.order_by("id").values_list("id", "name", "amount", "stage_id")
        )


def ids_of(in_tenant, tenant) -> list[tuple]:
    with in_tenant(tenant):
        return list(
            OpportunityExternalId.objects.order_by("id").values_list(
                "opportunity_id", "system", "external_id"
            )
        )


def test_upsert_creates_then_updates_the_same_deal(world: World, stages, in_tenant):
    client = api_as(world, "vendor_admin")

    created = client.put(upsert_url(), body(), format="json")
    updated = client.put(upsert_url(), body(amount="52000.50"), format="json")

    assert created.status_code == 201
    assert updated.status_code == 200
    assert created.json()["id"] == updated.json()["id"]
    assert created.json()["external_ids"] == {"salesforce": "006A"}
    assert created.json()["customer"]["external_ids"] == {"salesforce": "001A"}
    assert updated.json()["amount"] == "52000.50"
    with in_tenant(world.tenant):
        deal = Opportunity.objects.get()
        assert deal.amount == Decimal("52000.50")
        assert deal.partner_id is None
        assert list(
            DomainEvent.objects.filter(subject_id=str(deal.pk)).values_list("name", flat=True)
        ) == ["opportunity.created"]
        assert FieldChange.objects.filter(opportunity=deal, field="amount").count() == 2


def test_resending_the_same_body_changes_nothing(world: World, stages, in_tenant):
    client = api_as(world, "channel_manager")
    client.put(upsert_url(), body(), format="json")
    with in_tenant(world.tenant):
        history = FieldChange.objects.count()

    answers = [client.put(upsert_url(), body(), format="json") for _ in range(10)]

    assert {answer.status_code for answer in answers} == {200}
    assert len(deals_of(world, in_tenant)) == 1
    with in_tenant(world.tenant):
        assert FieldChange.objects.count() == history


def test_upsert_moves_the_stage_through_the_lifecycle(world: World, stages, in_tenant):
    client = api_as(world, "vendor_admin")
    client.put(upsert_url(), body(), format="json")
    second = stages[1]

    response = client.put(upsert_url(), body(stage_id=second.pk), format="json")

    # Leaving the first stage needs the qualification: the stage rules refuse the move.
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "transition_refused"
    assert deals_of(world, in_tenant)[0][3] == stages[0].pk

    qualified = body(
        stage_id=second.pk,
        qualification={
            "budget_confirmed": True,
            "decision_maker": True,
            "need": "Fleet",
            "timeline": "Q3",
        },
    )
    moved = client.put(upsert_url(), qualified, format="json")

    assert moved.status_code == 200, moved.json()
    assert moved.json()["stage_id"] == second.pk
    with in_tenant(world.tenant):
        assert StageMove.objects.filter(to_stage=second).count() == 1


def test_a_refused_stage_move_on_create_leaves_no_deal(world: World, stages, in_tenant):
    response = api_as(world, "vendor_admin").put(
        upsert_url(), body(stage_id=stages[2].pk), format="json"
    )

    assert response.status_code == 409
    assert deals_of(world, in_tenant) == []
    assert ids_of(in_tenant, world.tenant) == []


def test_the_upsert_reaches_a_deal_linked_by_the_plain_api(world: World, stages, in_tenant):
    deal = OpportunityFactory(tenant=world.tenant, partner=world.partner, name="Partner deal")
    client = api_as(world, "vendor_admin")
    patched = client.patch(
        f"/api/v1/opportunities/{deal.pk}/",
        {"external_ids": {"salesforce": "006P"}},
        format="json",
    )

    response = client.put(upsert_url(external_id="006P"), {"next_step": "Demo"}, format="json")

    assert patched.status_code == 200
    assert patched.json()["external_ids"] == {"salesforce": "006P"}
    assert response.status_code == 200
    assert response.json()["id"] == deal.pk
    assert response.json()["next_step"] == "Demo"


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("channel_manager", 201),
        ("vendor_admin", 201),
    ],
)
def test_role_matrix(world: World, stages, in_tenant, actor, status):
    response = api_as(world, actor).put(upsert_url(), body(), format="json")

    assert response.status_code == status
    assert len(deals_of(world, in_tenant)) == (1 if status == 201 else 0)


def test_the_same_id_in_another_tenant_is_another_deal(world: World, stages, in_tenant):
    from pipeline.services.stages import stages_install_defaults

    with in_tenant(world.other_tenant):
        stages_install_defaults(tenant=world.other_tenant)
    ours = api_as(world, "vendor_admin").put(upsert_url(), body(), format="json")

    theirs = api_as(world, "other_tenant_admin").put(upsert_url(), body(), format="json")

    assert ours.status_code == theirs.status_code == 201
    assert ours.json()["id"] != theirs.json()["id"]
    assert len(deals_of(world, in_tenant)) == 1
    assert len(deals_of(world, in_tenant, world.other_tenant)) == 1


def test_another_tenants_deal_cannot_be_reached_or_relinked(world: World, stages, in_tenant):
    from pipeline.services.stages import stages_install_defaults

    with in_tenant(world.other_tenant):
        stages_install_defaults(tenant=world.other_tenant)
    foreign = OpportunityFactory(tenant=world.other_tenant, name="Foreign")
    api_as(world, "other_tenant_admin").patch(
        f"/api/v1/opportunities/{foreign.pk}/", {"external_ids": {"hubspot": "77"}}, format="json"
    )
    client = api_as(world, "vendor_admin")

    patched = client.patch(
        f"/api/v1/opportunities/{foreign.pk}/", {"external_ids": {"hubspot": "78"}}, format="json"
    )
    upserted = client.put(upsert_url("hubspot", "77"), body(name="Ours"), format="json")

    assert patched.status_code == 404
    assert upserted.status_code == 201
    assert upserted.json()["id"] != foreign.pk
    assert ids_of(in_tenant, world.other_tenant) == [(foreign.pk, "hubspot", "77")]
    with in_tenant(world.other_tenant):
        assert Opportunity.objects.get(pk=foreign.pk).name == "Foreign"


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        (upsert_url("Sales Force"), body(), "external_ids"),
        (upsert_url("salesforce", "x" * 256), body(), "external_id"),
        (upsert_url(), {"customer": {"name": "No deal name"}}, "name"),
        (upsert_url(), {"name": "No customer"}, "customer"),
        (upsert_url(), body(amount=True), "amount"),
        (upsert_url(), body(amount="-5"), "amount"),
        (upsert_url(), body(name="x" * 5000), "name"),
        (upsert_url(), body(stage_id="2"), "stage_id"),
        (upsert_url(), body(stage_id=999999), "stage_id"),
        (upsert_url(), body(status="won"), "status"),
        (upsert_url(), body(external_ids=["salesforce"]), "external_ids"),
        (upsert_url(), body(external_ids={"salesforce": "006B"}), "external_ids"),
        (upsert_url(), body(external_ids={"hubspot": 12}), "external_ids"),
        (upsert_url(), body(external_ids={"Bad System": "1"}), "external_ids"),
        (upsert_url(), body(unknown=1), "unknown"),
    ],
)
def test_bad_input_is_a_400_in_the_one_error_shape(
    world: World, stages, in_tenant, url, payload, field
):
    response = api_as(world, "vendor_admin").put(url, payload, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert deals_of(world, in_tenant) == []
    assert ids_of(in_tenant, world.tenant) == []


def test_html_in_the_name_is_stored_as_text(world: World, stages, in_tenant):
    response = api_as(world, "vendor_admin").put(
        upsert_url(), body(name="<script>alert(1)</script>"), format="json"
    )

    assert response.status_code == 201
    assert response.json()["name"] == "<script>alert(1)</script>"


def test_an_id_held_by_another_deal_is_a_409_and_changes_nothing(world: World, stages, in_tenant):
    client = api_as(world, "vendor_admin")
    first = client.put(upsert_url(external_id="006A"), body(), format="json").json()
    second = client.put(upsert_url(external_id="006B"), body(name="Other"), format="json").json()

    response = client.patch(
        f"/api/v1/opportunities/{second['id']}/",
        {"external_ids": {"salesforce": "006A"}, "name": "Renamed"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "external_id_taken"
    assert ids_of(in_tenant, world.tenant) == [
        (first["id"], "salesforce", "006A"),
        (second["id"], "salesforce", "006B"),
    ]
    assert [row[1] for row in deals_of(world, in_tenant)] == ["Fleet renewal", "Other"]


def test_null_removes_one_system_and_keeps_the_others(world: World, stages, in_tenant):
    client = api_as(world, "vendor_admin")
    deal = client.put(upsert_url(), body(external_ids={"hubspot": "9"}), format="json").json()

    response = client.patch(
        f"/api/v1/opportunities/{deal['id']}/", {"external_ids": {"hubspot": None}}, format="json"
    )

    assert response.json()["external_ids"] == {"salesforce": "006A"}


def test_partners_see_the_ids_of_their_deals_but_cannot_write_them(world: World, stages, in_tenant):
    deal = OpportunityFactory(
        tenant=world.tenant, partner=world.partner, owner=world.partner_rep.user, name="Rep"
    )
    api_as(world, "vendor_admin").patch(
        f"/api/v1/opportunities/{deal.pk}/", {"external_ids": {"salesforce": "006R"}}, format="json"
    )
    rep = api_as(world, "partner_rep")

    read = rep.get(f"/api/v1/opportunities/{deal.pk}/")
    write = rep.patch(
        f"/api/v1/opportunities/{deal.pk}/", {"external_ids": {"salesforce": "006X"}}, format="json"
    )
    other = api_as(world, "other_partner_admin").get(f"/api/v1/opportunities/{deal.pk}/")

    assert read.json()["external_ids"] == {"salesforce": "006R"}
    assert write.status_code == 403
    assert other.status_code == 404
    assert ids_of(in_tenant, world.tenant) == [(deal.pk, "salesforce", "006R")]


def test_the_list_shows_ids_without_a_query_per_row(world: World, stages, in_tenant):
    client = api_as(world, "vendor_admin")
    for number in range(3):
        client.put(upsert_url(external_id=f"006{number}"), body(), format="json")
    client.get("/api/v1/opportunities/")  # warm the per-process caches

    with CaptureQueriesContext(connection) as few:
        small = client.get("/api/v1/opportunities/")
    for number in range(3, 9):
        client.put(upsert_url(external_id=f"006{number}"), body(), format="json")
    with CaptureQueriesContext(connection) as many:
        large = client.get("/api/v1/opportunities/")

    assert len(small.json()["results"]) == 3
    assert len(large.json()["results"]) == 9
    assert len(many.captured_queries) == len(few.captured_queries)
    assert all(deal["external_ids"] for deal in large.json()["results"])


def test_the_database_refuses_a_second_deal_with_the_same_id(world: World, stages, in_tenant):
    first = OpportunityFactory(tenant=world.tenant, name="One")
    second = OpportunityFactory(tenant=world.tenant, name="Two")
    with in_tenant(world.tenant):
        OpportunityExternalId.objects.create(
            tenant=world.tenant, opportunity=first, system="salesforce", external_id="006Z"
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            OpportunityExternalId.objects.create(
                tenant=world.tenant, opportunity=second, system="salesforce", external_id="006Z"
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            OpportunityExternalId.objects.create(
                tenant=world.tenant, opportunity=first, system="salesforce", external_id="006Y"
            )
        assert CustomerExternalId.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_simultaneous_upserts_of_one_id_create_one_deal(world: World, stages, in_tenant):
    clients = [api_as(world, "vendor_admin") for _ in range(6)]
    answers: list[int] = []

    errors = run_at_once(
        lambda client: answers.append(
            client.put(upsert_url(external_id="006RACE"), body(), format="json").status_code
        ),
        clients,
    )

    assert errors == []
    assert sorted(answers) == [200, 200, 200, 200, 200, 201]
    assert len(deals_of(world, in_tenant)) == 1
    with in_tenant(world.tenant):
        assert OpportunityExternalId.objects.filter(external_id="006RACE").count() == 1
        assert Stage.objects.exists()

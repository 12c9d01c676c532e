"""Lifecycle actions, activities and co-sell requests over the API.

Refused transitions are a 409 naming what is missing; bad input a 400; another tenant's or
partner's deal a 404; in every refused case nothing changes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Notification
from pipeline.models import (
    Activity,
    CoSellRequest,
    CoSellResource,
    CoSellResourceType,
    Opportunity,
    Stage,
    StageMove,
)
from pipeline.services.stages import stages_install_defaults
from tests.api_clients import api_as
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory, make_ready_to_win

QUALIFIED = {"budget_confirmed": True, "decision_maker": True, "need": "Quotes", "timeline": "Q3"}
MATRIX = [
    (None, 401),
    ("vendor_admin", 200),
    ("channel_manager", 200),
    ("partner_admin", 200),
    ("partner_rep", 200),
    ("other_partner_admin", 404),
    ("other_tenant_admin", 404),
]


@pytest.fixture
def deal(world: World, stages) -> Opportunity:
    return OpportunityFactory(
        tenant=world.tenant, partner=world.partner, owner=world.partner_rep.user, name="Rep"
    )


def url(deal: Opportunity, action: str) -> str:
    return f"/api/v1/opportunities/{deal.pk}/{action}/"


def stage(stages, name: str) -> Stage:
    return next(s for s in stages if s.name == name)


def qualify(world: World, deal: Opportunity, in_tenant, **extra) -> None:
    with in_tenant(world.tenant):
        Opportunity.objects.filter(pk=deal.pk).update(**QUALIFIED, **extra)


def snapshot(world: World, deal: Opportunity, in_tenant) -> tuple:
    with in_tenant(world.tenant):
        row = Opportunity.objects.get(pk=deal.pk)
        return (row.stage_id, row.status, row.amount, row.lost_reason_id, row.moves.count())


def refusal(response) -> tuple:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"], error["fields"]


# --- move-stage -----------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "status"), MATRIX)
def test_move_stage_role_matrix(world: World, stages, deal, in_tenant, actor, status):
    qualify(world, deal, in_tenant)
    before = snapshot(world, deal, in_tenant)
    target = stage(stages, "Qualification")

    response = api_as(world, actor).post(
        url(deal, "move-stage"), {"stage_id": target.pk}, format="json"
    )

    assert response.status_code == status
    if status == 200:
        assert response.json()["stage_id"] == target.pk
        assert snapshot(world, deal, in_tenant)[0] == target.pk
    else:
        assert snapshot(world, deal, in_tenant) == before


def test_move_stage_records_the_move_with_its_note(world: World, stages, deal, in_tenant):
    qualify(world, deal, in_tenant)
    target = stage(stages, "Qualification")

    response = api_as(world, "partner_rep").post(
        url(deal, "move-stage"), {"stage_id": target.pk, "note": "Call done"}, format="json"
    )

    assert (response.status_code, response.json()["status"]) == (200, "open")
    with in_tenant(world.tenant):
        move = StageMove.objects.get(opportunity=deal)
        assert (move.to_stage_id, move.note, move.actor_id) == (
            target.pk,
            "Call done",
            world.partner_rep.user_id,
        )


def test_leaving_the_first_stage_needs_the_qualification(world: World, stages, deal, in_tenant):
    with in_tenant(world.tenant):
        Opportunity.objects.filter(pk=deal.pk).update(budget_confirmed=True, need="Quotes")
    before = snapshot(world, deal, in_tenant)

    response = api_as(world, "partner_rep").post(
        url(deal, "move-stage"), {"stage_id": stage(stages, "Qualification").pk}, format="json"
    )

    assert refusal(response) == (
        409,
        "transition_refused",
        "Complete the qualification before leaving Identification: "
        "Decision maker identified, Timeline known.",
        {
            "missing": ["Decision maker identified", "Timeline known"],
            "missing_fields": ["decision_maker", "timeline"],
        },
    )
    assert snapshot(world, deal, in_tenant) == before


def test_entry_criteria_of_the_target_stage_are_listed(world: World, stages, deal, in_tenant):
    qualify(world, deal, in_tenant)
    before = snapshot(world, deal, in_tenant)

    response = api_as(world, "channel_manager").post(
        url(deal, "move-stage"),
        {"stage_id": stage(stages, "Solution Development").pk},
        format="json",
    )

    assert refusal(response) == (
        409,
        "transition_refused",
        "To enter Solution Development, fill in: Amount, Next step.",
        {"missing": ["Amount", "Next step"], "missing_fields": ["amount", "next_step"]},
    )
    assert snapshot(world, deal, in_tenant) == before


def test_moving_to_a_closing_stage_is_refused(world: World, stages, deal, in_tenant):
    qualify(world, deal, in_tenant)

    response = api_as(world, "vendor_admin").post(
        url(deal, "move-stage"), {"stage_id": stage(stages, "Closed Won").pk}, format="json"
    )

    assert refusal(response) == (
        409,
        "transition_refused",
        "Use “close won” or “close lost” to close a deal.",
        {},
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stage_id": "FOREIGN"}, "stage_id"),
        ({"stage_id": 999_999}, "stage_id"),
        ({"stage_id": "2"}, "stage_id"),
        ({}, "stage_id"),
        ({"stage_id": "OK", "note": "x" * 1001}, "note"),
        ({"stage_id": "OK", "note": 5}, "note"),
        ({"stage_id": "OK", "status": "won"}, "status"),
    ],
)
def test_move_stage_rejects_bad_input(world: World, stages, deal, in_tenant, body, field):
    qualify(world, deal, in_tenant)
    with in_tenant(world.other_tenant):
        stages_install_defaults(tenant=world.other_tenant)
        foreign = Stage.objects.for_tenant(world.other_tenant).order_by("position")[1]
    ids = {"FOREIGN": foreign.pk, "OK": stage(stages, "Qualification").pk}
    body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    before = snapshot(world, deal, in_tenant)

    response = api_as(world, "vendor_admin").post(url(deal, "move-stage"), body, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert snapshot(world, deal, in_tenant) == before


def test_another_tenants_stage_reads_like_a_missing_one(world: World, stages, deal, in_tenant):
    with in_tenant(world.other_tenant):
        stages_install_defaults(tenant=world.other_tenant)
        foreign = Stage.objects.for_tenant(world.other_tenant).order_by("position")[1]
    client = api_as(world, "vendor_admin")

    answers = [
        client.post(url(deal, "move-stage"), {"stage_id": pk}, format="json").json()
        for pk in (foreign.pk, 999_999)
    ]

    assert answers[0] == answers[1]
    assert answers[0]["error"]["fields"] == {"stage_id": ["Not found."]}


# --- close-won, close-lost, reopen ----------------------------------------------------------


@pytest.mark.parametrize(("actor", "status"), MATRIX)
def test_close_won_role_matrix(world: World, stages, deal, in_tenant, actor, status):
    make_ready_to_win(world.tenant, deal.pk)
    before = snapshot(world, deal, in_tenant)
    body = {"amount": "25000.50", "close_date": timezone.localdate().isoformat()}

    response = api_as(world, actor).post(url(deal, "close-won"), body, format="json")

    assert response.status_code == status
    if status == 200:
        won = response.json()
        assert (won["status"], won["amount"], won["stage_id"], won["closed_on"]) == (
            "won",
            "25000.50",
            stage(stages, "Closed Won").pk,
            body["close_date"],
        )
    else:
        assert snapshot(world, deal, in_tenant) == before


def test_close_won_names_what_is_missing(world: World, stages, deal, in_tenant):
    make_ready_to_win(world.tenant, deal.pk)
    before = snapshot(world, deal, in_tenant)

    response = api_as(world, "channel_manager").post(url(deal, "close-won"), {}, format="json")

    assert refusal(response) == (
        409,
        "transition_refused",
        "To close the deal as won, fill in: Amount, Close date.",
        {"missing": ["Amount", "Close date"]},
    )
    assert snapshot(world, deal, in_tenant) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": "ten"}, "amount"),
        ({"amount": [1]}, "amount"),
        ({"close_date": "tomorrow"}, "close_date"),
        ({"close_date": 20240101}, "close_date"),
        ({"close_date": "FUTURE"}, "close_date"),
        ({"reason": "x"}, "reason"),
    ],
)
def test_close_won_rejects_bad_input(world: World, deal, in_tenant, body, field):
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    body = {"amount": "10", "close_date": timezone.localdate().isoformat(), **body}
    body = {k: future if v == "FUTURE" else v for k, v in body.items()}
    before = snapshot(world, deal, in_tenant)

    response = api_as(world, "vendor_admin").post(url(deal, "close-won"), body, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert snapshot(world, deal, in_tenant) == before


@pytest.mark.parametrize(("actor", "status"), MATRIX)
def test_close_lost_role_matrix(world: World, stages, deal, in_tenant, actor, status):
    before = snapshot(world, deal, in_tenant)

    response = api_as(world, actor).post(
        url(deal, "close-lost"), {"reason_code": "price", "note": "Too dear"}, format="json"
    )

    assert response.status_code == status
    if status == 200:
        lost = response.json()
        assert (lost["status"], lost["lost_reason_code"], lost["lost_note"]) == (
            "lost",
            "price",
            "Too dear",
        )
    else:
        assert snapshot(world, deal, in_tenant) == before


@pytest.mark.parametrize("body", [{}, {"reason_code": "aliens"}, {"reason_code": ""}])
def test_close_lost_needs_a_known_reason(world: World, deal, in_tenant, body):
    before = snapshot(world, deal, in_tenant)

    response = api_as(world, "partner_admin").post(url(deal, "close-lost"), body, format="json")

    assert refusal(response) == (
        409,
        "transition_refused",
        "To close the deal as lost, choose a lost reason.",
        {"missing": ["Lost reason"]},
    )
    assert snapshot(world, deal, in_tenant) == before


def test_a_closed_deal_refuses_another_close_and_moves(world: World, stages, deal, in_tenant):
    client = api_as(world, "vendor_admin")
    client.post(url(deal, "close-lost"), {"reason_code": "price"}, format="json")
    before = snapshot(world, deal, in_tenant)

    answers = [
        client.post(url(deal, "close-lost"), {"reason_code": "timing"}, format="json"),
        client.post(url(deal, "move-stage"), {"stage_id": stages[1].pk}, format="json"),
    ]

    assert [refusal(answer)[:3] for answer in answers] == [
        (409, "transition_refused", "The deal is already lost."),
        (409, "transition_refused", "The deal is lost; reopen it first."),
    ]
    assert snapshot(world, deal, in_tenant) == before


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
def test_reopen_role_matrix(world: World, stages, deal, in_tenant, actor, status):
    api_as(world, "vendor_admin").post(
        url(deal, "close-lost"), {"reason_code": "price"}, format="json"
    )
    before = snapshot(world, deal, in_tenant)

    response = api_as(world, actor).post(url(deal, "reopen"), {}, format="json")

    assert response.status_code == status
    if status == 200:
        reopened = response.json()
        assert (reopened["status"], reopened["stage_id"], reopened["lost_reason_code"]) == (
            "open",
            stages[0].pk,
            None,
        )
    else:
        assert snapshot(world, deal, in_tenant) == before


def test_reopening_an_open_deal_is_refused(world: World, deal, in_tenant):
    before = snapshot(world, deal, in_tenant)

    response = api_as(world, "vendor_admin").post(url(deal, "reopen"))

    assert refusal(response) == (409, "transition_refused", "The deal is already open.", {})
    assert snapshot(world, deal, in_tenant) == before


# --- Activities -----------------------------------------------------------------------------


@pytest.fixture
def timeline(world: World, deal, in_tenant) -> None:
    now = timezone.now()
    with in_tenant(world.tenant):
        for body, internal, hours in (("Call", False, 3), ("Margin", True, 2), ("Demo", False, 1)):
            Activity.objects.create(
                tenant=world.tenant,
                opportunity=deal,
                kind="note",
                body=body,
                vendor_internal=internal,
                occurred_at=now - timedelta(hours=hours),
                author=world.channel_manager.user,
            )


@pytest.mark.parametrize(
    ("actor", "status", "expected"),
    [
        (None, 401, None),
        ("vendor_admin", 200, ["Demo", "Margin", "Call"]),
        ("channel_manager", 200, ["Demo", "Margin", "Call"]),
        ("partner_admin", 200, ["Demo", "Call"]),
        ("partner_rep", 200, ["Demo", "Call"]),
        ("other_partner_admin", 404, None),
        ("other_tenant_admin", 404, None),
    ],
)
def test_activity_list_hides_internal_notes_from_partners(
    world: World, deal, timeline, actor, status, expected
):
    response = api_as(world, actor).get(url(deal, "activities"))

    assert response.status_code == status
    if expected is not None:
        assert [item["body"] for item in response.json()["results"]] == expected


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 201),
        ("channel_manager", 201),
        ("partner_admin", 201),
        ("partner_rep", 201),
        ("other_partner_admin", 404),
        ("other_tenant_admin", 404),
    ],
)
def test_activity_add_role_matrix(world: World, deal, in_tenant, actor, status):
    response = api_as(world, actor).post(
        url(deal, "activities"), {"kind": "call", "body": "Spoke to the CFO"}, format="json"
    )

    assert response.status_code == status
    with in_tenant(world.tenant):
        assert Activity.objects.filter(opportunity=deal).count() == (1 if status == 201 else 0)
    if status == 201:
        created = response.json()
        assert (created["kind"], created["body"], created["vendor_internal"]) == (
            "call",
            "Spoke to the CFO",
            False,
        )
        assert created["author_id"] == world.member(actor).user_id


def test_vendors_write_internal_notes_partners_cannot(world: World, deal, in_tenant):
    body = {"kind": "note", "body": "Margin is thin", "vendor_internal": True}

    vendor = api_as(world, "channel_manager").post(url(deal, "activities"), body, format="json")
    partner = api_as(world, "partner_admin").post(url(deal, "activities"), body, format="json")

    assert (vendor.status_code, vendor.json()["vendor_internal"]) == (201, True)
    assert refusal(partner) == (
        403,
        "permission_denied",
        "Only the vendor's people write internal notes.",
        {},
    )
    with in_tenant(world.tenant):
        assert list(Activity.objects.values_list("vendor_internal", flat=True)) == [True]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "fax"}, "kind"),
        ({"body": ""}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": ["a"]}, "body"),
        ({"vendor_internal": "true"}, "vendor_internal"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "FUTURE"}, "occurred_at"),
        ({"author_id": 1}, "author_id"),
    ],
)
def test_activity_add_rejects_bad_input(world: World, deal, in_tenant, body, field):
    future = (timezone.now() + timedelta(days=1)).isoformat()
    body = {"kind": "call", "body": "Hello", **body}
    body = {k: future if v == "FUTURE" else v for k, v in body.items()}

    response = api_as(world, "vendor_admin").post(url(deal, "activities"), body, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    with in_tenant(world.tenant):
        assert not Activity.objects.exists()


# --- Co-sell requests -----------------------------------------------------------------------
# (the deal is in the first stage: marketing support is the help it qualifies for)


def ask(world: World, deal: Opportunity, actor: str = "partner_rep", **overrides):
    body = {
        "resource_type": "marketing_support",
        "need": "A joint webinar for the customer's team",
        "need_by": (timezone.localdate() + timedelta(days=7)).isoformat(),
        "details": "Architecture review",
        **overrides,
    }
    return api_as(world, actor).post(url(deal, "cosell-requests"), body, format="json")


def cosell_url(request_id: int, action: str) -> str:
    return f"/api/v1/cosell-requests/{request_id}/{action}/"


def requests_of(world: World, in_tenant) -> list[tuple]:
    with in_tenant(world.tenant):
        return list(
            CoSellRequest.objects.order_by("id").values_list(
                "status", "assignee_id", "resource_type__code"
            )
        )


@pytest.fixture
def pool(world: World, stages, in_tenant) -> CoSellResource:
    """The channel manager gives marketing support, up to 5 engagements a week."""
    with in_tenant(world.tenant):
        resource = CoSellResource.objects.create(
            tenant=world.tenant, person=world.channel_manager, weekly_capacity=5
        )
        resource.types.set(
            CoSellResourceType.objects.for_tenant(world.tenant),
            through_defaults={"tenant_id": resource.tenant_id},
        )
        return resource


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 403),
        ("channel_manager", 403),
        ("partner_admin", 201),
        ("partner_rep", 201),
        ("other_partner_admin", 404),
        ("other_tenant_admin", 403),
    ],
)
def test_cosell_request_role_matrix(world: World, deal, in_tenant, actor, status):
    response = ask(world, deal, actor)

    assert response.status_code == status
    expected = [("requested", None, "marketing_support")] if status == 201 else []
    assert requests_of(world, in_tenant) == expected
    if status == 201:
        created = response.json()
        assert (created["opportunity_id"], created["status"], created["requested_by_id"]) == (
            deal.pk,
            "requested",
            world.member(actor).user_id,
        )
        assert created["stage_at_request_id"] == deal.stage_id
        assert created["sla_due_at"] is not None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"resource_type": "lunch"}, "resource_type"),
        ({"resource_type": 3}, "resource_type"),
        ({"need": ""}, "need"),
        ({"need": "x" * 2001}, "need"),
        ({"need_by": "2020-01-01"}, "need_by"),
        ({"need_by": 7}, "need_by"),
        ({"details": "x" * 2001}, "details"),
        ({"assignee_id": 1}, "assignee_id"),
    ],
)
def test_cosell_request_rejects_bad_input(world: World, deal, in_tenant, overrides, field):
    response = ask(world, deal, **overrides)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert requests_of(world, in_tenant) == []


def test_a_deal_asks_only_for_help_it_qualifies_for(world: World, deal, in_tenant):
    response = ask(world, deal, resource_type="pre_sales_engineer")

    assert response.status_code == 409
    assert response.json()["error"]["message"] == (
        "The deal does not qualify for Pre-sales engineer: The deal must be in Solution "
        "Development or Proposal / Evaluation or Negotiation / Closing; it is in Identification."
    )
    assert requests_of(world, in_tenant) == []


@pytest.mark.parametrize(
    ("actor", "status", "count"),
    [
        (None, 401, None),
        ("vendor_admin", 200, 1),
        ("channel_manager", 200, 1),
        ("partner_admin", 200, 1),
        ("partner_rep", 200, 1),
        ("other_partner_admin", 404, None),
        ("other_tenant_admin", 404, None),
    ],
)
def test_cosell_list_role_matrix(world: World, deal, actor, status, count):
    ask(world, deal)

    response = api_as(world, actor).get(url(deal, "cosell-requests"))

    assert response.status_code == status
    if count is not None:
        assert [r["resource_type"] for r in response.json()["results"]] == ["marketing_support"]


@pytest.fixture
def requested(world: World, deal, pool) -> int:
    return ask(world, deal).json()["id"]


DECISION_MATRIX = [
    (None, 401),
    ("vendor_admin", 200),
    ("channel_manager", 200),
    ("partner_admin", 403),
    ("partner_rep", 403),
    ("other_partner_admin", 403),
    ("other_tenant_admin", 404),
]


@pytest.mark.parametrize(("actor", "status"), DECISION_MATRIX)
def test_cosell_assign_role_matrix(world: World, requested, in_tenant, actor, status):
    response = api_as(world, actor).post(cosell_url(requested, "assign"), {}, format="json")

    assert response.status_code == status
    expected = ("assigned", world.channel_manager.user_id) if status == 200 else ("requested", None)
    assert requests_of(world, in_tenant)[0][:2] == expected
    if status == 200:
        assert response.json()["assigned_person_id"] == world.channel_manager.pk


def test_assigning_tells_the_partner_and_the_assignee(world: World, requested, in_tenant):
    response = api_as(world, "vendor_admin").post(
        cosell_url(requested, "assign"),
        {"person_id": world.channel_manager.pk, "reason": "Knows the customer"},
        format="json",
    )

    assert response.json()["status"] == "assigned"
    assert response.json()["override_reason"] == "Knows the customer"
    with in_tenant(world.tenant):
        told = set(
            Notification.objects.filter(verb__in=["cosell_decided", "cosell_assigned"]).values_list(
                "recipient_id", flat=True
            )
        )
    assert told == {world.partner_rep.user_id, world.channel_manager.user_id}


@pytest.mark.parametrize(
    ("person", "field"),
    [
        ("PARTNER_ADMIN", "person_id"),
        ("OTHER_TENANT_ADMIN", "person_id"),
        ("NOT_IN_POOL", "person_id"),
        ("TEXT", "person_id"),
        ("NO_REASON", "reason"),
    ],
)
def test_cosell_assign_rejects_people_outside_the_pool(
    world: World, requested, in_tenant, person, field
):
    ids = {
        "PARTNER_ADMIN": world.partner_admin.pk,
        "OTHER_TENANT_ADMIN": world.other_tenant_admin.pk,
        "NOT_IN_POOL": world.vendor_admin.pk,
        "TEXT": str(world.channel_manager.pk),
        "NO_REASON": world.channel_manager.pk,
    }
    body = {"person_id": ids[person]}
    if person != "NO_REASON":
        body["reason"] = "Because"

    response = api_as(world, "vendor_admin").post(
        cosell_url(requested, "assign"), body, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert requests_of(world, in_tenant)[0][:2] == ("requested", None)


@pytest.mark.parametrize(("actor", "status"), DECISION_MATRIX)
def test_cosell_decline_role_matrix(world: World, requested, in_tenant, actor, status):
    response = api_as(world, actor).post(
        cosell_url(requested, "decline"), {"reason": "No capacity"}, format="json"
    )

    assert response.status_code == status
    assert requests_of(world, in_tenant)[0][0] == ("declined" if status == 200 else "requested")
    if status == 200:
        assert response.json()["decline_reason"] == "No capacity"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x" * 501}, {"reason": 3}])
def test_cosell_decline_needs_a_reason(world: World, requested, in_tenant, body):
    response = api_as(world, "vendor_admin").post(
        cosell_url(requested, "decline"), body, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["reason"]
    assert requests_of(world, in_tenant)[0][0] == "requested"


@pytest.mark.parametrize(("actor", "status"), DECISION_MATRIX)
def test_cosell_complete_role_matrix(world: World, requested, in_tenant, actor, status):
    api_as(world, "vendor_admin").post(cosell_url(requested, "assign"), {}, format="json")
    api_as(world, "channel_manager").post(cosell_url(requested, "engage"), {}, format="json")

    response = api_as(world, actor).post(cosell_url(requested, "complete"))

    assert response.status_code == status
    assert requests_of(world, in_tenant)[0][0] == ("completed" if status == 200 else "engaged")


def test_cosell_decisions_follow_the_lifecycle(world: World, requested, in_tenant):
    client = api_as(world, "channel_manager")

    early = client.post(cosell_url(requested, "complete"))
    client.post(cosell_url(requested, "decline"), {"reason": "Busy"}, format="json")
    late = client.post(cosell_url(requested, "assign"), {}, format="json")

    assert refusal(early) == (
        409,
        "conflict",
        "The request is requested; it cannot be completed.",
        {},
    )
    assert refusal(late) == (409, "conflict", "The request is declined; it cannot be assigned.", {})
    assert requests_of(world, in_tenant)[0][:2] == ("declined", None)

"""A registration's lifecycle over the API: submit, withdraw, approve, reject, request-info,
mark-duplicate, revert, and protection extensions.

Refused transitions are a 409 with the reason, bad input a 400, another tenant's or
partner's registration a 404; in every refused case nothing changes. A partner never
learns the other partner of a conflict from any response; vendor roles see it.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from accounts.tenancy import tenant_context
from deals.models import DealRegistration, Extension
from deals.services.decisions import registration_approve
from deals.services.registrations import extension_request
from deals.services.screening import registration_screen
from tests.api_clients import api_as
from tests.conftest import World
from tests.deals.api_helpers import (
    NOT_FOUND_BODY,
    PARTNER_MATRIX,
    VENDOR_ADMIN_MATRIX,
    VENDOR_MATRIX,
    VIEWER_MATRIX,
    registration_url,
    registrations_state,
    set_status,
)


@pytest.fixture
def in_review(deals_world: World, register) -> DealRegistration:
    return register(deals_world.partner_rep)


@pytest.fixture
def approved(deals_world: World, in_review) -> DealRegistration:
    with tenant_context(deals_world.tenant):
        return registration_approve(
            tenant=deals_world.tenant,
            actor=deals_world.channel_manager,
            registration_id=in_review.pk,
        )


@pytest.fixture
def extension(deals_world: World, approved) -> Extension:
    with tenant_context(deals_world.tenant):
        return extension_request(
            tenant=deals_world.tenant,
            actor=deals_world.partner_rep,
            registration_id=approved.pk,
            reason="The customer's board meets next month",
        )


def post(world: World, actor: str | None, url: str, body: dict | None = None):
    return api_as(world, actor).post(url, body or {}, format="json")


def refusal(response) -> tuple:
    error = response.json()["error"]
    return response.status_code, error["code"], error["message"]


# --- Role matrices --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("submitted", "action", "outcome"),
    [(False, "submit", "submitted"), (True, "withdraw", "withdrawn")],
    ids=["submit", "withdraw"],
)
@pytest.mark.parametrize(("actor", "status"), PARTNER_MATRIX)
def test_partner_action_role_matrix(
    deals_world: World, register, submitted, action, outcome, actor, status
):
    registration = register(deals_world.partner_rep, submit=submitted)
    before = registrations_state(deals_world.tenant)

    response = post(deals_world, actor, registration_url(registration.pk, action))

    assert response.status_code == status
    if status == 200:
        assert response.json()["status"] == outcome
    else:
        assert registrations_state(deals_world.tenant) == before


@pytest.mark.parametrize(
    ("action", "body", "outcome"),
    [
        ("approve", {"note": "Welcome"}, ("approved", "approved", "Welcome")),
        (
            "reject",
            {"reason_code": "outside_territory", "message": "EMEA only"},
            ("rejected", "outside_territory", "EMEA only"),
        ),
        (
            "request-info",
            {"message": "Which seats?"},
            ("info_requested", "info_requested", "Which seats?"),
        ),
    ],
)
@pytest.mark.parametrize(("actor", "status"), VENDOR_MATRIX)
def test_decision_role_matrix(deals_world: World, in_review, action, body, outcome, actor, status):
    before = registrations_state(deals_world.tenant)

    response = post(deals_world, actor, registration_url(in_review.pk, action), body)

    assert response.status_code == status
    if status == 200:
        decided = response.json()
        assert (decided["status"], decided["decision"]) == (
            outcome[0],
            {"code": outcome[1], "message": outcome[2]},
        )
        assert decided["decided_at"] is not None
    else:
        assert registrations_state(deals_world.tenant) == before


@pytest.mark.parametrize(("actor", "status"), VENDOR_MATRIX)
def test_mark_duplicate_role_matrix(deals_world: World, register, actor, status):
    original = register(deals_world.partner_rep)
    copy = register(deals_world.partner_rep, description="Again")
    before = registrations_state(deals_world.tenant)

    response = post(
        deals_world,
        actor,
        registration_url(copy.pk, "mark-duplicate"),
        {"original_id": original.pk, "message": "Same deal"},
    )

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert (body["status"], body["decision"], body["duplicate_of_id"]) == (
            "rejected",
            {"code": "duplicate", "message": "Same deal"},
            original.pk,
        )
    else:
        assert registrations_state(deals_world.tenant) == before


@pytest.mark.parametrize(("actor", "status"), VENDOR_ADMIN_MATRIX)
def test_revert_role_matrix(deals_world: World, approved, actor, status):
    before = registrations_state(deals_world.tenant)

    response = post(deals_world, actor, registration_url(approved.pk, "revert"), {"note": "Oops"})

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert (body["status"], body["protected_until"], body["decision"]) == (
            "in_review",
            None,
            None,
        )
    else:
        assert registrations_state(deals_world.tenant) == before


@pytest.mark.parametrize(
    ("actor", "status"),
    [(actor, 201 if status == 200 else status) for actor, status in PARTNER_MATRIX],
)
def test_extension_request_role_matrix(deals_world: World, approved, actor, status):
    before = registrations_state(deals_world.tenant)

    response = post(
        deals_world, actor, registration_url(approved.pk, "extensions"), {"reason": "Slow board"}
    )

    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert (body["status"], body["reason"], body["registration_id"]) == (
            "requested",
            "Slow board",
            approved.pk,
        )
    else:
        assert registrations_state(deals_world.tenant) == before


@pytest.mark.parametrize(("decision", "outcome"), [("approve", "granted"), ("decline", "declined")])
@pytest.mark.parametrize(("actor", "status"), VENDOR_MATRIX)
def test_extension_decision_role_matrix(
    deals_world: World, approved, extension, decision, outcome, actor, status
):
    before = registrations_state(deals_world.tenant)
    url = registration_url(approved.pk, f"extensions/{extension.pk}/{decision}")

    response = post(deals_world, actor, url)

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["status"] == outcome
        added = 30 if outcome == "granted" else 0
        assert body["days_added"] == added
        until = approved.protected_until + timedelta(days=added)
        assert body["protected_until"] == until.isoformat()
    else:
        assert registrations_state(deals_world.tenant) == before


@pytest.mark.parametrize(("actor", "status"), VIEWER_MATRIX)
def test_extension_list_role_matrix(deals_world: World, approved, extension, actor, status):
    response = api_as(deals_world, actor).get(registration_url(approved.pk, "extensions"))

    assert response.status_code == status
    if status == 200:
        assert [row["id"] for row in response.json()] == [extension.pk]


def test_an_extension_of_another_registration_is_not_found(
    deals_world: World, register, approved, extension
):
    elsewhere = register(deals_world.partner_rep, customer_name="Contoso Pharma")
    before = registrations_state(deals_world.tenant)

    response = post(
        deals_world,
        "channel_manager",
        registration_url(elsewhere.pk, f"extensions/{extension.pk}/approve"),
    )

    assert (response.status_code, response.json()) == (404, NOT_FOUND_BODY)
    assert registrations_state(deals_world.tenant) == before


# --- Refused transitions: 409, nothing changed ---------------------------------------------


@pytest.mark.parametrize(
    ("setup", "actor", "action", "body", "message"),
    [
        (
            "draft",
            "channel_manager",
            "approve",
            {},
            "Only a registration in review can be approved; this one is draft.",
        ),
        (
            "approved",
            "channel_manager",
            "reject",
            {"reason_code": "other"},
            "Only a registration in review can be rejected; this one is approved.",
        ),
        (
            "approved",
            "channel_manager",
            "request-info",
            {"message": "?"},
            "Only a registration in review can be sent back for information; this one is approved.",
        ),
        (
            "in_review",
            "partner_rep",
            "submit",
            {},
            "The registration is in review; only drafts and registrations with an information "
            "request can be submitted.",
        ),
        (
            "in_review",
            "partner_rep",
            "extensions",
            {"reason": "More time"},
            "Only a protected (approved) registration can be extended.",
        ),
        (
            "in_review",
            "vendor_admin",
            "revert",
            {"note": "Why"},
            "Only an approval or a rejection can be reverted; this registration is in review.",
        ),
        (
            "withdrawn",
            "partner_rep",
            "withdraw",
            {},
            "A registration that is withdrawn cannot be withdrawn.",
        ),
    ],
)
def test_refused_transitions_are_409_and_change_nothing(
    deals_world: World, register, setup, actor, action, body, message
):
    registration = register(deals_world.partner_rep, submit=setup != "draft")
    if setup == "approved":
        with tenant_context(deals_world.tenant):
            registration_approve(
                tenant=deals_world.tenant,
                actor=deals_world.channel_manager,
                registration_id=registration.pk,
            )
    elif setup == "withdrawn":
        set_status(deals_world.tenant, registration.pk, status="withdrawn")
    before = registrations_state(deals_world.tenant)

    response = post(deals_world, actor, registration_url(registration.pk, action), body)

    assert refusal(response) == (409, "conflict", message)
    assert registrations_state(deals_world.tenant) == before


def test_a_decided_extension_cannot_be_decided_again(deals_world: World, approved, extension):
    url = registration_url(approved.pk, f"extensions/{extension.pk}/approve")
    assert post(deals_world, "channel_manager", url).status_code == 200
    before = registrations_state(deals_world.tenant)

    response = post(deals_world, "channel_manager", url.replace("approve", "decline"))

    assert refusal(response) == (409, "conflict", "This extension request is already granted.")
    assert registrations_state(deals_world.tenant) == before


def test_submitting_an_incomplete_draft_names_what_is_missing(deals_world: World, register):
    draft = register(deals_world.partner_rep, submit=False, amount=None, product_lines=[])
    before = registrations_state(deals_world.tenant)

    response = post(deals_world, "partner_rep", registration_url(draft.pk, "submit"))

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "product_lines": ["Choose at least one product line."],
        "amount": ["Needed to submit."],
    }
    assert registrations_state(deals_world.tenant) == before


# --- Bad input: 400, nothing changed ------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("approve", {"note": 5}, "note"),
        ("approve", {"note": "x" * 2001}, "note"),
        ("approve", {"status": "approved"}, "status"),
        ("reject", {}, "reason_code"),
        ("reject", {"reason_code": "because"}, "reason_code"),
        ("reject", {"reason_code": ["other"]}, "reason_code"),
        ("reject", {"reason_code": "other", "message": "x" * 2001}, "message"),
        ("request-info", {}, "message"),
        ("request-info", {"message": ""}, "message"),
        ("request-info", {"message": "   "}, "message"),
        ("mark-duplicate", {}, "original_id"),
        ("mark-duplicate", {"original_id": "1"}, "original_id"),
        ("mark-duplicate", {"original_id": 999_999}, "original_id"),
        ("mark-duplicate", {"original_id": "SELF"}, "original_id"),
        ("mark-duplicate", {"original_id": "FOREIGN"}, "original_id"),
        ("submit", {"force": True}, "force"),
    ],
)
def test_bad_input_is_400_and_changes_nothing(
    deals_world: World, in_review, register, action, body, field
):
    foreign = register(deals_world.other_tenant_partner_admin, customer_name="Litware")
    ids = {"SELF": in_review.pk, "FOREIGN": foreign.pk}
    body = {
        key: ids.get(value, value) if isinstance(value, str) else value
        for key, value in body.items()
    }
    actor = "partner_rep" if action == "submit" else "channel_manager"
    before = registrations_state(deals_world.tenant)

    response = post(deals_world, actor, registration_url(in_review.pk, action), body)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert registrations_state(deals_world.tenant) == before


def test_another_tenants_registration_is_no_valid_original(deals_world: World, in_review, register):
    foreign = register(deals_world.other_tenant_partner_admin, customer_name="Litware")
    client = api_as(deals_world, "channel_manager")
    url = registration_url(in_review.pk, "mark-duplicate")

    answers = [
        client.post(url, {"original_id": pk}, format="json").json() for pk in (foreign.pk, 999_999)
    ]

    assert answers[0] == answers[1]
    assert answers[0]["error"]["fields"] == {"original_id": ["Not found."]}


@pytest.mark.parametrize("action", ["approve", "reject", "withdraw", "submit", "extensions"])
def test_another_tenants_registration_is_404_for_every_action(deals_world: World, register, action):
    foreign = register(deals_world.other_tenant_partner_admin, customer_name="Litware")
    before = registrations_state(deals_world.other_tenant)
    actor = "partner_admin" if action in ("withdraw", "submit", "extensions") else "vendor_admin"

    response = post(deals_world, actor, registration_url(foreign.pk, action), {"note": "x"})

    assert (response.status_code, response.json()) == (404, NOT_FOUND_BODY)
    assert registrations_state(deals_world.other_tenant) == before


# --- A partner never learns the other partner of a conflict ---------------------------------


def leaks(body: object, *, other: DealRegistration, partner_name: str) -> list[str]:
    """Where a JSON body names the other registration, its partner or its owner."""
    found: list[str] = []
    text = json.dumps(body)
    for secret in (partner_name, other.owner.email, other.owner.full_name):
        if secret and secret in text:
            found.append(secret)

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                names_registration = key in ("registration_id", "duplicate_of_id") or (
                    key == "id" and ("customer" in value or "customer_name" in value)
                )  # a registration, or a finding's other record
                if names_registration and item == other.pk:
                    found.append(f"{key}={item}")
                if key == "partner_id" and item == other.partner_id:
                    found.append(f"{key}={item}")
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body)
    return found


@pytest.fixture
def conflict(deals_world: World, register) -> tuple[DealRegistration, DealRegistration]:
    """The other partner registers Fabrikam first; then our rep does: a partner conflict."""
    first = register(deals_world.other_partner_rep, customer_name="Fabrikam, Inc")
    mine = register(deals_world.partner_rep, customer_name="Fabrikam Inc.")
    return first, mine


def test_a_partner_never_learns_the_other_partner_of_a_conflict(
    deals_world: World, conflict, sent_tasks
):
    world = deals_world
    first, mine = conflict
    partner, vendor = api_as(world, "partner_rep"), api_as(world, "channel_manager")
    url = registration_url(mine.pk)
    responses = [partner.get("/api/v1/registrations/"), partner.get(url)]
    detail = responses[1].json()
    assert [(f["kind"], f["other"], f["matched_keys"]) for f in detail["findings"]] == [
        ("partner_conflict", None, None)
    ]
    assert detail["findings"][0]["first_registered_at"] is not None

    vendor.post(f"{url}request-info/", {"message": "Seats?"}, format="json")
    responses.append(partner.patch(url, {"description": "500 seats"}, format="json"))
    responses.append(partner.post(f"{url}submit/", {}, format="json"))
    with tenant_context(world.tenant):
        registration_screen(tenant=world.tenant, registration_id=mine.pk)
    responses.append(partner.post(f"{url}submit/", {}, format="json"))  # a 409 now
    vendor.post(f"{url}approve/", {}, format="json")
    responses.append(partner.post(f"{url}extensions/", {"reason": "Board"}, format="json"))
    extension_id = responses[-1].json()["id"]
    vendor.post(f"{url}extensions/{extension_id}/decline/", {}, format="json")
    responses.append(partner.get(f"{url}extensions/"))
    responses.append(partner.get(url))
    responses.append(partner.post(f"{url}withdraw/", {}, format="json"))

    assert [r.status_code for r in responses] == [200, 200, 200, 200, 409, 201, 200, 200, 200]
    assert responses[-1].json()["findings"][0]["kind"] == "partner_conflict"
    assert {
        i: leaks(r.json(), other=first, partner_name="Contoso Partners")
        for i, r in enumerate(responses)
    } == {i: [] for i in range(len(responses))}


def test_vendor_roles_see_the_other_record_of_a_conflict(deals_world: World, conflict):
    first, mine = conflict

    body = api_as(deals_world, "channel_manager").get(registration_url(mine.pk)).json()

    finding = body["findings"][0]
    assert finding["kind"] == "partner_conflict"
    assert finding["matched_keys"]
    other = finding["other"]
    assert (other["type"], other["id"], other["partner_id"], other["partner_name"]) == (
        "registration",
        first.pk,
        deals_world.other_partner.pk,
        "Contoso Partners",
    )
    assert {"Contoso Partners", f"id={first.pk}", f"partner_id={first.partner_id}"} <= set(
        leaks(body, other=first, partner_name="Contoso Partners")
    )


def test_the_other_partner_sees_no_finding_on_its_own_first_registration(
    deals_world: World, conflict
):
    first, mine = conflict

    body = api_as(deals_world, "other_partner_rep").get(registration_url(first.pk)).json()

    assert body["findings"] == []
    assert leaks(body, other=mine, partner_name="Northwind Resellers") == []

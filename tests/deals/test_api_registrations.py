"""/api/v1/registrations/: the scoped list with filters and cursor pagination, detail, a
partner's new registration (draft or submitted), a partner's edit.

Partner reps see their own registrations, partner admins their organization's, vendor
roles the tenant's; anything else is a 404, and a refused request changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deals.models import DealRegistration, ProductLine
from tests.api_clients import api_as
from tests.conftest import World
from tests.deals.api_helpers import (
    NOT_FOUND_BODY,
    URL,
    VIEWER_MATRIX,
    json_body,
    registration_url,
    registrations_state,
    set_status,
)
from tests.deals.conftest import submit_tasks


@pytest.fixture
def regs(deals_world: World, register) -> dict[str, DealRegistration]:
    """The rep's submitted registration, their admin's draft, the other partner's and one
    of Globex."""
    world = deals_world
    return {
        "rep": register(world.partner_rep, customer_name="Fabrikam Inc."),
        "admin": register(
            world.partner_admin,
            submit=False,
            customer_name="Tailspin Toys",
            customer_website="tailspin.example",
            contact_email="",
        ),
        "other": register(
            world.other_partner_rep,
            customer_name="Woodgrove Bank",
            customer_website="woodgrove.example",
            contact_email="",
            product_lines=["security"],
        ),
        "foreign": register(
            world.other_tenant_partner_admin,
            customer_name="Litware",
            customer_website="litware.example",
            contact_email="",
        ),
    }


def customers(response) -> list[str]:
    return [row["customer"]["name"] for row in response.json()["results"]]


# --- List -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status", "expected"),
    [
        (None, 401, None),
        ("vendor_admin", 200, ["Woodgrove Bank", "Tailspin Toys", "Fabrikam Inc."]),
        ("channel_manager", 200, ["Woodgrove Bank", "Tailspin Toys", "Fabrikam Inc."]),
        ("partner_admin", 200, ["Tailspin Toys", "Fabrikam Inc."]),
        ("partner_rep", 200, ["Fabrikam Inc."]),
        ("other_partner_admin", 200, ["Woodgrove Bank"]),
        ("other_partner_rep", 200, ["Woodgrove Bank"]),
        ("other_tenant_admin", 200, ["Litware"]),
    ],
)
def test_list_role_matrix(deals_world: World, regs, actor, status, expected):
    response = api_as(deals_world, actor).get(URL)

    assert response.status_code == status
    if expected is not None:
        assert customers(response) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "in_review"}, ["Woodgrove Bank", "Fabrikam Inc."]),
        ({"status": "draft"}, ["Tailspin Toys"]),
        ({"status": ["draft", "in_review"]}, ["Woodgrove Bank", "Tailspin Toys", "Fabrikam Inc."]),
        ({"status": "approved"}, []),
        ({"partner_id": "OTHER"}, ["Woodgrove Bank"]),
        ({"partner_id": "OWN"}, ["Tailspin Toys", "Fabrikam Inc."]),
        ({"product_line": "security"}, ["Woodgrove Bank"]),
        ({"created_from": "OLD"}, ["Woodgrove Bank", "Tailspin Toys", "Fabrikam Inc."]),
        ({"created_from": "TODAY"}, ["Woodgrove Bank", "Tailspin Toys"]),
        ({"created_to": "OLD"}, ["Fabrikam Inc."]),
        ({"created_from": "OLD", "created_to": "OLD"}, ["Fabrikam Inc."]),
        ({"submitted_from": "TODAY"}, ["Woodgrove Bank", "Fabrikam Inc."]),
    ],
)
def test_list_filters(deals_world: World, regs, query, expected):
    world, today = deals_world, timezone.localdate()
    old = today - timedelta(days=10)
    set_status(world.tenant, regs["rep"].pk, created_at=timezone.now() - timedelta(days=10))
    values = {
        "OTHER": world.other_partner.pk,
        "OWN": world.partner.pk,
        "OLD": old.isoformat(),
        "TODAY": today.isoformat(),
    }
    query = {key: values.get(value, value) for key, value in query.items() if key != "status"} | (
        {"status": query["status"]} if "status" in query else {}
    )

    response = api_as(world, "channel_manager").get(URL, query)

    assert response.status_code == 200
    assert customers(response) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "pending"}, "status"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"partner_id": "abc"}, "partner_id"),
        ({"product_line": "nope"}, "product_line"),
    ],
)
def test_list_refuses_bad_filters(deals_world: World, regs, query, field):
    response = api_as(deals_world, "vendor_admin").get(URL, query)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


@pytest.mark.parametrize("actor", ["partner_admin", "partner_rep"])
def test_a_partner_cannot_filter_by_another_partner(deals_world: World, regs, actor):
    response = api_as(deals_world, actor).get(URL, {"partner_id": deals_world.other_partner.pk})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "partner_id": ["Select a valid choice. That choice is not one of the available choices."]
    }


def test_another_tenants_partner_is_not_a_valid_filter(deals_world: World, regs):
    response = api_as(deals_world, "vendor_admin").get(
        URL, {"partner_id": deals_world.other_tenant_partner.pk}
    )

    assert response.status_code == 400


def test_cursor_pagination_walks_every_registration_once(deals_world: World, regs, register):
    for number in range(6):
        register(
            deals_world.partner_rep,
            submit=False,
            customer_name=f"Bulk {number}",
            customer_website="",
            contact_email="",
        )
    client = api_as(deals_world, "vendor_admin")

    seen, url, pages = [], URL + "?page_size=4", 0
    while url:
        page = client.get(url).json()
        assert set(page) == {"next", "previous", "results"}
        seen += [row["customer"]["name"] for row in page["results"]]
        url, pages = page["next"], pages + 1

    assert pages == 3
    assert seen == [f"Bulk {n}" for n in range(5, -1, -1)] + [
        "Woodgrove Bank",
        "Tailspin Toys",
        "Fabrikam Inc.",
    ]


def test_list_query_count_does_not_grow_with_rows(
    deals_world: World, regs, register, django_assert_num_queries
):
    def conflicting(number: int) -> None:  # conflicts with the rep's registration: a finding
        register(
            deals_world.other_partner_rep,
            customer_name="Fabrikam Inc.",
            description=f"Copy {number}",
        )

    conflicting(0)
    client = api_as(deals_world, "channel_manager")
    client.get(URL)  # the token's first use records last_used_at
    with CaptureQueriesContext(connection) as baseline:
        assert client.get(URL).status_code == 200
    for number in range(1, 6):
        register(
            deals_world.other_partner_rep,
            customer_name="Fabrikam Inc.",
            description=f"Copy {number}",
        )
    with django_assert_num_queries(len(baseline)):
        response = client.get(URL)
    assert len(response.json()["results"]) == 9
    assert sum(len(row["findings"]) for row in response.json()["results"]) >= 6


# --- Detail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "status"), VIEWER_MATRIX)
def test_detail_role_matrix(deals_world: World, regs, actor, status):
    response = api_as(deals_world, actor).get(registration_url(regs["rep"].pk))

    assert response.status_code == status
    if status == 404:
        assert response.json() == NOT_FOUND_BODY


def test_a_partner_rep_cannot_read_a_colleagues_registration(deals_world: World, regs):
    response = api_as(deals_world, "partner_rep").get(registration_url(regs["admin"].pk))

    assert (response.status_code, response.json()) == (404, NOT_FOUND_BODY)


def test_another_tenants_registration_reads_like_a_missing_one(deals_world: World, regs):
    client = api_as(deals_world, "vendor_admin")

    foreign = client.get(registration_url(regs["foreign"].pk))
    missing = client.get(registration_url(999_999))

    assert (foreign.status_code, missing.status_code) == (404, 404)
    assert foreign.json() == missing.json() == NOT_FOUND_BODY


def test_detail_returns_the_contract_fields(deals_world: World, regs):
    registration = regs["rep"]

    body = api_as(deals_world, "partner_rep").get(registration_url(registration.pk)).json()

    close = (timezone.localdate() + timedelta(days=60)).isoformat()
    assert {key: body[key] for key in CONTRACT} == {
        "id": registration.pk,
        "status": "in_review",
        "partner_id": deals_world.partner.pk,
        "customer": {
            "name": "Fabrikam Inc.",
            "website": "https://www.fabrikam.com",
            "country": "US",
            "contact_name": "Jane Doe",
            "contact_email": "jane@fabrikam.com",
            "contact_phone": "+1 555 0100",
        },
        "product_lines": [{"code": "cloud", "name": "Cloud Suite"}],
        "amount": "25000.00",
        "currency": "USD",
        "expected_close_date": close,
        "decided_at": None,
        "decision": None,
        "protected_until": None,
        "opportunity_id": None,
        "findings": [],
    }
    assert body["submitted_at"] == registration.submitted_at.isoformat().replace("+00:00", "Z")


CONTRACT = (
    "id",
    "status",
    "partner_id",
    "customer",
    "product_lines",
    "amount",
    "currency",
    "expected_close_date",
    "decided_at",
    "decision",
    "protected_until",
    "opportunity_id",
    "findings",
)


# --- Create ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 403),
        ("channel_manager", 403),
        ("partner_admin", 201),
        ("partner_rep", 201),
        ("other_partner_admin", 201),
        ("other_tenant_admin", 403),
    ],
)
def test_create_role_matrix(deals_world: World, actor, status, in_tenant):
    response = api_as(deals_world, actor).post(URL, json_body(), format="json")

    assert response.status_code == status
    with in_tenant(deals_world.tenant):
        created = list(DealRegistration.objects.values_list("partner_id", "owner_id", "status"))
    if status == 201:
        member = deals_world.member(actor)
        assert created == [(member.partner_id, member.user_id, "draft")]
        assert response.json()["partner_id"] == member.partner_id
    else:
        assert created == []


def test_create_and_submit_enqueues_screening(
    deals_world: World, sent_tasks, django_capture_on_commit_callbacks, in_tenant
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(deals_world, "partner_rep").post(
            URL, json_body(submit=True), format="json"
        )

    body = response.json()
    assert (response.status_code, body["status"]) == (201, "submitted")
    assert body["submitted_at"] is not None
    assert sent_tasks == submit_tasks(deals_world.tenant, body["id"])


def test_submit_with_missing_fields_is_refused_and_creates_nothing(
    deals_world: World, sent_tasks, django_capture_on_commit_callbacks, in_tenant
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(deals_world, "partner_rep").post(
            URL,
            json_body(submit=True, amount=None, expected_close_date=None),
            format="json",
        )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"amount", "expected_close_date"}
    assert registrations_state(deals_world.tenant) == [[], [], 0]
    assert sent_tasks == []


def test_a_draft_needs_only_the_customer_name(deals_world: World):
    response = api_as(deals_world, "partner_rep").post(
        URL, {"customer_name": "Northwind Traders"}, format="json"
    )

    body = response.json()
    assert response.status_code == 201
    assert (body["status"], body["amount"], body["product_lines"], body["currency"]) == (
        "draft",
        None,
        [],
        "USD",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"customer_name": ""}, "customer_name"),
        ({"customer_name": "   "}, "customer_name"),
        ({"customer_name": 42}, "customer_name"),
        ({"customer_name": "x" * 201}, "customer_name"),
        ({"customer_website": "x" * 256}, "customer_website"),
        ({"customer_country": "ZZ"}, "customer_country"),
        ({"customer_country": 1}, "customer_country"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"product_lines": "cloud"}, "product_lines"),
        ({"product_lines": [1]}, "product_lines"),
        ({"product_lines": ["unknown"]}, "product_lines"),
        ({"product_lines": ["FOREIGN_ONLY"]}, "product_lines"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"amount": True}, "amount"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "12$"}, "currency"),
        ({"expected_close_date": "next week"}, "expected_close_date"),
        ({"expected_close_date": 20300101}, "expected_close_date"),
        ({"budget_confirmed": "yes"}, "budget_confirmed"),
        ({"decision_maker": 1}, "decision_maker"),
        ({"need": "x" * 2001}, "need"),
        ({"timeline": "x" * 201}, "timeline"),
        ({"description": "x" * 4001}, "description"),
        ({"submit": "true"}, "submit"),
        ({"status": "approved"}, "status"),
        ({"partner_id": 1}, "partner_id"),
        ({"tenant_id": 1}, "tenant_id"),
    ],
)
def test_create_rejects_bad_input_and_creates_nothing(
    deals_world: World, in_tenant, overrides, field
):
    if overrides.get("product_lines") == ["FOREIGN_ONLY"]:
        with in_tenant(deals_world.other_tenant):
            ProductLine.objects.create(
                tenant=deals_world.other_tenant, code="foreign-only", name="Globex only"
            )
        overrides = {"product_lines": ["foreign-only"]}

    response = api_as(deals_world, "partner_rep").post(URL, json_body(**overrides), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert registrations_state(deals_world.tenant) == [[], [], 0]


def test_a_form_post_is_refused(deals_world: World):
    response = api_as(deals_world, "partner_rep").post(URL, {"customer_name": "Fabrikam"})

    assert response.status_code == 415
    assert registrations_state(deals_world.tenant) == [[], [], 0]


def test_html_in_names_is_stored_and_returned_as_text(deals_world: World, in_tenant):
    name = "<script>alert('x')</script> & <b>Fabrikam</b>"

    response = api_as(deals_world, "partner_rep").post(
        URL, json_body(customer_name=name, contact_name="<i>Jane</i>"), format="json"
    )

    assert response.status_code == 201
    assert response.json()["customer"]["name"] == name
    assert response.json()["customer"]["contact_name"] == "<i>Jane</i>"
    with in_tenant(deals_world.tenant):
        assert DealRegistration.objects.get().customer_name == name


# --- Edit -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 403),
        ("channel_manager", 403),
        ("partner_admin", 200),
        ("partner_rep", 404),  # the draft is the partner admin's own
        ("other_partner_admin", 404),
        ("other_tenant_partner_admin", 404),
    ],
)
def test_edit_role_matrix(deals_world: World, regs, actor, status):
    before = registrations_state(deals_world.tenant)

    response = api_as(deals_world, actor).patch(
        registration_url(regs["admin"].pk), {"description": "Now 300 seats"}, format="json"
    )

    assert response.status_code == status
    if status == 200:
        assert response.json()["description"] == "Now 300 seats"
    else:
        assert registrations_state(deals_world.tenant) == before


def test_edit_changes_only_the_fields_sent(deals_world: World, regs, in_tenant):
    response = api_as(deals_world, "partner_admin").patch(
        registration_url(regs["admin"].pk),
        {"amount": "1200.5", "product_lines": ["security", "cloud"]},
        format="json",
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["amount"], body["customer"]["name"], body["status"]) == (
        "1200.50",
        "Tailspin Toys",
        "draft",
    )
    assert [line["code"] for line in body["product_lines"]] == ["cloud", "security"]


def test_a_registration_in_review_cannot_be_edited(deals_world: World, regs):
    before = registrations_state(deals_world.tenant)

    response = api_as(deals_world, "partner_rep").patch(
        registration_url(regs["rep"].pk), {"description": "Sneaky"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": "A registration that is in review cannot be edited.",
        "fields": {},
    }
    assert registrations_state(deals_world.tenant) == before


def test_an_information_request_opens_the_registration_for_edits(deals_world: World, regs):
    set_status(deals_world.tenant, regs["rep"].pk, status="info_requested")

    response = api_as(deals_world, "partner_rep").patch(
        registration_url(regs["rep"].pk), {"description": "Budget signed"}, format="json"
    )

    assert (response.status_code, response.json()["description"]) == (200, "Budget signed")


@pytest.mark.parametrize(
    "body",
    [
        {"customer_name": None},
        {"amount": [5]},
        {"status": "submitted"},
        {"submit": True},
        {"product_lines": ["nope"]},
        [],
    ],
)
def test_edit_rejects_bad_input_and_changes_nothing(deals_world: World, regs, body):
    before = registrations_state(deals_world.tenant)

    response = api_as(deals_world, "partner_admin").patch(
        registration_url(regs["admin"].pk), body, format="json"
    )

    assert response.status_code == 400
    assert registrations_state(deals_world.tenant) == before

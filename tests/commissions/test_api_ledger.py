"""The vendor's side of the ledger over the API: approving an accrued entry, paying approved
entries in a payout batch, listing the batches.

A refused request (role, scope, input, state) answers its status and changes nothing: no
entry moves, no batch or audit row is written.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PayoutBatch
from commissions.services.ledger import payout_create
from tests.api_clients import api_as
from tests.commissions.api_helpers import (
    NOT_FOUND_BODY,
    PAYOUT_URL,
    Ledger,
    approve,
    build_ledger,
    entry_url,
    ledger_state,
    reopen,
)
from tests.conftest import World
from tests.pages import assert_constant_queries


@pytest.fixture
def ledger(deals_world: World, plan, partner_deal, close_won) -> Ledger:
    return build_ledger(deals_world, partner_deal, close_won)


def status_of(world: World, entry: CommissionEntry) -> tuple:
    with tenant_context(world.tenant):
        entry = CommissionEntry.objects.get(pk=entry.pk)
    return entry.status, entry.approved_by_id, entry.payout_id


# --- Approve --------------------------------------------------------------------------------


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
        ("other_tenant_partner_admin", 403),
    ],
)
def test_approve_role_matrix(deals_world: World, ledger, actor, status):
    world = deals_world
    before = ledger_state(world.tenant)

    response = api_as(world, actor).post(entry_url(ledger.rep.pk, "approve"), format="json")

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert (body["id"], body["status"], body["amount"]) == (ledger.rep.pk, "approved", "500.00")
        assert body["approved_at"] is not None
        assert status_of(world, ledger.rep) == ("approved", world.member(actor).user_id, None)
    else:
        assert ledger_state(world.tenant) == before
    if status == 404:
        assert response.json() == NOT_FOUND_BODY


def test_approving_twice_is_a_conflict_and_changes_nothing(deals_world: World, ledger):
    client = api_as(deals_world, "channel_manager")
    assert client.post(entry_url(ledger.rep.pk, "approve")).status_code == 200
    before = ledger_state(deals_world.tenant)

    response = api_as(deals_world, "vendor_admin").post(entry_url(ledger.rep.pk, "approve"))

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": "This entry is already approved.",
        "fields": {},
    }
    assert ledger_state(deals_world.tenant) == before
    assert status_of(deals_world, ledger.rep)[:2] == (
        "approved",
        deals_world.channel_manager.user_id,
    )


def test_a_paid_entry_cannot_be_approved(deals_world: World, ledger):
    world = deals_world
    approve(world, ledger.rep)
    with tenant_context(world.tenant):
        payout_create(
            tenant=world.tenant, actor=world.vendor_admin, entry_ids=[ledger.rep.pk], reference="P1"
        )
    before = ledger_state(world.tenant)

    response = api_as(world, "channel_manager").post(entry_url(ledger.rep.pk, "approve"))

    assert (response.status_code, response.json()["error"]["message"]) == (
        409,
        "This entry is already paid.",
    )
    assert ledger_state(world.tenant) == before


def test_approving_another_tenants_entry_reads_like_a_missing_one(deals_world: World, ledger):
    before = ledger_state(deals_world.other_tenant)
    client = api_as(deals_world, "vendor_admin")

    foreign = client.post(entry_url(ledger.foreign.pk, "approve"))
    missing = client.post(entry_url(999_999, "approve"))

    assert (foreign.status_code, missing.status_code) == (404, 404)
    assert foreign.json() == missing.json() == NOT_FOUND_BODY
    assert ledger_state(deals_world.other_tenant) == before


@pytest.mark.parametrize(
    ("body", "fmt", "code"),
    [
        ({"note": "ok"}, "json", 400),
        ({"status": "approved"}, "json", 400),
        ({"note": "ok"}, "multipart", 415),
    ],
)
def test_approve_takes_no_body(deals_world: World, ledger, body, fmt, code):
    before = ledger_state(deals_world.tenant)

    response = api_as(deals_world, "channel_manager").post(
        entry_url(ledger.rep.pk, "approve"), body, format=fmt
    )

    assert response.status_code == code
    assert ledger_state(deals_world.tenant) == before


# --- Payouts: create ------------------------------------------------------------------------


def payout_body(*entries: CommissionEntry, **overrides: object) -> dict:
    return {"entry_ids": [entry.pk for entry in entries], "reference": "PAY-2026-11"} | overrides


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 201),
        ("channel_manager", 201),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 400),
        ("other_tenant_partner_admin", 403),
    ],
)
def test_payout_role_matrix(deals_world: World, ledger, actor, status):
    world = deals_world
    approve(world, ledger.rep, ledger.admin)
    before = ledger_state(world.tenant)

    response = api_as(world, actor).post(
        PAYOUT_URL, payout_body(ledger.rep, ledger.admin), format="json"
    )

    assert response.status_code == status
    if status == 201:
        body = response.json()
        with tenant_context(world.tenant):
            batch = PayoutBatch.objects.get()
        assert body == {
            "id": batch.pk,
            "reference": "PAY-2026-11",
            "paid_on": timezone.localdate().isoformat(),
            "total": "1500.00",
            "currency": "USD",
            "entry_ids": sorted([ledger.rep.pk, ledger.admin.pk]),
            "created_at": batch.created_at.isoformat().replace("+00:00", "Z"),
        }
        assert status_of(world, ledger.rep)[::2] == ("paid", batch.pk)
        assert status_of(world, ledger.admin)[::2] == ("paid", batch.pk)
    else:
        assert ledger_state(world.tenant) == before
    if status == 400:  # Globex's vendor admin names Acme's entries: they do not exist there
        assert response.json()["error"]["fields"] == {
            "entry_ids": [f"Not found: {sorted([ledger.rep.pk, ledger.admin.pk])}."]
        }


def test_a_payout_nets_clawbacks_and_takes_a_date(deals_world: World, ledger):
    world = deals_world
    clawback = reopen(world, ledger.admin)
    approve(world, ledger.rep, ledger.admin, clawback)

    response = api_as(world, "vendor_admin").post(
        PAYOUT_URL,
        payout_body(ledger.rep, ledger.admin, clawback, paid_on="2026-11-02"),
        format="json",
    )

    body = response.json()
    assert (response.status_code, body["total"], body["paid_on"]) == (201, "500.00", "2026-11-02")
    assert body["entry_ids"] == sorted([ledger.rep.pk, ledger.admin.pk, clawback.pk])
    with tenant_context(world.tenant):
        batch = PayoutBatch.objects.get()
        assert (batch.total, batch.paid_on) == (Decimal("500.00"), date(2026, 11, 2))


def test_paying_an_entry_that_is_not_approved_is_a_conflict_and_pays_nothing(
    deals_world: World, ledger
):
    world = deals_world
    approve(world, ledger.rep)
    before = ledger_state(world.tenant)

    response = api_as(world, "channel_manager").post(
        PAYOUT_URL, payout_body(ledger.rep, ledger.admin), format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["message"] == (
        f"Only approved entries can be paid; not these: [{ledger.admin.pk}]."
    )
    assert ledger_state(world.tenant) == before
    assert status_of(world, ledger.rep) == ("approved", world.channel_manager.user_id, None)


def test_paying_a_paid_entry_again_is_a_conflict(deals_world: World, ledger):
    world = deals_world
    approve(world, ledger.rep)
    client = api_as(world, "vendor_admin")
    assert client.post(PAYOUT_URL, payout_body(ledger.rep), format="json").status_code == 201
    before = ledger_state(world.tenant)

    response = client.post(PAYOUT_URL, payout_body(ledger.rep, reference="AGAIN"), format="json")

    assert response.status_code == 409
    assert ledger_state(world.tenant) == before


def test_another_tenants_entry_among_the_ids_pays_nothing(deals_world: World, ledger):
    world = deals_world
    approve(world, ledger.rep)
    before, foreign_before = ledger_state(world.tenant), ledger_state(world.other_tenant)

    response = api_as(world, "vendor_admin").post(
        PAYOUT_URL, payout_body(ledger.rep, ledger.foreign), format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "entry_ids": [f"Not found: [{ledger.foreign.pk}]."]
    }
    assert ledger_state(world.tenant) == before
    assert ledger_state(world.other_tenant) == foreign_before


def test_a_reference_is_used_once(deals_world: World, ledger):
    world = deals_world
    approve(world, ledger.rep, ledger.admin)
    client = api_as(world, "vendor_admin")
    assert client.post(PAYOUT_URL, payout_body(ledger.rep), format="json").status_code == 201
    before = ledger_state(world.tenant)

    response = client.post(PAYOUT_URL, payout_body(ledger.admin), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"reference": ["Already used."]}
    assert ledger_state(world.tenant) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"entry_ids": []}, "entry_ids"),
        ({"entry_ids": "REP"}, "entry_ids"),
        ({"entry_ids": ["REP"]}, "entry_ids"),
        ({"entry_ids": [True]}, "entry_ids"),
        ({"entry_ids": [1.5]}, "entry_ids"),
        ({"entry_ids": [0]}, "entry_ids"),
        ({"entry_ids": None}, "entry_ids"),
        ({"entry_ids": list(range(1, 502))}, "entry_ids"),
        ({"reference": ""}, "reference"),
        ({"reference": "   "}, "reference"),
        ({"reference": 42}, "reference"),
        ({"reference": ["PAY"]}, "reference"),
        ({"reference": "x" * 101}, "reference"),
        ({"paid_on": "tomorrow"}, "paid_on"),
        ({"paid_on": 20261102}, "paid_on"),
        ({"paid_on": None}, "paid_on"),
        ({"total": "1.00"}, "total"),
        ({"currency": "EUR"}, "currency"),
        ({"partner_id": 1}, "partner_id"),
    ],
)
def test_bad_payout_input_is_refused_and_changes_nothing(
    deals_world: World, ledger, overrides, field
):
    world = deals_world
    approve(world, ledger.rep)
    if overrides.get("entry_ids") == ["REP"]:
        overrides = {"entry_ids": [str(ledger.rep.pk)]}
    elif overrides.get("entry_ids") == "REP":
        overrides = {"entry_ids": str(ledger.rep.pk)}
    before = ledger_state(world.tenant)

    response = api_as(world, "vendor_admin").post(
        PAYOUT_URL, payout_body(ledger.rep, **overrides), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert ledger_state(world.tenant) == before


@pytest.mark.parametrize("missing", ["entry_ids", "reference"])
def test_a_payout_needs_entries_and_a_reference(deals_world: World, ledger, missing):
    approve(deals_world, ledger.rep)
    body = payout_body(ledger.rep)
    del body[missing]
    before = ledger_state(deals_world.tenant)

    response = api_as(deals_world, "vendor_admin").post(PAYOUT_URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {missing: ["This field is required."]}
    assert ledger_state(deals_world.tenant) == before


def test_a_form_post_is_refused(deals_world: World, ledger):
    approve(deals_world, ledger.rep)
    before = ledger_state(deals_world.tenant)

    response = api_as(deals_world, "vendor_admin").post(
        PAYOUT_URL, {"entry_ids": ledger.rep.pk, "reference": "FORM"}
    )

    assert response.status_code == 415
    assert ledger_state(deals_world.tenant) == before


# --- Payouts: list --------------------------------------------------------------------------


@pytest.fixture
def batches(deals_world: World, ledger) -> list[PayoutBatch]:
    world = deals_world
    approve(world, ledger.rep, ledger.admin, ledger.other)
    with tenant_context(world.tenant):
        return [
            payout_create(
                tenant=world.tenant,
                actor=world.channel_manager,
                entry_ids=ids,
                reference=reference,
                paid_on=date(2026, 10, 31),
            )
            for ids, reference in (
                ([ledger.rep.pk, ledger.other.pk], "OCT-1"),
                ([ledger.admin.pk], "OCT-2"),
            )
        ]


@pytest.mark.parametrize(
    ("actor", "status", "expected"),
    [
        (None, 401, None),
        ("vendor_admin", 200, ["OCT-2", "OCT-1"]),
        ("channel_manager", 200, ["OCT-2", "OCT-1"]),
        ("partner_admin", 403, None),
        ("partner_rep", 403, None),
        ("other_partner_admin", 403, None),
        ("other_tenant_admin", 200, []),
        ("other_tenant_partner_admin", 403, None),
    ],
)
def test_payout_list_role_matrix(deals_world: World, batches, actor, status, expected):
    response = api_as(deals_world, actor).get(PAYOUT_URL)

    assert response.status_code == status
    if expected is not None:
        assert [row["reference"] for row in response.json()["results"]] == expected


def test_payout_list_shows_each_batch_with_its_entries(deals_world: World, ledger, batches):
    rows = api_as(deals_world, "channel_manager").get(PAYOUT_URL).json()["results"]

    assert [(r["reference"], r["total"], r["paid_on"], r["entry_ids"]) for r in rows] == [
        ("OCT-2", "1000.00", "2026-10-31", [ledger.admin.pk]),
        ("OCT-1", "2000.00", "2026-10-31", sorted([ledger.rep.pk, ledger.other.pk])),
    ]


def test_payout_list_query_count_does_not_grow_with_rows(
    deals_world: World, batches, partner_deal, close_won, django_assert_num_queries
):
    world = deals_world

    def add_rows() -> None:
        for number in range(3):
            close_won(partner_deal())
            with tenant_context(world.tenant):
                entry = CommissionEntry.objects.filter(status="accrued").order_by("-id").first()
            approve(world, entry)
            with tenant_context(world.tenant):
                payout_create(
                    tenant=world.tenant,
                    actor=world.vendor_admin,
                    entry_ids=[entry.pk],
                    reference=f"NOV-{number}",
                )

    client = api_as(world, "vendor_admin")
    assert_constant_queries(client, PAYOUT_URL, add_rows, django_assert_num_queries)
    assert len(client.get(PAYOUT_URL).json()["results"]) == 5

"""/api/v1/commissions/ and /api/v1/commission-statements/: the scoped ledger with filters
and cursor pagination, one entry, and a partner's statement for a period.

Partner reps see the entries of the deals they own, partner admins their organization's,
vendor roles the tenant's; anything else is a 404 (or, named in a filter, a 400).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_context
from commissions.services.ledger import payout_create
from tests.api_clients import api_as
from tests.commissions.api_helpers import (
    NOT_FOUND_BODY,
    STATEMENT_URL,
    URL,
    Ledger,
    amounts,
    approve,
    build_ledger,
    entry_url,
    reopen,
    set_created_at,
)
from tests.commissions.conftest import entries_of
from tests.conftest import World
from tests.pages import assert_constant_queries

NOVEMBER_2025 = datetime(2025, 11, 15, 12, tzinfo=UTC)


@pytest.fixture
def ledger(deals_world: World, plan, partner_deal, close_won) -> Ledger:
    return build_ledger(deals_world, partner_deal, close_won)


# --- List -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status", "expected"),
    [
        (None, 401, None),
        ("vendor_admin", 200, ["1500.00", "1000.00", "500.00"]),
        ("channel_manager", 200, ["1500.00", "1000.00", "500.00"]),
        ("partner_admin", 200, ["1000.00", "500.00"]),
        ("partner_rep", 200, ["500.00"]),
        ("other_partner_admin", 200, ["1500.00"]),
        ("other_partner_rep", 200, ["1500.00"]),
        ("other_tenant_admin", 200, ["2000.00"]),
        ("other_tenant_partner_admin", 200, ["2000.00"]),
    ],
)
def test_list_role_matrix(deals_world: World, ledger, actor, status, expected):
    response = api_as(deals_world, actor).get(URL)

    assert response.status_code == status
    if expected is None:
        assert response.json()["error"]["code"] == "not_authenticated"
    else:
        assert amounts(response) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "accrued"}, ["1500.00", "1000.00"]),
        ({"status": "approved"}, ["500.00"]),
        ({"status": "paid"}, []),
        ({"partner_id": "OWN"}, ["1000.00", "500.00"]),
        ({"partner_id": "OTHER"}, ["1500.00"]),
        ({"period": "2025-11"}, ["1000.00"]),
        ({"period": "2025-Q4"}, ["1000.00"]),
        ({"period": "2025-10"}, []),
        ({"period": "THIS_MONTH"}, ["1500.00", "500.00"]),
        ({"period": "2025-11", "partner_id": "OTHER"}, []),
        ({"kind": "accrual", "status": "approved"}, ["500.00"]),
        ({"opportunity_id": "REP_DEAL"}, ["500.00"]),
    ],
)
def test_list_filters(deals_world: World, ledger, query, expected):
    world = deals_world
    approve(world, ledger.rep)
    set_created_at(world.tenant, ledger.admin, NOVEMBER_2025)
    values = {
        "OWN": world.partner.pk,
        "OTHER": world.other_partner.pk,
        "THIS_MONTH": f"{timezone.localdate():%Y-%m}",
        "REP_DEAL": ledger.rep.opportunity_id,
    }

    response = api_as(world, "channel_manager").get(
        URL, {key: values.get(value, value) for key, value in query.items()}
    )

    assert response.status_code == 200
    assert amounts(response) == expected


def test_a_clawback_is_listed_as_a_negative_entry(deals_world: World, ledger):
    clawback = reopen(deals_world, ledger.other)

    response = api_as(deals_world, "other_partner_admin").get(URL, {"kind": "clawback"})

    [row] = response.json()["results"]
    assert (row["id"], row["kind"], row["amount"], row["reverses_id"]) == (
        clawback.pk,
        "clawback",
        "-1500.00",
        ledger.other.pk,
    )
    assert row["breakdown"] == {"reverses": ledger.other.pk, "reason": "The deal was reopened."}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "pending"}, "status"),
        ({"kind": "bonus"}, "kind"),
        ({"period": "2025-13"}, "period"),
        ({"period": "2025-Q5"}, "period"),
        ({"period": "november"}, "period"),
        ({"period": "2025-11-01"}, "period"),
        ({"period": "0000-01"}, "period"),
        ({"partner_id": "abc"}, "partner_id"),
        ({"partner_id": "FOREIGN"}, "partner_id"),
        ({"opportunity_id": "FOREIGN_DEAL"}, "opportunity_id"),
    ],
)
def test_list_refuses_bad_filters(deals_world: World, ledger, query, field):
    values = {
        "FOREIGN": deals_world.other_tenant_partner.pk,
        "FOREIGN_DEAL": ledger.foreign.opportunity_id,
    }
    query = {key: values.get(value, value) for key, value in query.items()}

    response = api_as(deals_world, "vendor_admin").get(URL, query)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


@pytest.mark.parametrize(
    ("actor", "query"),
    [
        ("partner_admin", {"partner_id": "OTHER"}),
        ("partner_rep", {"partner_id": "OTHER"}),
        ("partner_rep", {"opportunity_id": "ADMIN_DEAL"}),
        ("other_partner_admin", {"opportunity_id": "REP_DEAL"}),
    ],
)
def test_a_partner_cannot_filter_by_another_partner_or_deal(
    deals_world: World, ledger, actor, query
):
    values = {
        "OTHER": deals_world.other_partner.pk,
        "ADMIN_DEAL": ledger.admin.opportunity_id,
        "REP_DEAL": ledger.rep.opportunity_id,
    }
    query = {key: values[value] for key, value in query.items()}

    response = api_as(deals_world, actor).get(URL, query)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        next(iter(query)): [
            "Select a valid choice. That choice is not one of the available choices."
        ]
    }


def test_cursor_pagination_walks_every_entry_once(
    deals_world: World, ledger, partner_deal, close_won
):
    for number in range(4):
        close_won(partner_deal(amount=Decimal(1000 * (number + 1))))
    client = api_as(deals_world, "vendor_admin")

    seen, url, pages = [], URL + "?page_size=3", 0
    while url:
        page = client.get(url).json()
        assert set(page) == {"next", "previous", "results"}
        seen += [row["amount"] for row in page["results"]]
        url, pages = page["next"], pages + 1

    assert pages == 3
    assert seen == ["200.00", "150.00", "100.00", "50.00", "1500.00", "1000.00", "500.00"]


@pytest.mark.parametrize("actor", ["channel_manager", "partner_admin", "partner_rep"])
def test_list_query_count_does_not_grow_with_rows(
    deals_world: World, ledger, partner_deal, close_won, actor, django_assert_num_queries
):
    def add_rows() -> None:
        for member in (deals_world.partner_rep, deals_world.partner_admin):
            for _ in range(3):
                close_won(partner_deal(member))
        reopen(deals_world, ledger.rep)
        approve(deals_world, ledger.admin)

    client = api_as(deals_world, actor)
    assert_constant_queries(client, URL, add_rows, django_assert_num_queries)
    assert len(client.get(URL).json()["results"]) > 2


def test_list_and_detail_query_counts_are_pinned(
    deals_world: World, ledger, partner_deal, close_won, django_assert_num_queries
):
    """Inside the test's transaction: SAVEPOINT, a clear, the authentication (one round
    trip), the rows, a clear, RELEASE (tests/accounts/test_api_round_trips.py)."""
    client = api_as(deals_world, "channel_manager")
    client.get(URL)  # the token's first use records last_used_at
    for _ in range(3):
        close_won(partner_deal(deals_world.partner_rep))

    with django_assert_num_queries(6):
        assert client.get(URL).status_code == 200
    with django_assert_num_queries(6):
        assert client.get(entry_url(ledger.rep.pk)).status_code == 200


# --- Detail ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 200),
        ("channel_manager", 200),
        ("partner_admin", 200),
        ("partner_rep", 200),
        ("other_partner_admin", 404),
        ("other_partner_rep", 404),
        ("other_tenant_admin", 404),
        ("other_tenant_partner_admin", 404),
    ],
)
def test_detail_role_matrix(deals_world: World, ledger, actor, status):
    response = api_as(deals_world, actor).get(entry_url(ledger.rep.pk))

    assert response.status_code == status
    if status == 404:
        assert response.json() == NOT_FOUND_BODY
    elif status == 200:
        assert response.json()["id"] == ledger.rep.pk


def test_a_partner_rep_cannot_read_a_colleagues_entry(deals_world: World, ledger):
    response = api_as(deals_world, "partner_rep").get(entry_url(ledger.admin.pk))

    assert (response.status_code, response.json()) == (404, NOT_FOUND_BODY)


def test_another_tenants_entry_reads_like_a_missing_one(deals_world: World, ledger):
    client = api_as(deals_world, "vendor_admin")

    foreign = client.get(entry_url(ledger.foreign.pk))
    missing = client.get(entry_url(999_999))

    assert (foreign.status_code, missing.status_code) == (404, 404)
    assert foreign.json() == missing.json() == NOT_FOUND_BODY


def test_detail_returns_the_contract_fields(deals_world: World, plan, ledger):
    entry = ledger.rep
    with tenant_context(deals_world.tenant):
        deal_name = entry.opportunity.name

    body = api_as(deals_world, "partner_rep").get(entry_url(entry.pk)).json()

    assert body == {
        "id": entry.pk,
        "opportunity_id": entry.opportunity_id,
        "opportunity_name": deal_name,
        "partner_id": deals_world.partner.pk,
        "partner_name": "Northwind Resellers",
        "owner_id": deals_world.partner_rep.user_id,
        "kind": "accrual",
        "amount": "500.00",
        "currency": "USD",
        "status": "accrued",
        "status_label": "Accrued",
        "breakdown": {
            "version_id": plan.pk,
            "amount": "500",
            "deal_amount": "10000",
            "tier": "Gold",
            "base_rate": "10",
            "base": "1000",
            "registered": False,
            "multiplier": "0.5",
            "product_bonuses": {},
            "quarter_attainment": "10000",
            "accelerator": "0",
            "before_cap": "500",
            "cap": None,
            "capped": False,
        },
        "version_id": plan.pk,
        "reverses_id": None,
        "closed_on": timezone.localdate().isoformat(),
        "approved_at": None,
        "payout_id": None,
        "created_at": entry.created_at.isoformat().replace("+00:00", "Z"),
    }


# --- Statements -----------------------------------------------------------------------------


@pytest.fixture
def statement_ledger(deals_world: World, plan, partner_deal, close_won, ledger) -> Ledger:
    """This month for Northwind: the rep's 500.00 paid, the admin's 1,000.00 approved then
    clawed back (-1,000.00 accrued), a new rep deal of 30,000 → 1,500.00 accrued; an older
    rep accrual in November 2025; the other partner's 1,500.00 (not Northwind's)."""
    world = deals_world
    approve(world, ledger.rep, ledger.admin)
    with tenant_context(world.tenant):
        payout_create(
            tenant=world.tenant,
            actor=world.channel_manager,
            entry_ids=[ledger.rep.pk],
            reference="PAY-1",
        )
    reopen(world, ledger.admin)
    close_won(partner_deal(world.partner_rep, amount=Decimal("30000")))
    old = partner_deal(world.partner_rep, amount=Decimal("4000"))
    close_won(old)
    [old_entry] = entries_of(world.tenant, old)
    set_created_at(world.tenant, old_entry, NOVEMBER_2025)
    return ledger


def statement_of(deals_world: World, actor: str | None, **query: object):
    return api_as(deals_world, actor).get(STATEMENT_URL, query)


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 200),
        ("channel_manager", 200),
        ("partner_admin", 200),
        ("partner_rep", 200),
        ("other_partner_admin", 404),
        ("other_partner_rep", 404),
        ("other_tenant_admin", 404),
        ("other_tenant_partner_admin", 404),
    ],
)
def test_statement_role_matrix(deals_world: World, ledger, actor, status):
    response = statement_of(deals_world, actor, partner_id=deals_world.partner.pk)

    assert response.status_code == status
    if status == 404:
        assert response.json() == NOT_FOUND_BODY
    elif status == 200:
        assert response.json()["partner_id"] == deals_world.partner.pk


def test_a_statement_adds_up(deals_world: World, statement_ledger):
    today = timezone.localdate()

    body = statement_of(deals_world, "channel_manager", partner_id=deals_world.partner.pk).json()

    assert {key: value for key, value in body.items() if key != "entries"} == {
        "partner_id": deals_world.partner.pk,
        "partner_name": "Northwind Resellers",
        "period": f"{today:%Y-%m}",
        "start": today.replace(day=1).isoformat(),
        "end": body["end"],
        "currency": "USD",
        "totals": {"accrued": "500.00", "approved": "1000.00", "paid": "500.00"},
        "accrued": "3000.00",
        "clawed_back": "-1000.00",
        "net": "2000.00",
    }
    assert body["end"][:7] == f"{today:%Y-%m}"
    assert [(row["kind"], row["amount"], row["status"]) for row in body["entries"]] == [
        ("accrual", "500.00", "paid"),
        ("accrual", "1000.00", "approved"),
        ("clawback", "-1000.00", "accrued"),
        ("accrual", "1500.00", "accrued"),
    ]
    totals = sum(Decimal(value) for value in body["totals"].values())
    assert totals == Decimal(body["net"]) == sum(Decimal(r["amount"]) for r in body["entries"])


def test_a_partner_rep_statement_holds_only_their_own_deals(deals_world: World, statement_ledger):
    body = statement_of(deals_world, "partner_rep").json()

    assert body["partner_id"] == deals_world.partner.pk
    assert [(row["amount"], row["owner_id"]) for row in body["entries"]] == [
        ("500.00", deals_world.partner_rep.user_id),
        ("1500.00", deals_world.partner_rep.user_id),
    ]
    assert (body["totals"], body["accrued"], body["clawed_back"], body["net"]) == (
        {"accrued": "1500.00", "approved": "0.00", "paid": "500.00"},
        "2000.00",
        "0.00",
        "2000.00",
    )


def test_a_partner_admin_gets_their_organizations_statement_by_default(
    deals_world: World, statement_ledger
):
    body = statement_of(deals_world, "partner_admin").json()

    assert (body["partner_id"], body["net"], len(body["entries"])) == (
        deals_world.partner.pk,
        "2000.00",
        4,
    )


@pytest.mark.parametrize(
    ("period", "start", "end", "amounts"),
    [
        ("2025-11", "2025-11-01", "2025-11-30", ["200.00"]),
        ("2025-Q4", "2025-10-01", "2025-12-31", ["200.00"]),
        ("2025-12", "2025-12-01", "2025-12-31", []),
    ],
)
def test_a_statement_covers_the_period_asked_for(
    deals_world: World, statement_ledger, period, start, end, amounts
):
    body = statement_of(deals_world, "partner_admin", period=period).json()

    assert (body["period"], body["start"], body["end"]) == (period, start, end)
    assert [row["amount"] for row in body["entries"]] == amounts
    assert body["net"] == (amounts[0] if amounts else "0.00")


def test_the_other_partner_gets_only_its_own_statement(deals_world: World, statement_ledger):
    body = statement_of(deals_world, "other_partner_admin").json()

    assert (body["partner_id"], [row["amount"] for row in body["entries"]]) == (
        deals_world.other_partner.pk,
        ["1500.00"],
    )
    assert body["net"] == "1500.00"


@pytest.mark.parametrize(
    ("actor", "query", "field"),
    [
        ("channel_manager", {}, "partner_id"),
        ("vendor_admin", {"period": "2025-11"}, "partner_id"),
        ("channel_manager", {"partner_id": "abc"}, "partner_id"),
        ("channel_manager", {"partner_id": "OWN", "period": "2025-13"}, "period"),
        ("partner_admin", {"period": "Q4-2025"}, "period"),
        ("partner_rep", {"period": "2025-00"}, "period"),
        ("partner_rep", {"period": "2025-Q0"}, "period"),
    ],
)
def test_a_statement_query_must_be_valid(deals_world: World, ledger, actor, query, field):
    query = {
        key: deals_world.partner.pk if value == "OWN" else value for key, value in query.items()
    }

    response = statement_of(deals_world, actor, **query)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


@pytest.mark.parametrize("actor", ["partner_admin", "partner_rep"])
def test_a_partner_asking_for_another_partners_statement_gets_a_404(
    deals_world: World, ledger, actor
):
    response = statement_of(deals_world, actor, partner_id=deals_world.other_partner.pk)

    assert (response.status_code, response.json()) == (404, NOT_FOUND_BODY)


def test_another_tenants_partner_reads_like_a_missing_one(deals_world: World, ledger):
    foreign = statement_of(
        deals_world, "vendor_admin", partner_id=deals_world.other_tenant_partner.pk
    )
    missing = statement_of(deals_world, "vendor_admin", partner_id=999_999)

    assert (foreign.status_code, missing.status_code) == (404, 404)
    assert foreign.json() == missing.json() == NOT_FOUND_BODY

"""/api/v1/opportunities/: scoped list with filters and cursor pagination, detail, direct
deals created by vendor roles, edits of non-lifecycle fields.

Partner reps see their own deals, partner admins their organization's, vendor roles the
tenant's; anything else is a 404, and a refused request changes nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from pipeline.models import Customer, Opportunity, Stage
from pipeline.services.stages import stages_install_defaults
from tests.api_clients import api_as
from tests.conftest import World
from tests.partners.factories import PartnerOrganizationFactory, PartnerTierFactory
from tests.pipeline.factories import CustomerFactory, OpportunityFactory

URL = "/api/v1/opportunities/"


def deal_url(deal_id: int) -> str:
    return f"{URL}{deal_id}/"


@pytest.fixture
def deals(world: World, stages, in_tenant) -> dict[str, Opportunity]:
    """Four deals of Acme (rep's, their admin's, the other partner's, a direct one) and one
    of Globex."""
    with in_tenant(world.other_tenant):
        stages_install_defaults(tenant=world.other_tenant)
    return {
        "rep": OpportunityFactory(
            tenant=world.tenant, partner=world.partner, owner=world.partner_rep.user, name="Rep"
        ),
        "admin": OpportunityFactory(
            tenant=world.tenant,
            partner=world.partner,
            owner=world.partner_admin.user,
            name="Admin",
        ),
        "other": OpportunityFactory(
            tenant=world.tenant,
            partner=world.other_partner,
            owner=world.other_partner_rep.user,
            name="Other",
        ),
        "direct": OpportunityFactory(
            tenant=world.tenant, partner=None, owner=world.channel_manager.user, name="Direct"
        ),
        "foreign": OpportunityFactory(
            tenant=world.other_tenant, owner=world.other_tenant_admin.user, name="Foreign"
        ),
    }


def state(world: World, in_tenant, tenant=None) -> list[tuple]:
    """Every deal of a tenant as the fields an edit could touch."""
    with in_tenant(tenant or world.tenant):
        return list(
            Opportunity.objects.order_by("id").values_list(
                "name", "amount", "stage_id", "status", "need", "next_step", "customer_id"
            )
        )


def names(response) -> list[str]:
    return [deal["name"] for deal in response.json()["results"]]


# --- List -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status", "expected"),
    [
        (None, 401, None),
        ("vendor_admin", 200, ["Direct", "Other", "Admin", "Rep"]),
        ("channel_manager", 200, ["Direct", "Other", "Admin", "Rep"]),
        ("partner_admin", 200, ["Admin", "Rep"]),
        ("partner_rep", 200, ["Rep"]),
        ("other_partner_admin", 200, ["Other"]),
        ("other_tenant_admin", 200, ["Foreign"]),
    ],
)
def test_list_role_matrix(world: World, deals, actor, status, expected):
    response = api_as(world, actor).get(URL)

    assert response.status_code == status
    if expected is not None:
        assert names(response) == expected


def test_detail_returns_the_contract_fields(world: World, deals, stages, in_tenant):
    deal = deals["rep"]
    with in_tenant(world.tenant):
        Opportunity.objects.filter(pk=deal.pk).update(
            amount=Decimal("12500.5"),
            expected_close_date=date(2030, 3, 31),
            budget_confirmed=True,
            need="Faster quoting",
            next_step="Demo",
        )
        customer = Customer.objects.get(pk=deal.customer_id)

    body = api_as(world, "partner_rep").get(deal_url(deal.pk)).json()

    assert {key: body[key] for key in CONTRACT} == {
        "id": deal.pk,
        "name": "Rep",
        "partner_id": world.partner.pk,
        "owner_id": world.partner_rep.user_id,
        "customer": {
            "id": customer.pk,
            "name": customer.name,
            "website": customer.website,
            "country": "US",
            "external_ids": {},
        },
        "amount": "12500.50",
        "currency": "USD",
        "expected_close_date": "2030-03-31",
        "stage_id": stages[0].pk,
        "status": "open",
        "qualification": {
            "budget_confirmed": True,
            "decision_maker": False,
            "need": "Faster quoting",
            "timeline": "",
        },
        "next_step": "Demo",
        "stale": False,
    }


CONTRACT = (
    "id",
    "name",
    "partner_id",
    "owner_id",
    "customer",
    "amount",
    "currency",
    "expected_close_date",
    "stage_id",
    "status",
    "qualification",
    "next_step",
    "stale",
)


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 200),
        ("channel_manager", 200),
        ("partner_admin", 200),
        ("partner_rep", 200),
        ("other_partner_admin", 404),
        ("other_tenant_admin", 404),
    ],
)
def test_detail_role_matrix(world: World, deals, actor, status):
    response = api_as(world, actor).get(deal_url(deals["rep"].pk))

    assert response.status_code == status
    if status == 404:
        assert response.json() == {
            "error": {"code": "not_found", "message": "Not found.", "fields": {}}
        }


def test_a_partner_rep_cannot_read_a_colleagues_deal(world: World, deals):
    response = api_as(world, "partner_rep").get(deal_url(deals["admin"].pk))

    assert response.status_code == 404


@pytest.fixture
def filtered(world: World, deals, stages, in_tenant) -> dict:
    """Deals that differ in one filtered attribute each."""
    silver = PartnerTierFactory(tenant=world.tenant, name="Silver", rank=2)
    fabrikam = PartnerOrganizationFactory(
        tenant=world.tenant, tier=silver, name="Fabrikam", region="NA", country="US"
    )
    today = timezone.localdate()
    with in_tenant(world.tenant):
        Opportunity.objects.filter(pk=deals["rep"].pk).update(
            amount=Decimal(1000), expected_close_date=today + timedelta(days=10)
        )
        Opportunity.objects.filter(pk=deals["admin"].pk).update(
            amount=Decimal(50000), expected_close_date=today + timedelta(days=60)
        )
        Opportunity.objects.filter(pk=deals["other"].pk).update(
            expected_close_date=today - timedelta(days=1)  # overdue: stale
        )
    fab = OpportunityFactory(
        tenant=world.tenant, partner=fabrikam, owner=world.vendor_admin.user, name="Fab"
    )
    with in_tenant(world.tenant):
        fab.refresh_from_db()
        with fab.allow_change():
            fab.stage = stages[1]
        fab.save()
    return {"silver": silver, "fabrikam": fabrikam, "today": today}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Fab", "Direct", "Other", "Admin", "Rep"]),
        ({"partner_id": "PARTNER"}, ["Admin", "Rep"]),
        ({"direct": "true"}, ["Direct"]),
        ({"tier_id": "SILVER"}, ["Fab"]),
        ({"region": "NA"}, ["Fab"]),
        ({"stage_id": "SECOND_STAGE"}, ["Fab"]),
        ({"owner_id": "REP_USER"}, ["Rep"]),
        ({"status": "open"}, ["Fab", "Direct", "Other", "Admin", "Rep"]),
        ({"status": "won"}, []),
        ({"close_date_from": "TODAY"}, ["Admin", "Rep"]),
        ({"close_date_to": "TODAY"}, ["Other"]),
        ({"amount_min": "1000", "amount_max": "20000"}, ["Rep"]),
        ({"amount_min": "1000.01"}, ["Admin"]),
        ({"stale": "true"}, ["Other"]),
        ({"stale": "false", "partner_id": "PARTNER"}, ["Admin", "Rep"]),
    ],
)
def test_list_filters(world: World, stages, filtered, query, expected):
    placeholders = {
        "PARTNER": world.partner.pk,
        "SILVER": filtered["silver"].pk,
        "SECOND_STAGE": stages[1].pk,
        "REP_USER": world.partner_rep.user_id,
        "TODAY": filtered["today"].isoformat(),
    }
    query = {key: placeholders.get(value, value) for key, value in query.items()}

    response = api_as(world, "channel_manager").get(URL, query)

    assert response.status_code == 200
    assert names(response) == expected


@pytest.mark.parametrize(
    "query",
    [
        {"status": "closed"},
        {"region": "MARS"},
        {"partner_id": "northwind"},
        {"partner_id": "OTHER_TENANT_PARTNER"},
        {"stage_id": "OTHER_TENANT_STAGE"},
        {"owner_id": "OTHER_TENANT_USER"},
        {"close_date_from": "31/12/2030"},
        {"amount_min": "lots"},
        {"stale": "maybe"},
    ],
)
def test_list_rejects_bad_filters(world: World, deals, in_tenant, query):
    with in_tenant(world.other_tenant):
        foreign_stage = Stage.objects.for_tenant(world.other_tenant).first()
    placeholders = {
        "OTHER_TENANT_PARTNER": world.other_tenant_partner.pk,
        "OTHER_TENANT_STAGE": foreign_stage.pk,
        "OTHER_TENANT_USER": world.other_tenant_admin.user_id,
    }
    query = {key: placeholders.get(value, value) for key, value in query.items()}

    response = api_as(world, "vendor_admin").get(URL, query)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid", list(query))


def test_a_partner_cannot_filter_by_another_partner(world: World, deals):
    response = api_as(world, "partner_admin").get(URL, {"partner_id": world.other_partner.pk})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "partner_id": ["Select a valid choice. That choice is not one of the available choices."]
    }


def test_cursor_pagination_walks_every_deal_once(world: World, deals):
    for number in range(7):
        OpportunityFactory(
            tenant=world.tenant, partner=None, owner=world.vendor_admin.user, name=f"Bulk {number}"
        )
    client = api_as(world, "vendor_admin")

    seen, url, pages = [], URL + "?page_size=5", 0
    while url:
        page = client.get(url).json()
        assert set(page) == {"next", "previous", "results"}
        seen += [deal["name"] for deal in page["results"]]
        url, pages = page["next"], pages + 1

    assert pages == 3
    assert seen == [f"Bulk {n}" for n in range(6, -1, -1)] + ["Direct", "Other", "Admin", "Rep"]


def test_list_query_count_does_not_grow_with_rows(
    world: World, deals, django_assert_max_num_queries, django_assert_num_queries
):
    client = api_as(world, "vendor_admin")
    client.get(URL)  # the token's first use records last_used_at
    with django_assert_max_num_queries(12) as few:
        client.get(URL, {"status": "open"})
    silver = PartnerTierFactory(tenant=world.tenant, name="Silver", rank=2)
    for number in range(20):
        partner = PartnerOrganizationFactory(tenant=world.tenant, tier=silver)
        OpportunityFactory(
            tenant=world.tenant,
            partner=partner,
            owner=world.vendor_admin.user,
            customer=CustomerFactory(tenant=world.tenant),
            name=f"Bulk {number}",
        )

    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(URL, {"status": "open"})

    assert len(response.json()["results"]) == 24


# --- Create a direct deal -------------------------------------------------------------------


def new_deal(**overrides) -> dict:
    return {
        "name": "Fleet renewal",
        "customer": {"name": "Tailspin Toys Ltd", "website": "https://www.tailspin.example"},
        "amount": "40000",
        **overrides,
    }


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 201),
        ("channel_manager", 201),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
    ],
)
def test_create_role_matrix(world: World, deals, in_tenant, actor, status):
    before = state(world, in_tenant)

    response = api_as(world, actor).post(URL, new_deal(), format="json")

    assert response.status_code == status
    after = state(world, in_tenant)
    if status == 201:
        assert len(after) == len(before) + 1
    else:
        assert after == before


def test_create_opens_a_direct_deal_in_the_first_stage(world: World, deals, stages, in_tenant):
    body = new_deal(
        owner_id=world.vendor_admin.user_id,
        qualification={"budget_confirmed": True, "need": "Fleet"},
        customer={"name": "Tailspin Toys Ltd", "website": "tailspin.example", "country": "GB"},
    )

    response = api_as(world, "channel_manager").post(URL, body, format="json")

    created = response.json()
    assert response.status_code == 201
    assert {key: created[key] for key in CONTRACT} == {
        "id": created["id"],
        "name": "Fleet renewal",
        "partner_id": None,
        "owner_id": world.vendor_admin.user_id,
        "customer": {
            "id": created["customer"]["id"],
            "name": "Tailspin Toys Ltd",
            "website": "tailspin.example",
            "country": "GB",
            "external_ids": {},
        },
        "amount": "40000.00",
        "currency": world.tenant.currency,
        "expected_close_date": None,
        "stage_id": stages[0].pk,
        "status": "open",
        "qualification": {
            "budget_confirmed": True,
            "decision_maker": False,
            "need": "Fleet",
            "timeline": "",
        },
        "next_step": "",
        "stale": False,
    }
    with in_tenant(world.tenant):
        assert AuditEntry.objects.filter(verb="opportunity_created").count() == 1


def test_create_reuses_the_customer_with_the_same_root_domain(world: World, deals, in_tenant):
    existing = CustomerFactory(
        tenant=world.tenant, name="Tailspin Toys", root_domain="tailspin.com"
    )
    body = new_deal(customer={"name": "Tailspin (UK)", "website": "https://shop.tailspin.com/"})

    response = api_as(world, "vendor_admin").post(URL, body, format="json")

    assert response.status_code == 201
    assert response.json()["customer"]["id"] == existing.pk


BAD_CREATE = [
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": 7}, "name"),
    ({"amount": "-1"}, "amount"),
    ({"amount": "12.345"}, "amount"),
    ({"amount": True}, "amount"),
    ({"amount": "1000000000000"}, "amount"),
    ({"expected_close_date": 20300101}, "expected_close_date"),
    ({"expected_close_date": "2030-13-01"}, "expected_close_date"),
    ({"qualification": {"budget_confirmed": "yes"}}, "qualification"),
    ({"qualification": {"mood": "good"}}, "qualification"),
    ({"customer": {"name": "x" * 201}}, "customer"),
    ({"customer": {"name": "Ok", "country": "XX"}}, "customer"),
    ({"customer": "Tailspin"}, "customer"),
    ({"owner_id": "PARTNER_USER"}, "owner_id"),
    ({"owner_id": "OTHER_TENANT_USER"}, "owner_id"),
    ({"owner_id": "1"}, "owner_id"),
    ({"partner_id": "PARTNER"}, "partner_id"),
    ({"stage_id": "STAGE"}, "stage_id"),
    ({"status": "won"}, "status"),
    ({"next_step": "x" * 501}, "next_step"),
]


@pytest.mark.parametrize(("override", "field"), BAD_CREATE)
def test_create_rejects_bad_input_and_creates_nothing(
    world: World, deals, stages, in_tenant, override, field
):
    placeholders = {
        "PARTNER_USER": world.partner_admin.user_id,
        "OTHER_TENANT_USER": world.other_tenant_admin.user_id,
        "PARTNER": world.partner.pk,
        "STAGE": stages[2].pk,
    }
    override = {k: placeholders.get(v, v) if isinstance(v, str) else v for k, v in override.items()}
    with in_tenant(world.tenant):
        customers = Customer.objects.count()
    before = state(world, in_tenant)

    response = api_as(world, "vendor_admin").post(URL, new_deal(**override), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid", [field])
    assert state(world, in_tenant) == before
    with in_tenant(world.tenant):
        assert Customer.objects.count() == customers


def test_a_form_post_is_refused(world: World, deals):
    response = api_as(world, "vendor_admin").post(URL, {"name": "Form"})

    assert response.status_code == 415


# --- Edit -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 200),
        ("channel_manager", 200),
        ("partner_admin", 200),
        ("partner_rep", 200),
        ("other_partner_admin", 404),
        ("other_tenant_admin", 404),
    ],
)
def test_update_role_matrix(world: World, deals, in_tenant, actor, status):
    before = state(world, in_tenant)

    response = api_as(world, actor).patch(
        deal_url(deals["rep"].pk), {"next_step": "Send the quote"}, format="json"
    )

    assert response.status_code == status
    after = state(world, in_tenant)
    if status == 200:
        assert response.json()["next_step"] == "Send the quote"
        assert after[0][5] == "Send the quote"
        assert after[1:] == before[1:]
    else:
        assert after == before


def test_update_changes_only_the_fields_sent(world: World, deals, in_tenant):
    response = api_as(world, "partner_rep").patch(
        deal_url(deals["rep"].pk),
        {"amount": 2500, "qualification": {"decision_maker": True, "timeline": "Q3"}},
        format="json",
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["amount"], body["name"]) == ("2500.00", "Rep")
    assert body["qualification"] == {
        "budget_confirmed": False,
        "decision_maker": True,
        "need": "",
        "timeline": "Q3",
    }


@pytest.mark.parametrize("field", ["stage_id", "status", "stage"])
def test_stage_and_status_are_refused_in_an_edit(world: World, deals, stages, in_tenant, field):
    before = state(world, in_tenant)
    value = stages[1].pk if field != "status" else "won"

    response = api_as(world, "vendor_admin").patch(
        deal_url(deals["rep"].pk), {field: value, "next_step": "Sneaky"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        field: ["Changes only through move-stage, close-won, close-lost or reopen."]
    }
    assert state(world, in_tenant) == before


@pytest.mark.parametrize(("override", "field"), [b for b in BAD_CREATE if b[1] != "customer"])
def test_update_rejects_bad_input_and_changes_nothing(
    world: World, deals, stages, in_tenant, override, field
):
    if field in ("owner_id", "partner_id"):
        override, field = {"customer": {"name": "Elsewhere"}}, "customer"
    placeholders = {"PARTNER": world.partner.pk, "STAGE": stages[2].pk}
    override = {k: placeholders.get(v, v) if isinstance(v, str) else v for k, v in override.items()}
    before = state(world, in_tenant)

    response = api_as(world, "vendor_admin").patch(
        deal_url(deals["rep"].pk), override, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert state(world, in_tenant) == before


def test_a_closed_deal_cannot_be_edited(world: World, deals, in_tenant):
    client = api_as(world, "vendor_admin")
    client.post(f"{deal_url(deals['rep'].pk)}close-lost/", {"reason_code": "price"}, format="json")
    before = state(world, in_tenant)

    response = client.patch(deal_url(deals["rep"].pk), {"next_step": "Too late"}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "transition_refused",
            "message": "A closed deal cannot be edited; reopen it first.",
            "fields": {},
        }
    }
    assert state(world, in_tenant) == before


def test_another_tenants_deal_is_404_and_untouched(world: World, deals, in_tenant):
    foreign = deals["foreign"]
    before = state(world, in_tenant, world.other_tenant)
    client = api_as(world, "vendor_admin")

    answers = [
        client.get(deal_url(foreign.pk)),
        client.patch(deal_url(foreign.pk), {"name": "Hijacked"}, format="json"),
    ]

    assert [answer.status_code for answer in answers] == [404, 404]
    assert state(world, in_tenant, world.other_tenant) == before


# The statements of one API request inside the test's transaction: SAVEPOINT, the clear at
# the start, the authentication (the token's hash, token + tenant, membership + user: one
# round trip), …, the clear at the end, RELEASE SAVEPOINT (served outside a transaction,
# the two clears and the savepoint are not needed: tests/accounts/test_api_round_trips.py).
REQUEST_STATEMENTS = 5


def test_list_and_detail_query_counts_are_pinned(world: World, deals, django_assert_num_queries):
    client = api_as(world, "vendor_admin")
    client.get(URL)  # the token's first use records last_used_at

    with django_assert_num_queries(REQUEST_STATEMENTS + 1):  # the page
        assert client.get(URL).status_code == 200
    with django_assert_num_queries(REQUEST_STATEMENTS + 1):  # the deal
        assert client.get(deal_url(deals["rep"].pk)).status_code == 200


def test_detail_query_count_does_not_grow_with_rows(world: World, deals, django_assert_num_queries):
    client = api_as(world, "vendor_admin")
    url = deal_url(deals["rep"].pk)
    client.get(url)
    for number in range(10):
        OpportunityFactory(
            tenant=world.tenant,
            partner=world.partner,
            owner=world.partner_rep.user,
            customer=CustomerFactory(tenant=world.tenant),
            name=f"More {number}",
        )

    with django_assert_num_queries(REQUEST_STATEMENTS + 1):
        assert client.get(url).status_code == 200


def test_a_list_without_filter_parameters_builds_no_filterset(world: World, deals, monkeypatch):
    """Building the FilterSet costs more than reading a page; with nothing to filter by it
    is skipped. A filter parameter still goes through it (and is validated)."""
    from pipeline.apis.opportunities import OpportunityFilter

    built = []
    original = OpportunityFilter.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(OpportunityFilter, "__init__", counting)
    client = api_as(world, "vendor_admin")

    everything = client.get(URL, {"page_size": 10, "unknown": "x"})
    assert (everything.status_code, built) == (200, [])
    assert len(everything.json()["results"]) == 4

    direct = client.get(URL, {"direct": "true"})
    assert built
    assert [row["name"] for row in direct.json()["results"]] == ["Direct"]
    assert client.get(URL, {"amount_min": "lots"}).status_code == 400

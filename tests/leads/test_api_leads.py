"""/api/v1/leads/: vendor roles create and read every lead with its routing; partner
people read the leads offered to their organization (their own offers only, never the
routing or the other candidates) and accept or decline. Another tenant's lead is a 404;
bad input is a 400 naming the field, and nothing is stored or enqueued."""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_context
from leads.models import Lead, LeadOffer
from tests.api_clients import api_as
from tests.conftest import World
from tests.leads.conftest import event_dispatch_of, lead_data, make_lead, reload, route

LEADS = "/api/v1/leads/"
ROUTE_TASK = "leads.tasks.lead_route"


def lead_url(lead_id: int, action: str = "") -> str:
    return f"{LEADS}{lead_id}/{action + '/' if action else ''}"


def stored_leads(world: World) -> int:
    with tenant_context(world.tenant):
        return Lead.objects.count()


@pytest.fixture
def offered(leads_world) -> Lead:
    """A lead offered to Northwind (world.partner)."""
    lead = make_lead(leads_world)
    route(leads_world, lead)
    return lead


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 201),
        ("channel_manager", 201),
        ("partner_admin", 403),
        ("partner_rep", 403),
    ],
)
def test_create_role_matrix(
    leads_world, sent_tasks, django_capture_on_commit_callbacks, actor, status
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(leads_world, actor).post(LEADS, lead_data(), format="json")

    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert body["status"] == "new"
        assert body["company_name"] == "Fabrikam Inc."
        assert body["product_lines"] == ["cloud"]
        assert body["estimated_value"] == "25000.00"
        assert body["region"] == "NA"
        assert body["offers"] == []
        assert sent_tasks == [
            event_dispatch_of(leads_world, "lead.created"),
            (ROUTE_TASK, (leads_world.tenant.pk, body["id"])),
        ]
    else:
        assert stored_leads(leads_world) == 0
        assert sent_tasks == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"company_name": "<script>alert(1)</script>"}, "company_name"),
        ({"contact_name": "<b>Jane</b>"}, "contact_name"),
        ({"company_name": "x" * 201}, "company_name"),
        ({"notes": "x" * 4001}, "notes"),
        ({"company_name": ""}, "company_name"),
        ({"company_name": 42}, "company_name"),
        ({"country": "XX"}, "country"),
        ({"product_lines": ["nope"]}, "product_lines"),
        ({"product_lines": "cloud"}, "product_lines"),
        ({"estimated_value": "-5"}, "estimated_value"),
        ({"estimated_value": "abc"}, "estimated_value"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"currency": "EURO"}, "currency"),
        ({"tenant_id": 1}, "tenant_id"),
    ],
)
def test_bad_input_is_a_400_and_nothing_is_stored(
    leads_world, sent_tasks, django_capture_on_commit_callbacks, change, field
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(leads_world, "vendor_admin").post(
            LEADS, lead_data(**change), format="json"
        )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert stored_leads(leads_world) == 0
    assert sent_tasks == []


def test_another_tenants_product_line_is_unknown(leads_world):
    with tenant_context(leads_world.other_tenant):
        from deals.models import ProductLine

        ProductLine.objects.create(tenant=leads_world.other_tenant, code="globex", name="G")

    response = api_as(leads_world, "vendor_admin").post(
        LEADS, lead_data(product_lines=["globex"]), format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["product_lines"] == ["Unknown product line: globex."]


@pytest.mark.parametrize(
    ("actor", "status", "sees_routing"),
    [
        (None, 401, False),
        ("vendor_admin", 200, True),
        ("channel_manager", 200, True),
        ("partner_admin", 200, False),
        ("partner_rep", 200, False),
        ("other_partner_admin", 404, False),
        ("other_tenant_admin", 404, False),
        ("other_tenant_partner_admin", 404, False),
    ],
)
def test_detail_role_matrix(leads_world, offered, actor, status, sees_routing):
    response = api_as(leads_world, actor).get(lead_url(offered.pk))

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["status"] == "offered"
        assert [(o["partner_id"], o["status"]) for o in body["offers"]] == [
            (leads_world.partner.pk, "offered")
        ]
        assert set(body["offers"][0]) == {"id", "partner_id", "status", "expires_at"}
        assert ("routing" in body) is sees_routing
        if sees_routing:
            routing = body["routing"][0]
            assert routing["policy_version"] == 1
            assert len(routing["facts"]["candidates"]) == 2


def test_a_partner_never_sees_another_partners_offer_or_the_candidates(leads_world, offered):
    client = api_as(leads_world, "partner_admin")
    client.post(lead_url(offered.pk, "decline"), {"reason_code": "not_a_fit"}, format="json")
    route(leads_world, offered)  # now offered to Contoso

    mine = client.get(lead_url(offered.pk)).json()
    theirs = api_as(leads_world, "other_partner_rep").get(lead_url(offered.pk)).json()

    assert [o["partner_id"] for o in mine["offers"]] == [leads_world.partner.pk]
    assert [o["partner_id"] for o in theirs["offers"]] == [leads_world.other_partner.pk]
    assert "Contoso" not in str(mine)
    assert "Northwind" not in str(theirs)


def test_the_list_is_scoped(leads_world, offered):
    make_lead(leads_world, company_name="Never offered")  # not routed

    vendor = api_as(leads_world, "channel_manager").get(LEADS).json()["results"]
    partner = api_as(leads_world, "partner_rep").get(LEADS).json()["results"]
    other = api_as(leads_world, "other_partner_admin").get(LEADS).json()["results"]
    other_tenant = api_as(leads_world, "other_tenant_admin").get(LEADS).json()["results"]

    assert [lead["company_name"] for lead in vendor] == ["Never offered", "Fabrikam Inc."]
    assert [lead["company_name"] for lead in partner] == ["Fabrikam Inc."]
    assert (other, other_tenant) == ([], [])


def test_the_list_query_count_does_not_grow(leads_world, django_assert_num_queries):
    client = api_as(leads_world, "channel_manager")
    for rows in range(2):
        with django_assert_num_queries(LIST_QUERIES):
            assert client.get(LEADS).status_code == 200
        for number in range(3):
            route(leads_world, make_lead(leads_world, company_name=f"Lead {rows}-{number}"))


LIST_QUERIES = 7  # the token lookup is one round trip


def test_accept(leads_world, offered):
    response = api_as(leads_world, "partner_rep").post(lead_url(offered.pk, "accept"))

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert response.json()["partner_id"] == leads_world.partner.pk
    lead = reload(leads_world, offered)
    assert (lead.status, lead.owner_id) == ("accepted", leads_world.partner_rep.user_id)


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 403),
        ("channel_manager", 403),
        ("other_partner_admin", 404),
        ("other_tenant_partner_admin", 404),
    ],
)
def test_accept_and_decline_refused(leads_world, offered, actor, status):
    client = api_as(leads_world, actor)

    accept = client.post(lead_url(offered.pk, "accept"))
    decline = client.post(
        lead_url(offered.pk, "decline"), {"reason_code": "other", "note": "x"}, format="json"
    )

    assert (accept.status_code, decline.status_code) == (status, status)
    with tenant_context(leads_world.tenant):
        assert list(LeadOffer.objects.values_list("status", flat=True)) == ["offered"]


def test_decline_enqueues_the_next_routing(
    leads_world, offered, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(leads_world, "partner_admin").post(
            lead_url(offered.pk, "decline"),
            {"reason_code": "already_working", "note": "We met them last week."},
            format="json",
        )

    assert response.status_code == 200
    assert response.json()["status"] == "new"
    assert response.json()["offers"][0]["status"] == "declined"
    assert sent_tasks == [
        (ROUTE_TASK, (leads_world.tenant.pk, offered.pk)),
        event_dispatch_of(leads_world, "lead.declined"),
    ]
    with tenant_context(leads_world.tenant):
        offer = LeadOffer.objects.get()
    assert (offer.reason_code, offer.note) == ("already_working", "We met them last week.")


@pytest.mark.parametrize(
    "body",
    [
        {"reason_code": "bored"},
        {},
        {"reason_code": "other"},
        {"reason_code": "not_a_fit", "note": "x" * 1001},
        {"reason_code": "not_a_fit", "extra": 1},
    ],
)
def test_a_bad_decline_is_a_400_and_changes_nothing(leads_world, offered, sent_tasks, body):
    response = api_as(leads_world, "partner_admin").post(
        lead_url(offered.pk, "decline"), body, format="json"
    )

    assert response.status_code == 400
    assert reload(leads_world, offered).status == "offered"
    assert sent_tasks == []


def test_accepting_twice_is_a_conflict(leads_world, offered):
    api_as(leads_world, "partner_rep").post(lead_url(offered.pk, "accept"))

    response = api_as(leads_world, "partner_admin").post(lead_url(offered.pk, "accept"))

    assert response.status_code == 409
    assert reload(leads_world, offered).owner_id == leads_world.partner_rep.user_id

"""Leads pages: the vendor list (routing queue and money first), a new lead, the lead page
with its routing explanation; the partner inbox with countdown and why the lead came to
them (never the other candidates), accept and decline. Role matrices, isolation (another
partner's or tenant's lead is a 404), bad input stores nothing, constant query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tenancy import tenant_context
from leads.models import Lead, LeadOffer
from tests.conftest import ALL_ACTORS
from tests.leads.conftest import event_dispatch_of, lead_data, make_lead, reload, route
from tests.pages import assert_constant_queries, assert_login_redirect, member, messages_of

ACTORS = ("anonymous", *ALL_ACTORS)
VENDOR_OK = {"vendor_admin", "channel_manager"}
PARTNER_OK = {"partner_admin", "partner_rep", "other_partner_admin"}


@pytest.fixture
def offered(leads_world) -> Lead:
    lead = make_lead(leads_world)
    route(leads_world, lead)
    return lead


@pytest.mark.parametrize("actor", ACTORS)
def test_vendor_list_role_matrix(leads_world, offered, client_for, actor):
    url = reverse("vendor:lead_list")

    response = client_for(member(leads_world, actor)).get(url)

    if actor == "anonymous":
        assert_login_redirect(response, url)
    elif actor in VENDOR_OK or actor == "other_tenant_admin":
        assert response.status_code == 200
        assert ("Fabrikam Inc." in response.content.decode()) is (actor in VENDOR_OK)
    else:
        assert response.status_code == 403


def test_the_vendor_list_leads_with_the_queue_and_the_money(leads_world, offered, client_for):
    queued = make_lead(leads_world, company_name="Kyoto Lead", country="JP")
    route(leads_world, queued)

    html = client_for(leads_world.channel_manager).get(reverse("vendor:lead_list")).content.decode()

    assert "<strong>1</strong> in the routing queue" in html
    assert "<strong>1</strong> waiting for a partner to accept" in html
    assert "50,000.00 USD" in html
    assert "No partner passed the required rule “territory”." in html


def test_the_vendor_list_query_count_does_not_grow(
    leads_world, client_for, django_assert_num_queries
):
    def more() -> None:
        for number in range(3):
            route(leads_world, make_lead(leads_world, company_name=f"More {number}"))

    route(leads_world, make_lead(leads_world))
    assert_constant_queries(
        client_for(leads_world.channel_manager),
        reverse("vendor:lead_list"),
        more,
        django_assert_num_queries,
    )


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("vendor_admin", 200),
        ("channel_manager", 200),
        ("partner_admin", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_lead_page_role_matrix(leads_world, offered, client_for, actor, status):
    response = client_for(leads_world.member(actor)).get(
        reverse("vendor:lead_detail", args=[offered.pk])
    )

    assert response.status_code == status


def test_the_lead_page_explains_the_routing(leads_world, offered, client_for):
    html = (
        client_for(leads_world.vendor_admin)
        .get(reverse("vendor:lead_detail", args=[offered.pk]))
        .content.decode()
    )

    assert "Policy version 1" in html
    assert html.count('data-testid="candidate-row"') == 2
    assert "Northwind Resellers" in html
    assert "Contoso Partners" in html
    assert "(chosen)" in html


def test_creating_a_lead_from_the_page(
    leads_world, client_for, sent_tasks, django_capture_on_commit_callbacks
):
    form = {**lead_data(), "product_lines": ["cloud"]}

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(leads_world.channel_manager).post(reverse("vendor:lead_create"), form)

    with tenant_context(leads_world.tenant):
        lead = Lead.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("vendor:lead_detail", args=[lead.pk])
    assert (lead.company_name, lead.source, lead.product_lines) == (
        "Fabrikam Inc.",
        "Webinar Q4",
        ["cloud"],
    )
    assert sent_tasks == [
        event_dispatch_of(leads_world, "lead.created"),
        ("leads.tasks.lead_route", (leads_world.tenant.pk, lead.pk)),
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"company_name": "<b>Bold</b>"},
        {"country": "XX"},
        {"product_lines": ["nope"]},
        {"company_name": "x" * 201},
    ],
)
def test_a_bad_lead_form_stores_nothing(leads_world, client_for, sent_tasks, change):
    response = client_for(leads_world.channel_manager).post(
        reverse("vendor:lead_create"), {**lead_data(), **change}
    )

    assert response.status_code == 200
    assert "error" in response.content.decode().lower()
    with tenant_context(leads_world.tenant):
        assert Lead.objects.count() == 0
    assert sent_tasks == []


# --- Partner inbox ---------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_inbox_role_matrix(leads_world, offered, client_for, actor):
    url = reverse("partner:lead_inbox")

    response = client_for(member(leads_world, actor)).get(url)

    if actor == "anonymous":
        assert_login_redirect(response, url)
    elif actor in PARTNER_OK:
        assert response.status_code == 200
        html = response.content.decode()
        assert ("Fabrikam Inc." in html) is (actor != "other_partner_admin")
    else:
        assert response.status_code == 403


def test_the_inbox_shows_the_countdown_and_why_never_the_others(leads_world, offered, client_for):
    page = client_for(leads_world.partner_rep).get(reverse("partner:lead_inbox")).content.decode()
    html = " ".join(page.split())

    assert 'data-testid="countdown"' in html
    assert "left to answer" in html
    assert "Serves the lead&#x27;s country or region: yes (required)" in html
    assert "Specializes in the lead&#x27;s product lines: yes (optional)" in html
    assert "Contoso" not in html


def test_accepting_from_the_inbox(leads_world, offered, client_for):
    response = client_for(leads_world.partner_rep).post(
        reverse("partner:lead_accept", args=[offered.pk])
    )

    assert response.status_code == 302
    assert messages_of(response) == ["You accepted the lead Fabrikam Inc.; it is yours to work."]
    assert reload(leads_world, offered).status == "accepted"


def test_declining_from_the_inbox(
    leads_world, offered, client_for, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(leads_world.partner_admin).post(
            reverse("partner:lead_decline", args=[offered.pk]),
            {"reason_code": "poor_quality", "note": "Student project."},
        )

    assert response.status_code == 302
    with tenant_context(leads_world.tenant):
        assert LeadOffer.objects.get().reason_code == "poor_quality"
    assert sent_tasks == [
        ("leads.tasks.lead_route", (leads_world.tenant.pk, offered.pk)),
        event_dispatch_of(leads_world, "lead.declined"),
    ]


@pytest.mark.parametrize("actor", ["other_partner_admin", "other_tenant_partner_admin"])
def test_another_partner_cannot_answer(leads_world, offered, client_for, actor):
    client = client_for(leads_world.member(actor))

    accept = client.post(reverse("partner:lead_accept", args=[offered.pk]))
    decline = client.post(
        reverse("partner:lead_decline", args=[offered.pk]), {"reason_code": "other", "note": "x"}
    )

    assert (accept.status_code, decline.status_code) == (404, 404)
    assert reload(leads_world, offered).status == "offered"


def test_the_inbox_query_count_does_not_grow(leads_world, client_for, django_assert_num_queries):
    def more() -> None:
        for number in range(3):
            route(leads_world, make_lead(leads_world, company_name=f"More {number}"))

    route(leads_world, make_lead(leads_world))
    assert_constant_queries(
        client_for(leads_world.partner_rep),
        reverse("partner:lead_inbox"),
        more,
        django_assert_num_queries,
    )


def test_converting_from_the_inbox_opens_the_new_registration(leads_world, offered, client_for):
    client = client_for(leads_world.partner_rep)
    client.post(reverse("partner:lead_accept", args=[offered.pk]))

    response = client.post(reverse("partner:lead_convert", args=[offered.pk]), {})

    lead = reload(leads_world, offered)
    assert lead.status == "converted"
    assert response.url == reverse("partner:registration_detail", args=[lead.registration_id])


def test_another_partner_cannot_convert(leads_world, offered, client_for):
    client_for(leads_world.partner_rep).post(reverse("partner:lead_accept", args=[offered.pk]))

    response = client_for(leads_world.other_partner_admin).post(
        reverse("partner:lead_convert", args=[offered.pk]), {}
    )

    assert response.status_code == 404
    assert reload(leads_world, offered).status == "accepted"


@pytest.mark.parametrize(
    ("actor", "status"),
    [("channel_manager", 302), ("partner_admin", 403), ("other_tenant_admin", 404)],
)
def test_route_again_from_the_lead_page(
    leads_world, client_for, sent_tasks, django_capture_on_commit_callbacks, actor, status
):
    lead = make_lead(leads_world, country="JP")
    route(leads_world, lead)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(leads_world.member(actor)).post(
            reverse("vendor:lead_route_again", args=[lead.pk])
        )

    assert response.status_code == status
    expected = (
        ("new", [("leads.tasks.lead_route", (leads_world.tenant.pk, lead.pk))])
        if status == 302
        else ("queued", [])
    )
    assert (reload(leads_world, lead).status, sent_tasks) == expected


@pytest.mark.parametrize(
    ("actor", "status"),
    [("channel_manager", 302), ("partner_admin", 403), ("other_tenant_admin", 404)],
)
def test_withdrawing_an_offer_queues_the_lead(leads_world, offered, client_for, actor, status):
    response = client_for(leads_world.member(actor)).post(
        reverse("vendor:lead_withdraw", args=[offered.pk])
    )

    assert response.status_code == status
    with tenant_context(leads_world.tenant):
        offer_status = LeadOffer.objects.get().status
    expected = ("queued", "withdrawn") if status == 302 else ("offered", "offered")
    assert (reload(leads_world, offered).status, offer_status) == expected

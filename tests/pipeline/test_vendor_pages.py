"""Vendor portal pipeline pages: the pipeline table, direct deals, a deal's page and the
actions on it (reopen and co-sell answers included). Role matrix, isolation, query counts.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, DomainEvent
from pipeline.models import (
    CoSellRequest,
    CoSellResource,
    CoSellResourceType,
    Customer,
    Opportunity,
    StageMove,
)
from tests.conftest import World
from tests.pages import (
    assert_constant_queries,
    member,
    messages_of,
)
from tests.partners.factories import PartnerOrganizationFactory, PartnerTierFactory
from tests.pipeline.factories import CustomerFactory, OpportunityFactory
from tests.pipeline.test_partner_pages import ACTORS, INVALID_CHOICE, QUALIFIED, stage

DETAIL = (302, 200, 200, 403, 403, 403, 404)
ACTION = (302, 302, 302, 403, 403, 403, 404)
LIST = (302, 200, 200, 403, 403, 403, 200)


@pytest.fixture
def deal(world: World, stages) -> Opportunity:
    return OpportunityFactory(
        tenant=world.tenant,
        partner=world.partner,
        owner=world.partner_rep.user,
        name="Northwind deal",
        **QUALIFIED,
    )


def url(name: str, deal: Opportunity, *extra: int) -> str:
    return reverse(f"vendor:{name}", args=[deal.pk, *extra])


def state(world, in_tenant, deal) -> tuple:
    with in_tenant(world.tenant):
        d = Opportunity.objects.get(pk=deal.pk)
        return (
            d.stage_id,
            d.status,
            d.name,
            StageMove.objects.filter(opportunity=d).count(),
            list(CoSellRequest.objects.values_list("status", "assignee_id")),
            AuditEntry.objects.count(),
            DomainEvent.objects.count(),
            d.last_activity_at,
        )


def names(response) -> list[str]:
    return [d.name for d in response.context["opportunities"]]


# --- Role matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, DETAIL, strict=True)))
def test_who_opens_a_deal_page(world, deal, client_for, actor, expected):
    response = client_for(member(world, actor)).get(url("opportunity_detail", deal))
    assert response.status_code == expected


@pytest.mark.parametrize("name", ["vendor:pipeline", "vendor:opportunity_create"])
@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, LIST, strict=True)))
def test_who_opens_the_pipeline_and_the_new_deal_page(
    world, stages, client_for, name, actor, expected
):
    assert client_for(member(world, actor)).get(reverse(name)).status_code == expected


SUCCESS = {
    "opportunity_move": "Moved to Qualification.",
    "opportunity_close_lost": "The deal is closed as lost.",
    "opportunity_edit": "Deal “Renamed” saved.",
    "opportunity_activity": "Note added to the timeline.",
    "cosell_assign": "cm@acme.test is assigned; the partner is notified.",
    "cosell_decline": "The request is declined; the partner is notified.",
}


def posts(world, stages, cosell) -> dict[str, tuple[tuple, dict]]:
    return {
        "opportunity_move": ((), {"stage": stage(stages, "Qualification").pk}),
        "opportunity_close_lost": ((), {"reason": "timing"}),
        "opportunity_edit": ((), {"name": "Renamed"}),
        "opportunity_activity": ((), {"kind": "note", "body": "x", "vendor_internal": "on"}),
        "cosell_assign": ((cosell.pk,), {"person": world.channel_manager.pk, "reason": "Knows it"}),
        "cosell_decline": ((cosell.pk,), {"reason": "No capacity"}),
    }


@pytest.fixture
def cosell(world, deal, in_tenant) -> CoSellRequest:
    """A marketing-support request; the channel manager and the vendor admin give that help."""
    with in_tenant(world.tenant):
        kind = CoSellResourceType.objects.for_tenant(world.tenant).get(code="marketing_support")
        for person in (world.channel_manager, world.vendor_admin):
            CoSellResource.objects.create(
                tenant=world.tenant, person=person, weekly_capacity=3
            ).types.set([kind], through_defaults={"tenant": world.tenant})
        return CoSellRequest.objects.create(
            tenant=world.tenant,
            opportunity=deal,
            resource_type=kind,
            need="A webinar",
            need_by=timezone.localdate() + timedelta(days=5),
            requested_by=world.partner_rep.user,
        )


@pytest.mark.parametrize(
    "action",
    [
        "opportunity_move",
        "opportunity_close_lost",
        "opportunity_edit",
        "opportunity_activity",
        "cosell_assign",
        "cosell_decline",
    ],
)
@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, ACTION, strict=True)))
def test_who_may_act_on_a_deal(
    world,
    stages,
    deal,
    cosell,
    client_for,
    in_tenant,
    sent_tasks,
    django_capture_on_commit_callbacks,
    action,
    actor,
    expected,
):
    extra, data = posts(world, stages, cosell)[action]
    before = state(world, in_tenant, deal)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(member(world, actor)).post(url(action, deal, *extra), data)
    assert response.status_code == expected
    after = state(world, in_tenant, deal)
    if expected == 302 and actor != "anonymous":
        assert response.url == url("opportunity_detail", deal)
        expected_message = SUCCESS[action].replace(
            "cm@acme.test", world.channel_manager.user.display_name
        )
        assert messages_of(response) == [expected_message]
        assert after != before
    else:
        assert after == before
        assert sent_tasks == []


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, ACTION, strict=True)))
def test_only_the_vendor_reopens_a_closed_deal(world, deal, client_for, in_tenant, actor, expected):
    client_for(world.channel_manager).post(url("opportunity_close_lost", deal), {"reason": "price"})
    before = state(world, in_tenant, deal)
    response = client_for(member(world, actor)).post(url("opportunity_reopen", deal), {})
    assert response.status_code == expected
    if expected == 302 and actor != "anonymous":
        assert messages_of(response)[-1] == "The deal is open again, in Identification."
        assert state(world, in_tenant, deal)[1] == "open"
    else:
        assert state(world, in_tenant, deal) == before


def test_a_co_sell_request_of_another_deal_is_a_404(
    world, stages, deal, cosell, client_for, in_tenant
):
    other = OpportunityFactory(
        tenant=world.tenant, partner=world.other_partner, owner=world.other_partner_rep.user
    )
    response = client_for(world.channel_manager).post(
        url("cosell_assign", other, cosell.pk), {"person": world.channel_manager.pk}
    )
    assert response.status_code == 404
    with in_tenant(world.tenant):
        assert CoSellRequest.objects.get(pk=cosell.pk).status == "requested"


@pytest.mark.parametrize("who", ["partner_rep", "other_tenant_admin"])
def test_a_co_sell_assignee_must_be_a_vendor_person_of_the_tenant(
    world, deal, cosell, client_for, in_tenant, who
):
    response = client_for(world.channel_manager).post(
        url("cosell_assign", deal, cosell.pk), {"person": world.member(who).pk, "reason": "x"}
    )
    assert messages_of(response) == [f"Pool member: {INVALID_CHOICE}"]
    with in_tenant(world.tenant):
        assert CoSellRequest.objects.get(pk=cosell.pk).status == "requested"


def test_a_co_sell_request_is_assigned_engaged_then_completed(
    world, deal, cosell, client_for, in_tenant
):
    client = client_for(world.channel_manager)
    client.post(
        url("cosell_assign", deal, cosell.pk),
        {"person": world.vendor_admin.pk, "reason": "Knows the customer"},
    )
    refused = client.post(url("cosell_engage", deal, cosell.pk), {"note": "Called"})
    assert refused.status_code == 403  # only the assignee logs the first contact
    client_for(world.vendor_admin).post(url("cosell_engage", deal, cosell.pk), {"note": "Called"})
    response = client.post(url("cosell_complete", deal, cosell.pk), {})
    assert messages_of(response)[-1] == "The request is completed; the partner is notified."
    with in_tenant(world.tenant):
        done = CoSellRequest.objects.get(pk=cosell.pk)
    assert (done.status, done.assignee_id, done.override_reason) == (
        "completed",
        world.vendor_admin.user_id,
        "Knows the customer",
    )
    assert done.engaged_at is not None
    html = (
        client_for(world.partner_rep)
        .get(reverse("partner:opportunity_detail", args=[deal.pk]))
        .content.decode()
    )
    assert "Completed" in html
    assert f"Assigned to {world.vendor_admin.user.display_name}, marketing support" in html


# --- Pipeline table ----------------------------------------------------------------------------


@pytest.fixture
def pipeline(world, stages):
    silver = PartnerTierFactory(tenant=world.tenant, name="Silver", rank=1)
    apac = PartnerOrganizationFactory(
        tenant=world.tenant, tier=silver, name="Pacific Sales", region="APAC"
    )
    rows = [
        ("North 1", world.partner, world.partner_rep.user, Decimal("100"), "Identification"),
        (
            "Contoso 1",
            world.other_partner,
            world.other_partner_rep.user,
            Decimal("900"),
            "Qualification",
        ),
        ("Pacific 1", apac, world.partner_rep.user, Decimal("5000"), "Qualification"),
        ("Direct 1", None, world.channel_manager.user, None, "Identification"),
    ]
    for name, partner, owner, amount, stage_name in rows:
        OpportunityFactory(
            tenant=world.tenant,
            partner=partner,
            owner=owner,
            name=name,
            amount=amount,
            stage=stage(stages, stage_name),
        )
    world.silver, world.apac = silver, apac
    return world


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Direct 1", "Pacific 1", "Contoso 1", "North 1"]),
        ({"partner_name": "north"}, ["North 1"]),
        ({"partner": "apac"}, ["Pacific 1"]),
        ({"source": "direct"}, ["Direct 1"]),
        ({"source": "partner"}, ["Pacific 1", "Contoso 1", "North 1"]),
        ({"tier": "silver"}, ["Pacific 1"]),
        ({"region": "APAC"}, ["Pacific 1"]),
        ({"stage": "Qualification"}, ["Pacific 1", "Contoso 1"]),
        ({"owner_name": "cm@acme"}, ["Direct 1"]),
        ({"owner": "rep"}, ["Pacific 1", "North 1"]),
        ({"amount_min": "500"}, ["Pacific 1", "Contoso 1"]),
        ({"sort": "amount"}, ["North 1", "Contoso 1", "Pacific 1", "Direct 1"]),
    ],
)
def test_the_pipeline_filters(pipeline, stages, client_for, query, expected):
    params = dict(query)
    if params.get("partner") == "apac":
        params["partner"] = pipeline.apac.pk
    if params.get("tier") == "silver":
        params["tier"] = pipeline.silver.pk
    if "stage" in params:
        params["stage"] = stage(stages, params["stage"]).pk
    if params.get("owner") == "rep":
        params["owner"] = pipeline.partner_rep.user_id
    response = client_for(pipeline.channel_manager).get(reverse("vendor:pipeline"), params)
    assert names(response) == expected


def test_the_partner_filter_is_a_text_box_not_a_list_of_every_partner(pipeline, client_for):
    html = client_for(pipeline.vendor_admin).get(reverse("vendor:pipeline")).content.decode()
    assert 'type="hidden" name="partner"' in html
    assert f'<option value="{pipeline.apac.pk}"' not in html


def test_a_forged_partner_filter_shows_an_error_and_no_rows(pipeline, client_for):
    response = client_for(pipeline.vendor_admin).get(
        reverse("vendor:pipeline"), {"partner": pipeline.other_tenant_partner.pk}
    )
    assert names(response) == []
    assert response.context["filter"].errors["partner"] == [INVALID_CHOICE]


def test_the_other_tenant_sees_none_of_this_pipeline(pipeline, client_for):
    response = client_for(pipeline.other_tenant_admin).get(reverse("vendor:pipeline"))
    assert names(response) == []


def test_the_pipeline_query_count_does_not_grow(world, deal, client_for, django_assert_num_queries):
    def add_rows():
        for _ in range(3):
            partner = PartnerOrganizationFactory(tenant=world.tenant, tier=world.tier)
            OpportunityFactory(tenant=world.tenant, partner=partner, owner=world.partner_rep.user)
            OpportunityFactory(tenant=world.tenant, owner=world.channel_manager.user)

    assert_constant_queries(
        client_for(world.channel_manager),
        reverse("vendor:pipeline"),
        add_rows,
        django_assert_num_queries,
    )


# --- Direct deals --------------------------------------------------------------------------------


def direct(**overrides) -> dict:
    data = {
        "customer_name": "Tailspin Toys Ltd",
        "customer_website": "https://shop.tailspin.co.uk",
        "customer_country": "GB",
        "name": "Tailspin renewal",
        "amount": "25000",
        "expected_close_date": (timezone.localdate() + timedelta(days=60)).isoformat(),
        "owner": "",
    }
    data.update(overrides)
    return data


def test_a_channel_manager_creates_a_direct_deal(world, stages, client_for, in_tenant):
    response = client_for(world.channel_manager).post(
        reverse("vendor:opportunity_create"), direct()
    )
    with in_tenant(world.tenant):
        deal = Opportunity.objects.select_related("customer", "stage").get()
    assert response.url == reverse("vendor:opportunity_detail", args=[deal.pk])
    assert messages_of(response) == ["Direct deal “Tailspin renewal” created."]
    assert (deal.partner_id, deal.owner_id, deal.amount, deal.stage.name) == (
        None,
        world.channel_manager.user_id,
        Decimal("25000.00"),
        "Identification",
    )
    assert (deal.customer.name, deal.customer.root_domain, deal.customer.country.code) == (
        "Tailspin Toys Ltd",
        "tailspin.co.uk",
        "GB",
    )


def test_a_direct_deal_reuses_the_customer_with_the_same_domain(
    world, stages, client_for, in_tenant
):
    existing = CustomerFactory(tenant=world.tenant, name="Tailspin", root_domain="tailspin.co.uk")
    client_for(world.vendor_admin).post(
        reverse("vendor:opportunity_create"), direct(owner=world.channel_manager.user_id)
    )
    with in_tenant(world.tenant):
        deal = Opportunity.objects.get()
        assert Customer.objects.count() == 1
    assert (deal.customer_id, deal.owner_id) == (existing.pk, world.channel_manager.user_id)


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"amount": "lots"}, "amount", "Enter a number."),
        ({"customer_name": ""}, "customer_name", "This field is required."),
        ({"name": "x" * 201}, "name", "Ensure this value has at most 200 characters (it has 201)."),
        ({"owner": "partner_rep"}, "owner", INVALID_CHOICE),
        ({"owner": "other_tenant_admin"}, "owner", INVALID_CHOICE),
        (
            {"customer_country": "ZZ"},
            "customer_country",
            "Select a valid choice. ZZ is not one of the available choices.",
        ),
    ],
)
def test_bad_direct_deal_input_is_a_form_error_and_creates_nothing(
    world, stages, client_for, in_tenant, overrides, field, error
):
    if overrides.get("owner") in ("partner_rep", "other_tenant_admin"):
        overrides = {"owner": world.member(overrides["owner"]).user_id}
    response = client_for(world.channel_manager).post(
        reverse("vendor:opportunity_create"), direct(**overrides)
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    with in_tenant(world.tenant):
        assert (Opportunity.objects.count(), Customer.objects.count()) == (0, 0)


def test_a_direct_deal_of_a_tenant_without_stages_is_refused_and_leaves_no_customer(
    world, client_for, in_tenant
):
    response = client_for(world.channel_manager).post(
        reverse("vendor:opportunity_create"), direct()
    )
    assert response.context["form"].non_field_errors() == ["This tenant has no stages yet."]
    with in_tenant(world.tenant):
        assert Customer.objects.count() == 0


def test_the_vendor_deal_page_offers_internal_notes_and_co_sell_answers(
    world, deal, cosell, client_for
):
    html = client_for(world.channel_manager).get(url("opportunity_detail", deal)).content.decode()
    assert "Internal note (partners do not see it)" in html
    assert url("cosell_assign", deal, cosell.pk) in html
    assert url("cosell_decline", deal, cosell.pk) in html
    assert "Executive sponsor" in html


def test_the_pipeline_pages_by_id_without_counting(world, stages, client_for):
    for _ in range(30):
        OpportunityFactory(tenant=world.tenant, partner=world.partner, owner=world.partner_rep.user)
    client = client_for(world.channel_manager)
    first = client.get(reverse("vendor:pipeline"))
    newest = [deal.pk for deal in first.context["opportunities"]]
    assert len(newest) == 25
    assert newest == sorted(newest, reverse=True)
    assert first.context["next_after"] == newest[-1]
    second = client.get(reverse("vendor:pipeline"), {"after": newest[-1]})
    older = [deal.pk for deal in second.context["opportunities"]]
    assert len(older) == 5
    assert max(older) < min(newest)
    assert second.context["next_after"] is None
    assert "Newest" in second.content.decode()

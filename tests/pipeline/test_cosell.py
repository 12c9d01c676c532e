"""Co-sell: eligibility rules, assignment by headroom (concurrently too), the first-contact
clock, the pool API and the vendor pages, with tenant and partner isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, Notification
from accounts.tenancy import tenant_context
from pipeline.defaults import add_business_days
from pipeline.models import (
    CoSellRequest,
    CoSellResource,
    CoSellResourceType,
    CoSellUnavailability,
    Opportunity,
    Stage,
)
from pipeline.selectors.cosell import cosell_utilization, type_eligibility
from pipeline.services.cosell_requests import (
    cosell_request_assign,
    cosell_request_create,
    cosell_sla_sweep,
)
from pipeline.services.stages import stages_install_defaults
from tests.api_clients import api_as
from tests.conftest import World, build_world
from tests.pages import member
from tests.pipeline.factories import OpportunityFactory
from tests.threads import run_at_once

TOMORROW = timezone.localdate() + timedelta(days=1)


def stage_named(tenant, name: str) -> Stage:
    return Stage.objects.for_tenant(tenant).get(name=name)


def kind(tenant, code: str) -> CoSellResourceType:
    return CoSellResourceType.objects.for_tenant(tenant).get(code=code)


def partner_deal(world: World, stage: str = "Solution Development", amount="50000", **extra):
    with tenant_context(world.tenant):
        return OpportunityFactory(
            tenant=world.tenant,
            partner=extra.pop("partner", world.partner),
            owner=extra.pop("owner", world.partner_rep.user),
            stage=stage_named(world.tenant, stage),
            amount=Decimal(amount) if amount is not None else None,
            **extra,
        )


def in_pool(world: World, person, codes=("pre_sales_engineer",), capacity=2, **extra):
    with tenant_context(world.tenant):
        resource = CoSellResource.objects.create(
            tenant=world.tenant, person=person, weekly_capacity=capacity, **extra
        )
        resource.types.set(
            [kind(world.tenant, c) for c in codes],
            through_defaults={"tenant_id": resource.tenant_id},
        )
        return resource


def ask(world: World, deal: Opportunity, code: str = "pre_sales_engineer", actor=None):
    with tenant_context(world.tenant):
        return cosell_request_create(
            tenant=world.tenant,
            actor=actor or world.partner_rep,
            opportunity_id=deal.pk,
            resource_type=code,
            need="Architecture workshop",
            need_by=TOMORROW,
        )


@pytest.fixture
def cosell_world(world: World) -> World:
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    with tenant_context(world.other_tenant):
        stages_install_defaults(tenant=world.other_tenant)
    return world


# --- Eligibility -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "stage", "amount", "eligible"),
    [
        ("pre_sales_engineer", "Identification", "50000", False),
        ("pre_sales_engineer", "Qualification", "50000", False),
        ("pre_sales_engineer", "Solution Development", "50000", True),
        ("pre_sales_engineer", "Proposal / Evaluation", None, True),
        ("pre_sales_engineer", "Negotiation / Closing", "1", True),
        ("executive_sponsor", "Solution Development", "500000", False),
        ("executive_sponsor", "Proposal / Evaluation", "99999.99", False),
        ("executive_sponsor", "Proposal / Evaluation", "100000", True),
        ("executive_sponsor", "Negotiation / Closing", "250000", True),
        ("executive_sponsor", "Negotiation / Closing", None, False),
        ("pricing_desk", "Qualification", "50000", False),
        ("pricing_desk", "Proposal / Evaluation", "10", True),
        ("solution_architect", "Solution Development", "24999", False),
        ("solution_architect", "Solution Development", "25000", True),
        ("marketing_support", "Identification", None, True),
        ("marketing_support", "Proposal / Evaluation", "50000", False),
        ("competitive_specialist", "Qualification", "5", True),
    ],
)
def test_eligibility_table(cosell_world, code, stage, amount, eligible):
    deal = partner_deal(cosell_world, stage, amount)
    with tenant_context(cosell_world.tenant):
        result = type_eligibility(kind(cosell_world.tenant, code), deal)
    assert result.eligible is eligible
    assert result.reasons  # always says why


def test_direct_and_closed_deals_qualify_for_nothing(cosell_world):
    w = cosell_world
    direct = partner_deal(w, partner=None, owner=w.vendor_admin.user)
    with tenant_context(w.tenant):
        result = type_eligibility(kind(w.tenant, "pre_sales_engineer"), direct)
    assert (result.eligible, result.reasons) == (
        False,
        ("Co-sell help is for open partner deals.",),
    )


def test_the_deal_page_shows_what_help_qualifies_and_why(cosell_world, client_for):
    w = cosell_world
    deal = partner_deal(w, "Solution Development", "50000")
    html = (
        client_for(w.partner_rep)
        .get(reverse("partner:opportunity_detail", args=[deal.pk]))
        .content.decode()
    )
    assert "Help this deal qualifies for" in html
    assert (
        "In Solution Development (qualifying stages: Solution Development or "
        "Proposal / Evaluation or Negotiation / Closing)." in html
    )
    assert "The amount must be at least 100,000.00 USD." in html


# --- Assignment --------------------------------------------------------------------------------


def test_the_least_loaded_eligible_person_with_headroom_is_assigned(cosell_world):
    w = cosell_world
    busy = in_pool(w, w.channel_manager, capacity=2)
    free = in_pool(w, w.vendor_admin, capacity=2)
    first = ask(w, partner_deal(w))
    with tenant_context(w.tenant):
        one = cosell_request_assign(tenant=w.tenant, actor=w.channel_manager, request_id=first.pk)
    second = ask(w, partner_deal(w))
    with tenant_context(w.tenant):
        two = cosell_request_assign(tenant=w.tenant, actor=w.channel_manager, request_id=second.pk)
    assert one.request.assigned_resource_id == busy.pk  # a tie: the lower id
    assert two.request.assigned_resource_id == free.pk  # then the less loaded
    assert (one.request.load, one.request.assigned_at is not None) == (1, True)


def test_region_breaks_a_tie_of_load(cosell_world):
    w = cosell_world
    in_pool(w, w.channel_manager, regions=["APAC"])
    emea = in_pool(w, w.vendor_admin, regions=[w.partner.region])
    request = ask(w, partner_deal(w))
    with tenant_context(w.tenant):
        outcome = cosell_request_assign(
            tenant=w.tenant, actor=w.channel_manager, request_id=request.pk
        )
    assert outcome.request.assigned_resource_id == emea.pk


def test_an_unavailable_person_is_skipped_and_nobody_left_is_a_recorded_refusal(cosell_world):
    w = cosell_world
    away = in_pool(w, w.channel_manager)
    with tenant_context(w.tenant):
        CoSellUnavailability.objects.create(
            tenant=w.tenant, resource=away, start=timezone.localdate(), end=TOMORROW
        )
    request = ask(w, partner_deal(w))

    response = api_as(w, "channel_manager").post(
        f"/api/v1/cosell-requests/{request.pk}/assign/", {}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_capacity"
    with tenant_context(w.tenant):
        stored = CoSellRequest.objects.get(pk=request.pk)
    assert (stored.status, stored.assigned_resource_id) == ("requested", None)
    assert stored.capacity_refused_at is not None


def test_an_override_never_goes_over_capacity(cosell_world):
    w = cosell_world
    full = in_pool(w, w.channel_manager, capacity=1)
    first, second = ask(w, partner_deal(w)), ask(w, partner_deal(w))
    client = api_as(w, "vendor_admin")
    body = {"person_id": w.channel_manager.pk, "reason": "Knows the account"}

    ok = client.post(f"/api/v1/cosell-requests/{first.pk}/assign/", body, format="json")
    over = client.post(f"/api/v1/cosell-requests/{second.pk}/assign/", body, format="json")

    assert ok.status_code == 200
    assert over.status_code == 409
    with tenant_context(w.tenant):
        assert CoSellRequest.objects.filter(assigned_resource=full).count() == 1


def test_hours_count_the_kind_of_help_against_capacity(cosell_world):
    w = cosell_world
    in_pool(w, w.channel_manager, capacity=10, capacity_unit="hours")  # engineer: 8 h each
    first, second = ask(w, partner_deal(w)), ask(w, partner_deal(w))
    with tenant_context(w.tenant):
        one = cosell_request_assign(tenant=w.tenant, actor=w.channel_manager, request_id=first.pk)
        two = cosell_request_assign(tenant=w.tenant, actor=w.channel_manager, request_id=second.pk)
    assert (one.request.load, one.refused_for_capacity, two.refused_for_capacity) == (
        8,
        False,
        True,
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_assignments_never_exceed_capacity(transactional_db):
    """Six requests assigned at the same moment, each in its own transaction and
    connection, to a pool of two people with capacity 2 each: exactly four are assigned,
    two per person, and the two others are refused for capacity."""
    w = build_world()
    with tenant_context(w.tenant):
        stages_install_defaults(tenant=w.tenant)
    in_pool(w, w.channel_manager, capacity=2)
    in_pool(w, w.vendor_admin, capacity=2)
    ids = [ask(w, partner_deal(w)).pk for _ in range(6)]

    def assign(request_id: int) -> None:
        with tenant_context(w.tenant):
            cosell_request_assign(tenant=w.tenant, actor=w.channel_manager, request_id=request_id)

    errors = run_at_once(assign, ids)

    assert errors == []
    with tenant_context(w.tenant):
        rows = list(CoSellRequest.objects.values_list("assigned_resource__person", "status"))
        refused = CoSellRequest.objects.filter(capacity_refused_at__isnull=False).count()
    per_person = sorted(p for p, s in rows if s == "assigned")
    assert per_person == sorted([w.channel_manager.pk] * 2 + [w.vendor_admin.pk] * 2)
    assert refused == 2


# --- The first-contact clock ------------------------------------------------------------------


def test_business_days_skip_the_weekend():
    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 12, day, hour, 0, tzinfo=UTC)

    friday, saturday = at(4, 15), at(5, 9)
    assert add_business_days(friday, 1) == at(7, 15)
    assert add_business_days(friday, 2) == at(8, 15)
    assert add_business_days(saturday, 1) == at(8, 9)


def test_large_deals_get_the_shorter_clock(cosell_world):
    w = cosell_world
    small = ask(w, partner_deal(w, amount="50000"))
    large = ask(w, partner_deal(w, amount="100000"))
    now = timezone.now()
    assert add_business_days(now, 2) - small.sla_due_at < timedelta(minutes=1)
    assert add_business_days(now, 1) - large.sla_due_at < timedelta(minutes=1)


def test_the_sweep_marks_a_breach_once_and_tells_the_active_channel_manager(cosell_world):
    w = cosell_world
    with tenant_context(w.tenant):
        w.partner.channel_manager = w.channel_manager.user
        w.partner.save(update_fields=["channel_manager"])
    late, engaged = ask(w, partner_deal(w)), ask(w, partner_deal(w))
    with tenant_context(w.tenant):
        CoSellRequest.objects.filter(pk__in=[late.pk, engaged.pk]).update(
            sla_due_at=timezone.now() - timedelta(hours=1)
        )
        CoSellRequest.objects.filter(pk=engaged.pk).update(engaged_at=timezone.now())
        first = cosell_sla_sweep(tenant=w.tenant)
        again = cosell_sla_sweep(tenant=w.tenant)
        told = list(
            Notification.objects.filter(verb="cosell_sla_breached").values_list(
                "recipient_id", flat=True
            )
        )
        breached = list(
            CoSellRequest.objects.filter(sla_breached_at__isnull=False).values_list("pk", flat=True)
        )
    assert (first, again) == (1, 0)
    assert told == [w.channel_manager.user_id]
    assert breached == [late.pk]


# --- API: requests list and the pool ----------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status", "count"),
    [
        (None, 401, None),
        ("vendor_admin", 200, 3),
        ("channel_manager", 200, 3),
        ("partner_admin", 200, 2),
        ("partner_rep", 200, 1),
        ("other_partner_admin", 200, 1),
        ("other_tenant_admin", 200, 0),
    ],
)
def test_request_list_is_scoped(cosell_world, actor, status, count):
    w = cosell_world
    ask(w, partner_deal(w))
    ask(w, partner_deal(w, owner=w.partner_admin.user), actor=w.partner_admin)
    ask(
        w,
        partner_deal(w, partner=w.other_partner, owner=w.other_partner_rep.user),
        actor=w.other_partner_rep,
    )

    response = api_as(w, actor).get("/api/v1/cosell-requests/")

    assert response.status_code == status
    if count is not None:
        assert len(response.json()["results"]) == count


RESOURCES = "/api/v1/cosell-resources/"


@pytest.mark.parametrize(
    ("actor", "read", "write"),
    [
        (None, 401, 401),
        ("vendor_admin", 200, 201),
        ("channel_manager", 200, 403),
        ("partner_admin", 403, 403),
        ("partner_rep", 403, 403),
        ("other_tenant_admin", 200, 400),
    ],
)
def test_pool_api_role_matrix(cosell_world, actor, read, write):
    w = cosell_world
    in_pool(w, w.channel_manager)
    body = {
        "person_id": w.vendor_admin.pk,
        "types": ["executive_sponsor", "pricing_desk"],
        "regions": ["EMEA"],
        "product_lines": ["cloud"],
        "weekly_capacity": 3,
    }
    client = api_as(w, actor)

    listed = client.get(RESOURCES)
    created = client.post(RESOURCES, body, format="json")

    assert (listed.status_code, created.status_code) == (read, write)
    if read == 200:
        expected = [] if actor == "other_tenant_admin" else [w.channel_manager.pk]
        assert [r["person_id"] for r in listed.json()["results"]] == expected
    if write == 201:
        assert created.json() | {"id": 0} == {
            "id": 0,
            "person_id": w.vendor_admin.pk,
            "name": w.vendor_admin.user.display_name,
            "types": ["executive_sponsor", "pricing_desk"],
            "regions": ["EMEA"],
            "product_lines": ["cloud"],
            "weekly_capacity": 3,
            "capacity_unit": "engagements",
            "is_active": True,
            "unavailability": [],
        }
    with tenant_context(w.tenant):
        assert CoSellResource.objects.count() == (2 if write == 201 else 1)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"person_id": "PARTNER"}, "person_id"),
        ({"person_id": "OTHER_TENANT"}, "person_id"),
        ({"person_id": "7"}, "person_id"),
        ({"types": ["lunch"]}, "types"),
        ({"types": []}, "types"),
        ({"types": "pricing_desk"}, "types"),
        ({"regions": ["MARS"]}, "regions"),
        ({"product_lines": ["<script>" * 10]}, "product_lines"),
        ({"weekly_capacity": 0}, "weekly_capacity"),
        ({"weekly_capacity": "3"}, "weekly_capacity"),
        ({"weekly_capacity": 10_000}, "weekly_capacity"),
        ({"capacity_unit": "days"}, "capacity_unit"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_pool_api_refuses_bad_input(cosell_world, overrides, field):
    w = cosell_world
    people = {"PARTNER": w.partner_admin.pk, "OTHER_TENANT": w.other_tenant_admin.pk}
    body = {"person_id": w.vendor_admin.pk, "types": ["pricing_desk"], "weekly_capacity": 3}
    body.update({k: people.get(v, v) if k == "person_id" else v for k, v in overrides.items()})

    response = api_as(w, "vendor_admin").post(RESOURCES, body, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    with tenant_context(w.tenant):
        assert not CoSellResource.objects.exists()


def test_pool_member_detail_and_patch_are_scoped(cosell_world):
    w = cosell_world
    resource = in_pool(w, w.channel_manager)
    url = f"{RESOURCES}{resource.pk}/"

    foreign = api_as(w, "other_tenant_admin").patch(url, {"weekly_capacity": 9}, format="json")
    changed = api_as(w, "vendor_admin").patch(
        url, {"weekly_capacity": 9, "types": ["pricing_desk"]}, format="json"
    )
    refused = api_as(w, "vendor_admin").patch(url, {"person_id": 1}, format="json")

    assert foreign.status_code == 404
    assert api_as(w, "other_tenant_admin").get(url).status_code == 404
    assert changed.status_code == 200
    assert (changed.json()["weekly_capacity"], changed.json()["types"]) == (9, ["pricing_desk"])
    assert refused.status_code == 400
    with tenant_context(w.tenant):
        assert AuditEntry.objects.filter(verb="cosell_resource_changed").count() == 1


# --- Pages -------------------------------------------------------------------------------------

PAGE_ACTORS = ("anonymous", "vendor_admin", "channel_manager", "partner_admin", "partner_rep")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("vendor:cosell_queue", (302, 200, 200, 403, 403)),
        ("vendor:cosell_workload", (302, 200, 200, 403, 403)),
        ("vendor:cosell_settings", (302, 200, 403, 403, 403)),
        ("vendor:cosell_type_create", (302, 200, 403, 403, 403)),
    ],
)
def test_vendor_co_sell_pages_role_matrix(cosell_world, client_for, name, expected):
    w = cosell_world
    in_pool(w, w.channel_manager)
    codes = tuple(
        client_for(member(w, actor)).get(reverse(name)).status_code for actor in PAGE_ACTORS
    )
    assert codes == expected


def test_pages_of_another_tenants_pool_are_404(cosell_world, client_for):
    w = cosell_world
    resource = in_pool(w, w.channel_manager)
    with tenant_context(w.tenant):
        type_id = kind(w.tenant, "pricing_desk").pk
        away = CoSellUnavailability.objects.create(
            tenant=w.tenant, resource=resource, start=TOMORROW, end=TOMORROW
        )
    outsider = client_for(w.other_tenant_admin)
    for url in (
        reverse("vendor:cosell_person", args=[resource.pk]),
        reverse("vendor:cosell_pool_person", args=[resource.pk]),
        reverse("vendor:cosell_type_edit", args=[type_id]),
    ):
        assert outsider.get(url).status_code == 404
    assert outsider.post(reverse("vendor:cosell_away_remove", args=[away.pk])).status_code == 404
    request = ask(w, partner_deal(w))
    assign = outsider.post(reverse("vendor:queue_assign", args=[request.pk]), {})
    assert assign.status_code == 404
    with tenant_context(w.tenant):
        assert CoSellUnavailability.objects.count() == 1
        assert CoSellRequest.objects.get(pk=request.pk).status == "requested"


def test_the_queue_leads_with_overdue_requests_and_their_money(cosell_world, client_for):
    w = cosell_world
    later = ask(w, partner_deal(w, name="Later deal", amount="20000"))
    overdue = ask(w, partner_deal(w, name="Overdue deal", amount="75000"))
    with tenant_context(w.tenant):
        CoSellRequest.objects.filter(pk=overdue.pk).update(
            sla_due_at=timezone.now() - timedelta(hours=2)
        )
    response = client_for(w.channel_manager).get(reverse("vendor:cosell_queue"))
    rows = response.context["requests"]
    assert [r.pk for r in rows] == [overdue.pk, later.pk]
    html = response.content.decode()
    assert html.index("Overdue deal") < html.index("Later deal")
    assert "75,000.00 USD" in html
    assert response.context["summary"].overdue == 1


def test_the_queue_query_count_does_not_grow_with_rows(cosell_world, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = cosell_world
    in_pool(w, w.channel_manager)
    client = client_for(w.channel_manager)
    ask(w, partner_deal(w))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("vendor:cosell_queue"))
    for _ in range(4):
        ask(w, partner_deal(w))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("vendor:cosell_queue"))
    assert len(many) == len(few)


def test_the_pool_settings_add_a_person_and_days_away(cosell_world, client_for):
    w = cosell_world
    client = client_for(w.vendor_admin)
    with tenant_context(w.tenant):
        pricing = kind(w.tenant, "pricing_desk")
    response = client.post(
        reverse("vendor:cosell_settings"),
        {
            "person": w.channel_manager.pk,
            "types": [pricing.pk],
            "regions": ["EMEA"],
            "product_lines": "cloud, security",
            "weekly_capacity": "4",
            "capacity_unit": "engagements",
        },
    )
    assert response.status_code == 302
    with tenant_context(w.tenant):
        resource = CoSellResource.objects.get()
    assert (resource.person_id, resource.product_lines, resource.weekly_capacity) == (
        w.channel_manager.pk,
        ["cloud", "security"],
        4,
    )
    bad = client.post(
        reverse("vendor:cosell_away_add", args=[resource.pk]),
        {"start": TOMORROW.isoformat(), "end": timezone.localdate().isoformat()},
    )
    good = client.post(
        reverse("vendor:cosell_away_add", args=[resource.pk]),
        {"start": TOMORROW.isoformat(), "end": TOMORROW.isoformat(), "note": "<b>Leave</b>"},
    )
    assert (bad.status_code, good.status_code) == (302, 302)
    with tenant_context(w.tenant):
        assert list(CoSellUnavailability.objects.values_list("note", flat=True)) == ["<b>Leave</b>"]
    page = client.get(reverse("vendor:cosell_pool_person", args=[resource.pk])).content.decode()
    assert "&lt;b&gt;Leave&lt;/b&gt;" in page


def test_a_type_rule_is_edited_by_the_vendor_admin(cosell_world, client_for):
    w = cosell_world
    with tenant_context(w.tenant):
        engineer = kind(w.tenant, "pre_sales_engineer")
        qualification = stage_named(w.tenant, "Qualification")
    response = client_for(w.vendor_admin).post(
        reverse("vendor:cosell_type_edit", args=[engineer.pk]),
        {
            "name": "Pre-sales engineer",
            "stages": [qualification.pk],
            "min_amount": "5000",
            "hours_per_request": "6",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    deal = partner_deal(w, "Qualification", "6000")
    with tenant_context(w.tenant):
        engineer.refresh_from_db()
        assert type_eligibility(engineer, deal).eligible is True
        assert engineer.min_amount == Decimal("5000")


def test_utilization_per_person_and_type(cosell_world):
    w = cosell_world
    resource = in_pool(w, w.channel_manager, capacity=4)
    for _ in range(3):
        request = ask(w, partner_deal(w))
        with tenant_context(w.tenant):
            cosell_request_assign(tenant=w.tenant, actor=w.channel_manager, request_id=request.pk)
    today = timezone.localdate()
    with tenant_context(w.tenant):
        result = cosell_utilization(w.tenant, today, today)
    [person] = result.people
    engineer = next(t for t in result.types if t.resource_type.code == "pre_sales_engineer")
    assert (person.resource.pk, person.capacity, person.load, person.utilization) == (
        resource.pk,
        4,
        3,
        Decimal("75.0"),
    )
    assert (engineer.unit, engineer.capacity, engineer.load, engineer.requests) == (
        "engagements",
        4,
        3,
        3,
    )


def test_capacity_is_prorated_for_working_days_away(cosell_world):
    """Away Tuesday and Wednesday (2 of 5 working days) and the Saturday: 60 % of the week."""
    w = cosell_world
    resource = in_pool(w, w.channel_manager, capacity=10)
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday() + 7)
    with tenant_context(w.tenant):
        for start, end in ((1, 2), (5, 5)):
            CoSellUnavailability.objects.create(
                tenant=w.tenant,
                resource=resource,
                start=monday + timedelta(days=start),
                end=monday + timedelta(days=end),
            )
        result = cosell_utilization(w.tenant, monday, monday + timedelta(days=7))
    [person] = result.people
    assert [(week.week, week.capacity) for week in person.weeks] == [
        (monday, Decimal(6)),
        (monday + timedelta(days=7), Decimal(10)),
    ]
    assert person.capacity == Decimal(16)


def test_an_assignment_sees_this_weeks_prorated_capacity(cosell_world):
    """Capacity 2 a week, away 3 of this week's working days (not today): 0.8 is left,
    less than one engagement, so nobody has headroom."""
    w = cosell_world
    resource = in_pool(w, w.channel_manager, capacity=2)
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    away = [d for d in (monday + timedelta(days=i) for i in range(5)) if d != today][:3]
    with tenant_context(w.tenant):
        for day in away:
            CoSellUnavailability.objects.create(
                tenant=w.tenant, resource=resource, start=day, end=day
            )
    request = ask(w, partner_deal(w))
    with tenant_context(w.tenant):
        cosell_request_assign(tenant=w.tenant, actor=w.channel_manager, request_id=request.pk)
        request.refresh_from_db()
    assert request.assigned_resource_id is None
    assert request.capacity_refused_at is not None


def test_a_kind_of_help_counts_hours_and_engagements_apart(cosell_world):
    w = cosell_world
    in_pool(w, w.channel_manager, capacity=3)
    in_pool(w, w.vendor_admin, capacity=40, capacity_unit=CoSellResource.CapacityUnit.HOURS)
    for _ in range(2):
        request = ask(w, partner_deal(w))
        with tenant_context(w.tenant):
            cosell_request_assign(tenant=w.tenant, actor=w.channel_manager, request_id=request.pk)
    today = timezone.localdate()
    with tenant_context(w.tenant):
        result = cosell_utilization(w.tenant, today, today)
        hours = kind(w.tenant, "pre_sales_engineer").hours_per_request
    rows = {
        row.unit: (row.capacity, row.load, row.requests)
        for row in result.types
        if row.resource_type.code == "pre_sales_engineer"
    }
    # least loaded first: one request each, in their own unit
    assert rows == {"engagements": (3, 1, 1), "hours": (40, hours, 1)}


def test_a_partner_cancels_their_own_request_and_not_another_partners(cosell_world, client_for):
    w = cosell_world
    deal = partner_deal(w)
    request = ask(w, deal)
    other_deal = partner_deal(w, partner=w.other_partner, owner=w.other_partner_rep.user)
    others = ask(w, other_deal, actor=w.other_partner_rep)
    url = reverse("partner:cosell_cancel", args=[other_deal.pk, others.pk])

    # another partner's request, even through its own deal's URL: 404, nothing changed
    response = client_for(w.partner_admin).post(url)
    assert response.status_code == 404
    response = client_for(w.partner_rep).post(
        reverse("partner:cosell_cancel", args=[deal.pk, others.pk])
    )
    assert response.status_code == 404
    with tenant_context(w.tenant):
        others.refresh_from_db()
        assert others.status == CoSellRequest.Status.REQUESTED
        assert not AuditEntry.objects.filter(verb="cosell_cancelled").exists()

    response = client_for(w.partner_rep).post(
        reverse("partner:cosell_cancel", args=[deal.pk, request.pk])
    )
    assert response.status_code == 302
    with tenant_context(w.tenant):
        request.refresh_from_db()
        assert request.status == CoSellRequest.Status.CANCELLED
        assert request.cancelled_at is not None
        assert AuditEntry.objects.filter(verb="cosell_cancelled").count() == 1

"""/api/v1/commission-plans/: the versions of the tenant's commission plan, a new version,
changes to one not yet in force, and the preview on last quarter's won deals.

Vendor admins read and write; channel managers read (as on the pages); partner roles are
refused (403); another tenant's version is a 404. Bad input is a 400 in the JSON error
shape and changes nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from accounts.tenancy import tenant_context
from commissions.models import PlanVersion, ProductBonus, TierRate
from commissions.services.calculation import quarter_start
from deals.models import ProductLine
from tests.api_clients import api_as
from tests.commissions.api_helpers import NOT_FOUND_BODY
from tests.commissions.conftest import PLAN_START
from tests.conftest import World
from tests.pages import assert_constant_queries

URL = "/api/v1/commission-plans/"
TODAY = timezone.localdate


def plan_url(version_id: int, action: str = "") -> str:
    return f"{URL}{version_id}/" + (f"{action}/" if action else "")


def plans_state(world: World) -> list:
    """Everything a plan request could change, in both tenants."""
    state = []
    for tenant in (world.tenant, world.other_tenant):
        with tenant_context(tenant):
            state.append(
                [
                    list(PlanVersion.objects.order_by("id").values()),
                    list(TierRate.objects.order_by("id").values()),
                    list(ProductBonus.objects.order_by("id").values()),
                    AuditEntry.objects.exclude(verb__startswith="api_token_").count(),
                ]
            )
    return state


@pytest.fixture
def foreign_plan(deals_world: World) -> PlanVersion:
    w = deals_world
    with tenant_context(w.other_tenant):
        return PlanVersion.objects.create(
            tenant=w.other_tenant, name="Globex plan", effective_from=PLAN_START
        )


@pytest.fixture
def upcoming(deals_world: World, plan: PlanVersion) -> PlanVersion:
    w = deals_world
    with tenant_context(w.tenant):
        version = PlanVersion.objects.create(
            tenant=w.tenant, name="Next", effective_from=TODAY() + timedelta(days=30)
        )
        TierRate.objects.create(tenant=w.tenant, version=version, tier=w.tier, rate=Decimal(12))
    return version


def cloud(world: World) -> ProductLine:
    with tenant_context(world.tenant):
        return ProductLine.objects.get(tenant=world.tenant, code="cloud")


# --- Read ------------------------------------------------------------------------------------


READERS = [
    (None, 401),
    ("vendor_admin", 200),
    ("channel_manager", 200),
    ("partner_admin", 403),
    ("partner_rep", 403),
    ("other_partner_admin", 403),
    ("other_tenant_partner_admin", 403),
]


@pytest.mark.parametrize(("actor", "status"), READERS)
def test_list_role_matrix(deals_world, plan, upcoming, foreign_plan, actor, status):
    response = api_as(deals_world, actor).get(URL)

    assert response.status_code == status
    if status == 200:
        assert [v["name"] for v in response.json()["results"]] == ["Next", "Standard"]


def test_other_tenant_sees_only_its_own(deals_world, plan, foreign_plan):
    response = api_as(deals_world, "other_tenant_admin").get(URL)
    assert [v["id"] for v in response.json()["results"]] == [foreign_plan.pk]


def test_a_version_in_full(deals_world, plan, upcoming):
    w = deals_world
    body = api_as(w, "channel_manager").get(plan_url(plan.pk)).json()

    assert body == {
        "id": plan.pk,
        "name": "Standard",
        "effective_from": "2020-01-01",
        "effective_until": (upcoming.effective_from - timedelta(days=1)).isoformat(),
        "state": "in_force",
        "editable": False,
        "registered_multiplier": "1.0000",
        "unregistered_multiplier": "0.5000",
        "cap_per_deal": None,
        "accelerator_threshold": None,
        "accelerator_rate": None,
        "tier_rates": [{"tier_id": w.tier.pk, "tier_name": "Gold", "rate": "10.0000"}],
        "product_bonuses": [
            {
                "product_line_id": cloud(w).pk,
                "product_line_code": "cloud",
                "product_line_name": cloud(w).name,
                "bonus": "2.0000",
            }
        ],
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    upcoming_body = api_as(w, "vendor_admin").get(plan_url(upcoming.pk)).json()
    assert (upcoming_body["state"], upcoming_body["editable"]) == ("upcoming", True)
    assert upcoming_body["effective_until"] is None


@pytest.mark.parametrize(
    ("actor", "status"),
    [*READERS[:3], ("partner_admin", 403), ("other_tenant_admin", 404)],
)
def test_detail_and_preview_role_matrix(deals_world, plan, actor, status):
    client = api_as(deals_world, actor)
    for url in (plan_url(plan.pk), plan_url(plan.pk, "preview")):
        response = client.get(url)
        assert response.status_code == status, url
        if status == 404:
            assert response.json() == NOT_FOUND_BODY


@pytest.mark.parametrize("version_id", ["999999", "0"])
def test_unknown_ids_are_404_in_the_error_shape(deals_world, plan, version_id):
    response = api_as(deals_world, "vendor_admin").get(f"{URL}{version_id}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_list_costs_constant_queries(deals_world, plan, django_assert_num_queries):
    w = deals_world

    def add_rows() -> None:
        with tenant_context(w.tenant):
            for days in (40, 50, 60):
                version = PlanVersion.objects.create(
                    tenant=w.tenant, name=f"V{days}", effective_from=TODAY() + timedelta(days)
                )
                TierRate.objects.create(tenant=w.tenant, version=version, tier=w.tier, rate=1)
                ProductBonus.objects.create(
                    tenant=w.tenant, version=version, product_line=cloud(w), bonus=1
                )

    assert_constant_queries(api_as(w, "vendor_admin"), URL, add_rows, django_assert_num_queries)


# --- Preview ---------------------------------------------------------------------------------


def test_preview_is_the_pages_calculation(deals_world, plan, partner_deal, close_won):
    w = deals_world
    last_quarter = quarter_start(quarter_start(TODAY()) - timedelta(days=1))
    deal = partner_deal(amount=Decimal("10000"), name="Harbor refresh")
    close_won(deal, on=last_quarter + timedelta(days=5))
    with tenant_context(w.tenant):
        richer = PlanVersion.objects.create(
            tenant=w.tenant, name="Richer", effective_from=TODAY() + timedelta(days=10)
        )
        TierRate.objects.create(tenant=w.tenant, version=richer, tier=w.tier, rate=Decimal(20))

    body = api_as(w, "channel_manager").get(plan_url(richer.pk, "preview")).json()

    end = quarter_start(TODAY()) - timedelta(days=1)
    assert body == {
        "version_id": richer.pk,
        "start": last_quarter.isoformat(),
        "end": end.isoformat(),
        "currency": "USD",
        "rows": [
            {
                "opportunity_id": deal.pk,
                "opportunity_name": "Harbor refresh",
                "partner_id": w.partner.pk,
                "partner_name": "Northwind Resellers",
                "closed_on": (last_quarter + timedelta(days=5)).isoformat(),
                "deal_amount": "10000.00",
                "accrued": "500.00",
                "would_pay": "1000.00",
            }
        ],
        "accrued_total": "500.00",
        "would_pay_total": "1000.00",
        "difference": "500.00",
    }


# --- Create ----------------------------------------------------------------------------------


def test_a_vendor_admin_creates_a_version_copied_from_the_one_in_force(deals_world, plan):
    w = deals_world
    start = TODAY() + timedelta(days=20)
    response = api_as(w, "vendor_admin").post(
        URL,
        {
            "name": "Summer",
            "effective_from": start.isoformat(),
            "unregistered_multiplier": "0.25",
            "tier_rates": [{"tier_id": w.tier.pk, "rate": "12.5"}],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["name"], body["effective_from"], body["state"]) == (
        "Summer",
        start.isoformat(),
        "upcoming",
    )
    assert body["unregistered_multiplier"] == "0.2500"
    assert body["registered_multiplier"] == "1.0000"  # copied
    assert body["tier_rates"] == [{"tier_id": w.tier.pk, "tier_name": "Gold", "rate": "12.5000"}]
    assert [b["bonus"] for b in body["product_bonuses"]] == ["2.0000"]  # copied
    with tenant_context(w.tenant):
        version = PlanVersion.objects.get(pk=body["id"])
        assert AuditEntry.objects.filter(verb="plan_version_created").count() == 1
    assert version.created_by_id == w.vendor_admin.user_id


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_tenant_partner_admin", 403),
    ],
)
def test_only_vendor_admins_create(deals_world, plan, actor, status):
    before = plans_state(deals_world)
    response = api_as(deals_world, actor).post(
        URL, {"name": "X", "effective_from": (TODAY() + timedelta(days=9)).isoformat()}, "json"
    )
    assert response.status_code == status
    assert set(response.json()) == {"error"}
    assert plans_state(deals_world) == before


FUTURE = "FUTURE"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 5}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "<b>Bold</b> plan"}, "name"),
        ({"name": "<script>alert(1)</script>"}, "name"),
        ({"effective_from": "2026-02-30"}, "effective_from"),
        ({"effective_from": 20260101}, "effective_from"),
        ({"effective_from": "TODAY"}, "effective_from"),
        ({"registered_multiplier": "-1"}, "registered_multiplier"),
        ({"registered_multiplier": True}, "registered_multiplier"),
        ({"registered_multiplier": "11"}, "registered_multiplier"),
        ({"unregistered_multiplier": "abc"}, "unregistered_multiplier"),
        ({"cap_per_deal": "-5"}, "cap_per_deal"),
        ({"cap_per_deal": "1e20"}, "cap_per_deal"),
        ({"accelerator_rate": "101"}, "accelerator_rate"),
        ({"accelerator_rate": "5"}, "accelerator_rate"),  # without a threshold
        ({"tier_rates": [{"tier_id": "TIER", "rate": "-1"}]}, "tier_rates"),
        ({"tier_rates": [{"tier_id": "TIER", "rate": "100.5"}]}, "tier_rates"),
        ({"tier_rates": [{"tier_id": "FOREIGN_TIER", "rate": "5"}]}, "tier_rates"),
        ({"tier_rates": [{"tier_id": "TIER", "rate": "5", "x": 1}]}, "tier_rates"),
        (
            {"tier_rates": [{"tier_id": "TIER", "rate": "5"}, {"tier_id": "TIER", "rate": "6"}]},
            "tier_rates",
        ),
        ({"tier_rates": {"1": "5"}}, "tier_rates"),
        ({"product_bonuses": [{"product_line_id": 999999, "bonus": "1"}]}, "product_bonuses"),
        ({"product_bonuses": [{"product_line_id": "CLOUD", "bonus": "-1"}]}, "product_bonuses"),
        ({"tenant_id": 1}, "tenant_id"),
        ({"state": "in_force"}, "state"),
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(deals_world, plan, body, field):
    w = deals_world
    replacements = {
        "TIER": w.tier.pk,
        "FOREIGN_TIER": w.other_tenant_partner.tier_id,
        "CLOUD": cloud(w).pk,
        "TODAY": TODAY().isoformat(),
    }

    def resolve(value):  # noqa: ANN001, ANN202
        if isinstance(value, list):
            return [resolve(item) for item in value]
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items()}
        return replacements.get(value, value) if isinstance(value, str) else value

    data = {"name": "Fine", "effective_from": (TODAY() + timedelta(days=9)).isoformat()}
    data.update(resolve(body))
    before = plans_state(w)

    response = api_as(w, "vendor_admin").post(URL, data, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert plans_state(w) == before


def test_a_form_post_is_refused(deals_world, plan):
    before = plans_state(deals_world)
    response = api_as(deals_world, "vendor_admin").post(
        URL, {"name": "X", "effective_from": "2099-01-01"}
    )
    assert response.status_code == 415
    assert plans_state(deals_world) == before


# --- Update ----------------------------------------------------------------------------------


def test_a_version_not_yet_in_force_changes(deals_world, upcoming):
    w = deals_world
    later = upcoming.effective_from + timedelta(days=3)
    response = api_as(w, "vendor_admin").patch(
        plan_url(upcoming.pk),
        {
            "name": "Next, revised",
            "effective_from": later.isoformat(),
            "cap_per_deal": "5000",
            "product_bonuses": [{"product_line_id": cloud(w).pk, "bonus": "3"}],
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["effective_from"], body["cap_per_deal"]) == (
        "Next, revised",
        later.isoformat(),
        "5000.00",
    )
    assert [b["bonus"] for b in body["product_bonuses"]] == ["3.0000"]
    assert body["tier_rates"][0]["rate"] == "12.0000"  # untouched


def test_a_null_bonus_removes_it(deals_world, upcoming):
    w = deals_world
    client = api_as(w, "vendor_admin")
    added = client.patch(
        plan_url(upcoming.pk),
        {"product_bonuses": [{"product_line_id": cloud(w).pk, "bonus": "3"}]},
        format="json",
    )
    assert [b["bonus"] for b in added.json()["product_bonuses"]] == ["3.0000"]

    response = client.patch(
        plan_url(upcoming.pk),
        {"product_bonuses": [{"product_line_id": cloud(w).pk, "bonus": None}]},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["product_bonuses"] == []  # removed, not kept at 0 %


def test_a_version_in_force_is_a_409_and_changes_nothing(deals_world, plan):
    before = plans_state(deals_world)
    response = api_as(deals_world, "vendor_admin").patch(
        plan_url(plan.pk), {"name": "Rewritten"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "never changes" in response.json()["error"]["message"]
    assert plans_state(deals_world) == before


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_update_role_matrix(deals_world, upcoming, actor, status):
    before = plans_state(deals_world)
    response = api_as(deals_world, actor).patch(
        plan_url(upcoming.pk), {"name": "Taken over"}, format="json"
    )
    assert response.status_code == status
    assert set(response.json()) == {"error"}
    assert plans_state(deals_world) == before


@pytest.mark.parametrize(
    "body",
    [
        {"name": "<i>x</i>"},
        {"effective_from": "2020-06-01"},  # after the earliest version, before today
        {"tier_rates": [{"tier_id": 0, "rate": "5"}]},
        {"cap_per_deal": "-1"},
        {"id": 5},
    ],
)
def test_bad_updates_are_400_and_change_nothing(deals_world, upcoming, body):
    before = plans_state(deals_world)
    response = api_as(deals_world, "vendor_admin").patch(plan_url(upcoming.pk), body, format="json")
    assert response.status_code == 400, response.json()
    assert plans_state(deals_world) == before


def test_a_backfilled_first_version_may_start_in_the_past(deals_world):
    w = deals_world
    response = api_as(w, "vendor_admin").post(
        URL,
        {
            "name": "Backfill",
            "effective_from": "2020-01-01",
            "tier_rates": [{"tier_id": w.tier.pk, "rate": "10"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["state"] == "in_force"
    assert date.fromisoformat(response.json()["effective_from"]) == date(2020, 1, 1)

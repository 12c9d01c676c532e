"""The forecast API: roles, tenant and partner isolation, bad input, targets and
adjustments (nothing stored on a refusal)."""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_context
from analytics.models import ForecastAdjustment, ForecastTarget
from tests.analytics.conftest import generate
from tests.api_clients import api_as

pytestmark = pytest.mark.django_db
URL = "/api/v1/forecast/"
ROW_KEYS = {
    "key",
    "label",
    "closed_won",
    "commit",
    "best_case",
    "pipeline",
    "weighted",
    "calibrated_weighted",
    "target",
    "coverage",
    "adjustment",
}


@pytest.mark.parametrize(
    "group_by", ["partner", "tier", "region", "product_line", "channel_manager"]
)
def test_vendor_rows_have_the_contract_keys(world, group_by):
    generate(world, count=30)
    response = api_as(world, "channel_manager").get(
        URL, {"period": "2027-Q1", "group_by": group_by}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == "2027-Q1"
    assert body["rows"]
    assert all(set(row) == ROW_KEYS for row in body["rows"])


def test_partner_admin_sees_own_figures_and_the_median_only(world):
    generated = generate(world, count=60)
    response = api_as(world, "partner_admin").get(URL, {"period": "2027-Q1"})
    assert response.status_code == 200
    body = response.json()
    assert [row["key"] for row in body["rows"]] == [world.partner.pk]
    assert set(body["median"]) == ROW_KEYS
    text = response.content.decode()
    for other in generated.partners[1:]:
        assert other.name not in text
    vendor = api_as(world, "vendor_admin").get(URL, {"period": "2027-Q1"}).json()
    others = {str(r["key"]): r for r in vendor["rows"] if r["key"] != world.partner.pk}
    own = next(r for r in vendor["rows"] if r["key"] == world.partner.pk)
    assert body["rows"][0]["pipeline"] == own["pipeline"]
    for row in others.values():  # no other partner's figure appears in the answer
        if row["pipeline"] not in (own["pipeline"], body["median"]["pipeline"]):
            assert row["pipeline"] not in text


def test_partner_rep_sees_only_their_own_deals(world):
    generate(world, count=20)
    body = api_as(world, "partner_rep").get(URL, {"period": "2027-Q1"}).json()
    assert "median" not in body
    assert body["rows"][0]["label"] == "Your deals"
    assert body["rows"][0]["pipeline"] == "0.00"  # the generated deals belong to another rep


def test_other_tenant_sees_none_of_it(world):
    generate(world, count=20)
    body = api_as(world, "other_tenant_admin").get(URL, {"period": "2027-Q1"}).json()
    assert body["rows"] == []
    assert body["total"]["pipeline"] == "0.00"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "garbage"}, "period"),
        ({"period": "2027-Q5"}, "period"),
        ({"group_by": "astrology"}, "group_by"),
        ({"period": "<b>2027</b>"}, "period"),
    ],
)
def test_bad_query_is_a_clear_400(world, params, field):
    response = api_as(world, "channel_manager").get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_anonymous_is_401(world):
    assert api_as(world, None).get(URL).status_code == 401


def test_partner_group_by_other_than_partner_is_400(world):
    response = api_as(world, "partner_admin").get(URL, {"group_by": "tier"})
    assert response.status_code == 400


# --- Targets -----------------------------------------------------------------------------------


def put_target(world, actor, **body):
    payload = {
        "period": "2027-Q1",
        "scope": "partner",
        "partner_id": world.partner.pk,
        "amount": "50000.00",
        **body,
    }
    return api_as(world, actor).put("/api/v1/targets/", payload, format="json")


def target_count(world) -> int:
    with tenant_context(world.tenant):
        return ForecastTarget.objects.count()


def test_vendor_admin_sets_and_replaces_a_target(world):
    assert put_target(world, "vendor_admin").status_code == 200
    response = put_target(world, "vendor_admin", amount="70000")
    assert response.status_code == 200
    assert response.json()["amount"] == "70000.00"
    assert target_count(world) == 1
    listed = api_as(world, "channel_manager").get("/api/v1/targets/", {"period": "2027-Q1"})
    assert [t["amount"] for t in listed.json()] == ["70000.00"]
    forecast = api_as(world, "channel_manager").get(URL, {"period": "2027-Q1"}).json()
    assert forecast["rows"] == []  # no deals: a target alone adds no row


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "1e20"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": True}, "amount"),
        ({"period": "garbage"}, "period"),
        ({"scope": "galaxy"}, "scope"),
        ({"partner_id": "3"}, "partner_id"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_targets_are_400_and_store_nothing(world, body, field):
    response = put_target(world, "vendor_admin", **body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert target_count(world) == 0


def test_another_tenants_partner_is_not_found_and_nothing_stored(world):
    response = put_target(world, "vendor_admin", partner_id=world.other_tenant_partner.pk)
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["partner_id"] == ["Not found."]
    assert target_count(world) == 0


@pytest.mark.parametrize("actor", ["channel_manager", "partner_admin", "partner_rep"])
def test_only_vendor_admins_set_targets(world, actor):
    assert put_target(world, actor).status_code == 403
    assert target_count(world) == 0


def test_partners_cannot_read_targets(world):
    assert api_as(world, "partner_admin").get("/api/v1/targets/").status_code == 403


# --- Adjustments -------------------------------------------------------------------------------


def post_adjustment(world, actor, **body):
    payload = {
        "period": "2027-Q1",
        "scope": "partner",
        "partner_id": world.partner.pk,
        "amount": "-2500.00",
        "note": "Two deals slip to Q2",
        **body,
    }
    return api_as(world, actor).post("/api/v1/forecast-adjustments/", payload, format="json")


def adjustment_count(world) -> int:
    with tenant_context(world.tenant):
        return ForecastAdjustment.objects.count()


def test_channel_manager_records_an_adjustment_shown_in_the_rollup(world):
    generate(world, count=30)
    response = post_adjustment(world, "channel_manager")
    assert response.status_code == 201
    assert response.json()["created_by"] == world.channel_manager.user.display_name
    rows = api_as(world, "channel_manager").get(URL, {"period": "2027-Q1"}).json()["rows"]
    own = next(r for r in rows if r["key"] == world.partner.pk)
    assert own["adjustment"] == "-2500.00"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"note": "<script>alert(1)</script>"}, "note"),
        ({"note": ""}, "note"),
        ({"amount": "0"}, "amount"),
        ({"scope": "tenant"}, "scope"),
        ({"partner_id": 999999}, "partner_id"),
        ({"period": "soon"}, "period"),
    ],
)
def test_bad_adjustments_are_400_and_store_nothing(world, body, field):
    response = post_adjustment(world, "channel_manager", **body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert adjustment_count(world) == 0


def test_adjustment_of_another_tenants_partner_stores_nothing(world):
    response = post_adjustment(world, "channel_manager", partner_id=world.other_tenant_partner.pk)
    assert response.status_code == 400
    assert adjustment_count(world) == 0


@pytest.mark.parametrize("actor", ["partner_admin", "partner_rep"])
def test_partners_cannot_adjust(world, actor):
    assert post_adjustment(world, actor).status_code == 403
    assert adjustment_count(world) == 0


def test_the_forecast_api_query_count_does_not_grow(world, django_assert_num_queries):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.analytics.test_forecast_rollup import generate_more

    generate(world, count=10, seed=8)
    client = api_as(world, "channel_manager")
    client.get(URL)  # the token's first use records last_used_at
    cache.clear()
    with CaptureQueriesContext(connection) as baseline:
        assert client.get(URL, {"period": "2027-Q1"}).status_code == 200
    generate_more(world)
    cache.clear()
    with django_assert_num_queries(len(baseline)):
        assert client.get(URL, {"period": "2027-Q1"}).status_code == 200

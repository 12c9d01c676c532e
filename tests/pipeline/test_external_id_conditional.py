"""The upsert by external id honours If-Match (the deal's ETag, as its detail gives it)
and Idempotency-Key like every other write."""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_context
from pipeline.models import Opportunity
from tests.api_clients import api_as
from tests.conftest import World
from tests.pipeline.test_external_ids import body, upsert_url

pytestmark = pytest.mark.django_db


def names(tenant) -> list[str]:
    with tenant_context(tenant):
        return list(Opportunity.objects.order_by("id").values_list("name", flat=True))


def test_the_upsert_answers_the_deal_s_etag_and_honours_if_match(world: World, stages):
    api = api_as(world, "vendor_admin")
    created = api.put(upsert_url(), body(), format="json")
    detail = api.get(f"/api/v1/opportunities/{created.json()['id']}/")
    assert created.status_code == 201
    assert created["ETag"] == detail["ETag"]

    updated = api.put(
        upsert_url(), body(name="Renewed"), format="json", HTTP_IF_MATCH=created["ETag"]
    )
    stale = api.put(upsert_url(), body(name="Stale"), format="json", HTTP_IF_MATCH=created["ETag"])

    assert updated.status_code == 200
    assert updated["ETag"] != created["ETag"]
    assert stale.status_code == 412
    assert stale["ETag"] == updated["ETag"]
    assert names(world.tenant) == ["Renewed"]


def test_if_match_on_a_deal_not_created_yet_is_412_and_creates_nothing(world: World, stages):
    response = api_as(world, "vendor_admin").put(
        upsert_url(), body(), format="json", HTTP_IF_MATCH='"0123"'
    )

    assert response.status_code == 412
    assert response.json()["error"]["code"] == "precondition_failed"
    assert names(world.tenant) == []


def test_if_match_garbage_on_the_upsert_is_400(world: World, stages):
    response = api_as(world, "vendor_admin").put(
        upsert_url(), body(), format="json", HTTP_IF_MATCH="garbage"
    )

    assert response.status_code == 400
    assert names(world.tenant) == []


def test_a_retried_upsert_with_its_key_is_answered_again_without_a_second_write(
    world: World, stages
):
    api = api_as(world, "vendor_admin")
    first = api.put(upsert_url(), body(), format="json", HTTP_IDEMPOTENCY_KEY="sf-1")
    api.put(upsert_url(), body(name="Changed in between"), format="json")

    again = api.put(upsert_url(), body(), format="json", HTTP_IDEMPOTENCY_KEY="sf-1")
    other = api.put(upsert_url(), body(name="X"), format="json", HTTP_IDEMPOTENCY_KEY="sf-1")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert names(world.tenant) == ["Changed in between"]


def test_another_tenant_s_etag_never_matches(world: World, stages):
    created = api_as(world, "vendor_admin").put(upsert_url(), body(), format="json")

    theirs = api_as(world, "other_tenant_admin").put(
        upsert_url(), body(), format="json", HTTP_IF_MATCH=created["ETag"]
    )

    assert theirs.status_code == 412  # no such deal in their tenant
    assert names(world.tenant) == ["Fleet renewal"]

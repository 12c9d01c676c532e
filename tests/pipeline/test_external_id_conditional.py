"""The upsert by external id honours If-Match (the deal's ETag, as its detail gives it),
If-None-Match (`*`: create only) and Idempotency-Key like every other write."""

from __future__ import annotations

import pytest

from accounts.models import DomainEvent
from accounts.tenancy import tenant_context
from pipeline.models import Opportunity
from pipeline.services.stages import stages_install_defaults
from tests.api_clients import api_as
from tests.conftest import World
from tests.pipeline.test_external_ids import body, upsert_url
from tests.threads import run_at_once

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


def events(tenant) -> int:
    with tenant_context(tenant):
        return DomainEvent.objects.count()


def test_if_none_match_star_creates_only_once(world: World, stages):
    api = api_as(world, "vendor_admin")

    created = api.put(upsert_url(), body(), format="json", HTTP_IF_NONE_MATCH="*")
    recorded = events(world.tenant)
    again = api.put(upsert_url(), body(name="Overwrite"), format="json", HTTP_IF_NONE_MATCH="*")

    assert created.status_code == 201
    assert again.status_code == 412
    assert again.json()["error"]["code"] == "precondition_failed"
    assert again.json()["error"]["etag"] == created["ETag"] == again["ETag"]
    assert names(world.tenant) == ["Fleet renewal"]
    assert events(world.tenant) == recorded  # nothing changed, no event


def test_if_none_match_star_in_another_tenant_creates_theirs(world: World, stages):
    with tenant_context(world.other_tenant):
        stages_install_defaults(tenant=world.other_tenant)
    api_as(world, "vendor_admin").put(upsert_url(), body(), format="json")

    theirs = api_as(world, "other_tenant_admin").put(
        upsert_url(), body(name="Theirs"), format="json", HTTP_IF_NONE_MATCH="*"
    )

    assert theirs.status_code == 201  # the id names nothing in their tenant
    assert names(world.tenant) == ["Fleet renewal"]
    assert names(world.other_tenant) == ["Theirs"]


def test_if_none_match_with_a_tag_refuses_that_version_only(world: World, stages):
    api = api_as(world, "vendor_admin")
    created = api.put(upsert_url(), body(), format="json")

    current = api.put(
        upsert_url(), body(name="Same tag"), format="json", HTTP_IF_NONE_MATCH=created["ETag"]
    )
    other = api.put(
        upsert_url(), body(name="Renewed"), format="json", HTTP_IF_NONE_MATCH='"0123", "4567"'
    )

    assert current.status_code == 412
    assert other.status_code == 200
    assert names(world.tenant) == ["Renewed"]


def test_if_match_and_if_none_match_must_both_hold(world: World, stages):
    api = api_as(world, "vendor_admin")
    created = api.put(upsert_url(), body(), format="json")

    both = api.put(
        upsert_url(),
        body(name="Both"),
        format="json",
        HTTP_IF_MATCH=created["ETag"],
        HTTP_IF_NONE_MATCH="*",
    )
    garbage = api.put(upsert_url(), body(name="X"), format="json", HTTP_IF_NONE_MATCH="nope")

    assert both.status_code == 412
    assert garbage.status_code == 400
    assert garbage.json()["error"]["code"] == "precondition_invalid"
    assert names(world.tenant) == ["Fleet renewal"]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_create_only_upserts_create_one_deal_and_refuse_the_rest(world: World, stages):
    clients = [api_as(world, "vendor_admin") for _ in range(6)]
    answers: list[int] = []

    errors = run_at_once(
        lambda client: answers.append(
            client.put(
                upsert_url(external_id="006ONCE"),
                body(name="Once"),
                format="json",
                HTTP_IF_NONE_MATCH="*",
            ).status_code
        ),
        clients,
    )

    assert errors == []
    assert sorted(answers) == [201, 412, 412, 412, 412, 412]
    assert names(world.tenant) == ["Once"]

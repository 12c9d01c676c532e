"""The change feed: the tenant's events with a gapless per-tenant `seq`, resumable with
`after`, narrowed by `types`, vendor roles only, never another tenant's events."""

from __future__ import annotations

import pytest

from accounts.models import DomainEvent, Tenant
from accounts.services.events import event_dispatch, event_record
from accounts.tenancy import tenant_context
from integrations.models import FeedEntry
from pipeline.services.stages import stages_install_defaults
from tests.api_clients import api_as, bearer_client
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
FEED = "/api/v1/events/"


def happen(tenant: Tenant, name: str, subject=None, **payload) -> DomainEvent:  # noqa: ANN001
    with tenant_context(tenant):
        event = event_record(tenant=tenant, name=name, subject=subject, payload=payload)
    event_dispatch(tenant_id=tenant.pk, event_id=event.pk)
    return event


def test_events_are_numbered_per_tenant_and_read_as_the_api_shows_them(world: World):
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    deal = OpportunityFactory(tenant=world.tenant, name="Globex renewal", amount=900)
    happen(world.tenant, "opportunity.created", deal)
    happen(world.other_tenant, "opportunity.won", amount="5")
    happen(world.tenant, "opportunity.won", deal)
    happen(world.tenant, "tenant.created")  # no webhook type: not in the feed

    body = bearer_client(world.vendor_admin).get(FEED).json()
    theirs = bearer_client(world.other_tenant_admin).get(FEED).json()

    assert [(e["seq"], e["type"]) for e in body["results"]] == [
        (1, "opportunity.created"),
        (2, "opportunity.won"),
    ]
    assert body["next_after"] == 2
    first = body["results"][0]
    assert set(first) == {"seq", "type", "timestamp", "data"}
    assert (first["data"]["id"], first["data"]["name"], first["data"]["amount"]) == (
        deal.pk,
        "Globex renewal",
        "900.00",
    )
    assert [(e["seq"], e["data"]["amount"]) for e in theirs["results"]] == [(1, "5")]


def test_reading_on_after_the_last_seq_and_by_type(world: World):
    for n in range(5):
        happen(world.tenant, "opportunity.won" if n % 2 else "opportunity.lost", n=n)
    api = bearer_client(world.vendor_admin)

    page = api.get(FEED + "?after=0&limit=2").json()
    rest = api.get(f"{FEED}?after={page['next_after']}").json()
    won = api.get(FEED + "?types=opportunity.won&limit=10").json()
    none_yet = api.get(f"{FEED}?after={rest['next_after']}").json()

    assert [e["seq"] for e in page["results"]] == [1, 2]
    assert page["next_after"] == 2
    assert [e["seq"] for e in rest["results"]] == [3, 4, 5]
    assert [e["seq"] for e in won["results"]] == [2, 4]
    assert won["next_after"] == 5  # everything up to 5 was considered
    assert none_yet == {"results": [], "next_after": 5}


def test_dispatching_an_event_twice_appends_it_once(world: World):
    event = happen(world.tenant, "opportunity.won")
    event_dispatch(tenant_id=world.tenant.pk, event_id=event.pk)
    with tenant_context(world.tenant):
        from integrations.payloads import event_data
        from integrations.services.feed import feed_append

        again = feed_append(event=event, render=event_data)
        assert list(FeedEntry.objects.values_list("seq", flat=True)) == [1]
    assert again.seq == 1


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("channel_manager", 200),
        ("vendor_admin", 200),
    ],
)
def test_vendor_roles_read_the_feed(world: World, actor: str | None, status: int):
    assert api_as(world, actor).get(FEED).status_code == status


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?after=-1", "after"),
        ("?after=abc", "after"),
        ("?limit=0", "limit"),
        ("?limit=501", "limit"),
        ("?types=opportunity.won,deal.exploded", "types"),
        ("?cursor=3", "cursor"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(world: World, query: str, field: str):
    response = bearer_client(world.vendor_admin).get(FEED + query)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_reading_the_feed_costs_the_same_for_more_entries(world: World, django_assert_num_queries):
    api = bearer_client(world.vendor_admin)
    happen(world.tenant, "opportunity.won")
    api.get(FEED)
    with django_assert_num_queries(7) as few:
        api.get(FEED)
    for _ in range(5):
        happen(world.tenant, "opportunity.won")
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(api.get(FEED).json()["results"]) == 6

"""ETag on API details and If-Match / If-None-Match: a strong tag that changes exactly when
the representation does; a stale If-Match is a 412 with the current tag and changes
nothing; a matching one proceeds and answers the new tag; If-None-Match gives 304. The
same for every conditional detail; query counts pinned."""

from __future__ import annotations

import re

import pytest

from accounts.tenancy import tenant_context
from partners.models import PartnerOrganization, PartnerTier
from pipeline.models import Opportunity
from tests.api_clients import api_as, bearer_client
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
REQUEST_STATEMENTS = 5  # see tests/pipeline/test_api_opportunities.py
PATCH_STATEMENTS = 14  # a deal's PATCH without If-Match, unchanged by this work
STRONG = re.compile(r'^"[0-9a-f]{32}"$')


@pytest.fixture
def deal(world: World, stages) -> Opportunity:
    return OpportunityFactory(
        tenant=world.tenant, partner=world.partner, owner=world.partner_rep.user, name="Rep"
    )


def url(deal: Opportunity) -> str:
    return f"/api/v1/opportunities/{deal.pk}/"


def name_of(world: World, deal: Opportunity) -> str:
    with tenant_context(world.tenant):
        return Opportunity.objects.get(pk=deal.pk).name


def test_a_detail_answers_a_strong_etag_that_changes_with_the_representation(world, deal):
    api = api_as(world, "vendor_admin")

    first = api.get(url(deal))
    same = api.get(url(deal))
    with tenant_context(world.tenant):  # the customer's name is part of the deal's answer
        deal.customer.name = "Renamed Customer"
        deal.customer.save()
    renamed = api.get(url(deal))

    assert STRONG.match(first["ETag"])
    assert same["ETag"] == first["ETag"]
    assert renamed["ETag"] != first["ETag"]


def test_if_none_match_with_the_current_tag_is_304_without_a_body(world, deal):
    api = api_as(world, "vendor_admin")
    tag = api.get(url(deal))["ETag"]

    current = api.get(url(deal), HTTP_IF_NONE_MATCH=f'"stale", {tag}')
    weak = api.get(url(deal), HTTP_IF_NONE_MATCH=f"W/{tag}")
    stale = api.get(url(deal), HTTP_IF_NONE_MATCH='"stale"')

    assert current.status_code == weak.status_code == 304
    assert current.content == b""
    assert current["ETag"] == tag
    assert stale.status_code == 200
    assert stale.json()["name"] == "Rep"


def test_a_stale_if_match_is_412_with_the_current_tag_and_changes_nothing(world, deal):
    api = api_as(world, "vendor_admin")
    tag = api.get(url(deal))["ETag"]
    api.patch(url(deal), {"name": "Changed by someone else"}, format="json")

    response = api.patch(url(deal), {"name": "Mine"}, format="json", HTTP_IF_MATCH=tag)

    assert response.status_code == 412
    error = response.json()["error"]
    assert error["code"] == "precondition_failed"
    assert response["ETag"] == error["etag"] == api.get(url(deal))["ETag"] != tag
    assert name_of(world, deal) == "Changed by someone else"


def test_a_matching_if_match_proceeds_and_answers_the_new_tag(world, deal):
    api = api_as(world, "vendor_admin")
    tag = api.get(url(deal))["ETag"]

    response = api.patch(url(deal), {"name": "Mine"}, format="json", HTTP_IF_MATCH=tag)

    assert response.status_code == 200
    assert response.json()["name"] == "Mine"
    assert response["ETag"] != tag
    assert response["ETag"] == api.get(url(deal))["ETag"]
    star = api.patch(url(deal), {"name": "Any"}, format="json", HTTP_IF_MATCH="*")
    assert star.status_code == 200


def test_a_weak_tag_never_matches_if_match(world, deal):
    api = api_as(world, "vendor_admin")
    tag = api.get(url(deal))["ETag"]

    response = api.patch(url(deal), {"name": "Mine"}, format="json", HTTP_IF_MATCH=f"W/{tag}")

    assert response.status_code == 412
    assert name_of(world, deal) == "Rep"


@pytest.mark.parametrize("garbage", ["abc", '"unterminated', "W/abc", '"a" "b"', '*, "a"', ""])
def test_if_match_garbage_is_a_clear_400_and_changes_nothing(world, deal, garbage):
    response = api_as(world, "vendor_admin").patch(
        url(deal), {"name": "Mine"}, format="json", HTTP_IF_MATCH=garbage
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "precondition_invalid"
    assert "If-Match" in response.json()["error"]["message"]
    assert name_of(world, deal) == "Rep"


def test_garbage_if_none_match_is_ignored(world, deal):
    response = api_as(world, "vendor_admin").get(url(deal), HTTP_IF_NONE_MATCH="garbage")

    assert response.status_code == 200


def test_each_role_gets_the_tag_of_what_it_is_shown(world, deal):
    vendor = api_as(world, "vendor_admin").get(url(deal))
    rep = api_as(world, "partner_rep").get(url(deal))

    assert vendor.status_code == rep.status_code == 200
    assert (vendor["ETag"] == rep["ETag"]) == (vendor.content == rep.content)


@pytest.mark.parametrize("actor", ["other_partner_admin", "other_tenant_admin"])
def test_another_partner_or_tenant_gets_404_whatever_its_if_match(world, deal, actor):
    tag = api_as(world, "vendor_admin").get(url(deal))["ETag"]
    api = api_as(world, actor)

    read = api.get(url(deal), HTTP_IF_NONE_MATCH=tag)
    write = api.patch(url(deal), {"name": "Mine"}, format="json", HTTP_IF_MATCH=tag)

    assert read.status_code == write.status_code == 404
    assert not read.has_header("ETag")
    assert name_of(world, deal) == "Rep"


def test_query_counts_stay_pinned(world, deal, django_assert_num_queries):
    api = api_as(world, "vendor_admin")
    tag = api.get(url(deal))["ETag"]

    with django_assert_num_queries(REQUEST_STATEMENTS + 1):  # the deal, as before
        assert api.get(url(deal)).status_code == 200
    with django_assert_num_queries(REQUEST_STATEMENTS + 1):  # a 304 reads the same
        assert api.get(url(deal), HTTP_IF_NONE_MATCH=tag).status_code == 304
    with django_assert_num_queries(PATCH_STATEMENTS):
        assert api.patch(url(deal), {"name": "A"}, format="json").status_code == 200
    tag = api.get(url(deal))["ETag"]
    with django_assert_num_queries(PATCH_STATEMENTS + 2):  # + lock the deal, read it
        response = api.patch(url(deal), {"name": "B"}, format="json", HTTP_IF_MATCH=tag)
        assert response.status_code == 200


# --- The other details ----------------------------------------------------------------------


def tier_url(world: World) -> str:
    return f"/api/v1/tiers/{world.tier.pk}/"


def partner_url(world: World) -> str:
    return f"/api/v1/partners/{world.partner.pk}/"


@pytest.mark.parametrize(
    ("where", "model", "actor"),
    [
        (tier_url, PartnerTier, "vendor_admin"),
        (partner_url, PartnerOrganization, "vendor_admin"),
    ],
)
def test_tiers_and_partners_are_conditional_too(world: World, where, model, actor):
    api = bearer_client(world.member(actor))
    path = where(world)
    tag = api.get(path)["ETag"]

    assert api.get(path, HTTP_IF_NONE_MATCH=tag).status_code == 304
    changed = api.patch(path, {"name": "Renamed"}, format="json", HTTP_IF_MATCH=tag)
    stale = api.patch(path, {"name": "Again"}, format="json", HTTP_IF_MATCH=tag)

    assert changed.status_code == 200
    assert changed["ETag"] == api.get(path)["ETag"]
    assert stale.status_code == 412
    with tenant_context(world.tenant):
        assert model.objects.get(pk=int(path.rstrip("/").rsplit("/", 1)[1])).name == "Renamed"

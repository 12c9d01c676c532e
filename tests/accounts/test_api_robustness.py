"""Every API answer outside the happy path keeps the one JSON error shape: OPTIONS, deeply
nested bodies, malformed or out-of-range ids, oversized bodies, unknown paths, methods a
route does not take, bad pagination parameters and server errors. The schema tells which
request bodies refuse unknown fields."""

from __future__ import annotations

import io
import json

import pytest
from rest_framework.test import APIClient

from accounts.parsers import BoundedJSONParser, RequestTooLarge
from partners.models import PartnerTier
from pipeline.services.stages import stages_install_defaults
from tests.accounts.test_api_errors import assert_error
from tests.api_clients import api_as
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory

TIERS_URL = "/api/v1/tiers/"


def api_paths() -> list[str]:
    """Every path of the schema, with its ids filled in (ids that exist nowhere)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        path.replace("{id}", "999999").replace("{extension_id}", "999998")
        for path in sorted(schema["paths"])
    ] + ["/api/schema/"]


def tier_names(world: World, in_tenant) -> list[str]:
    with in_tenant(world.tenant):
        return sorted(PartnerTier.objects.values_list("name", flat=True))


def nested(depth: int) -> str:
    return '{"name": ' * depth + '"x"' + "}" * depth


# --- OPTIONS ---------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [None, "vendor_admin", "partner_rep"])
def test_options_never_fails_on_any_endpoint(world: World, actor: str | None):
    client = api_as(world, actor)

    answers = {path: client.options(path) for path in api_paths()}

    statuses = {path: response.status_code for path, response in answers.items()}
    assert all(code < 500 for code in statuses.values()), statuses
    api = {path: r for path, r in answers.items() if path.startswith("/api/v1/")}
    assert {r["Content-Type"] for r in api.values()} == {"application/json"}
    if actor is None:
        assert {statuses[path] for path in api} == {401}


def test_options_describes_the_endpoint_without_its_fields(world: World):
    response = api_as(world, "vendor_admin").options(TIERS_URL)

    assert response.status_code == 200
    assert response.json()["name"] == "Tier List Create Api"
    assert "actions" not in response.json()


# --- Bodies: nesting and size -------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 200, 100_000])
def test_a_deeply_nested_body_is_400(world: World, in_tenant, depth: int):
    response = api_as(world, "vendor_admin").post(
        TIERS_URL, nested(depth), content_type="application/json"
    )

    error = assert_error(response, 400, "parse_error", {})
    assert error["message"] == "JSON parse error - nested deeper than 32 levels."
    assert tier_names(world, in_tenant) == ["Gold"]


def test_a_list_nested_too_deep_is_400_too(world: World, in_tenant):
    body = '{"name": "Platinum", "rank": 4, "x": ' + "[" * 40 + "]" * 40 + "}"

    response = api_as(world, "vendor_admin").post(TIERS_URL, body, content_type="application/json")

    assert_error(response, 400, "parse_error", {})
    assert tier_names(world, in_tenant) == ["Gold"]


def test_nesting_up_to_the_limit_is_parsed(world: World, in_tenant):
    response = api_as(world, "vendor_admin").post(
        TIERS_URL, nested(32), content_type="application/json"
    )

    assert_error(response, 400, "invalid")  # parsed, then refused field by field
    assert tier_names(world, in_tenant) == ["Gold"]


def test_an_oversized_body_is_413(world: World, in_tenant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"name": "Platinum", "rank": 4, "padding": "x" * 2000})

    response = api_as(world, "vendor_admin").post(TIERS_URL, body, content_type="application/json")

    error = assert_error(response, 413, "request_too_large", {})
    assert error["message"] == "The request body is larger than 1000 bytes."
    assert tier_names(world, in_tenant) == ["Gold"]


def test_a_body_of_undeclared_length_is_bounded_by_the_parser(settings):
    """A chunked body has no Content-Length for the middleware to check: the parser reads
    at most one byte past the limit."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = io.BytesIO(json.dumps({"padding": "x" * 5000}).encode())

    with pytest.raises(RequestTooLarge) as refused:
        BoundedJSONParser().parse(body, parser_context={})

    assert refused.value.status_code == 413
    assert body.tell() == 1001


def test_a_body_within_the_limit_is_accepted(world: World, in_tenant, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = api_as(world, "vendor_admin").post(
        TIERS_URL, {"name": "Platinum", "rank": 4}, format="json"
    )

    assert response.status_code == 201
    assert tier_names(world, in_tenant) == ["Gold", "Platinum"]


# --- 404 for ids that cannot exist and paths that do not ----------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/opportunities/abc/",
        "/api/v1/opportunities/-1/",
        "/api/v1/opportunities/0/",
        "/api/v1/opportunities/9223372036854775808/",
        "/api/v1/opportunities/99999999999999999999999999999/",
        "/api/v1/tiers/1.5/",
        "/api/v1/nothing-here/",
        "/api/v1/",
        "/api/nothing/",
    ],
)
@pytest.mark.parametrize("method", ["get", "patch"])
def test_unknown_ids_and_paths_are_json_404(world: World, url: str, method: str):
    response = getattr(api_as(world, "vendor_admin"), method)(url, {}, format="json")

    assert_error(response, 404, "not_found", {})


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/registrations/99999999999999999999/approve/",
        "/api/v1/registrations/abc/extensions/1/approve/",
        "/api/v1/partners/-4/suspend/",
        "/api/v1/nothing-here/",
    ],
)
def test_actions_on_unknown_ids_are_json_404(world: World, in_tenant, url: str):
    response = api_as(world, "vendor_admin").post(url, {}, format="json")

    assert_error(response, 404, "not_found", {})


def test_a_real_opportunity_id_is_found(world: World, in_tenant):
    with in_tenant(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    deal = OpportunityFactory(tenant=world.tenant, partner=None, owner=world.channel_manager.user)

    response = api_as(world, "vendor_admin").get(f"/api/v1/opportunities/{deal.pk}/")

    assert response.status_code == 200


def test_an_anonymous_unknown_path_is_json_404(db: None):
    assert_error(APIClient().get("/api/v1/nothing-here/"), 404, "not_found", {})


@pytest.mark.parametrize("method", ["post", "patch", "put", "delete"])
def test_a_write_to_a_path_without_its_slash_is_json_404_not_a_redirect(
    world: World, in_tenant, method: str
):
    """A redirect would turn the write into a GET and drop its body (clients follow 301s
    with GET): the client is told where the endpoint is, and nothing changes."""
    before = tier_names(world, in_tenant)
    response = getattr(api_as(world, "vendor_admin"), method)(
        TIERS_URL.rstrip("/"), {"name": "Slashless", "rank": 9}, format="json"
    )

    body = assert_error(response, 404, "not_found", {})
    assert TIERS_URL in body["message"]
    assert tier_names(world, in_tenant) == before


def test_a_read_without_the_slash_still_redirects(world: World):
    response = api_as(world, "vendor_admin").get(TIERS_URL.rstrip("/"))
    assert response.status_code == 301
    assert response["Location"] == TIERS_URL


def test_an_unsupported_method_on_any_route_is_json_405(world: World):
    response = api_as(world, "vendor_admin").put("/api/v1/me/", {}, format="json")

    assert_error(response, 405, "method_not_allowed", {})


# --- 500 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/test/crash/", "/api/v1/test/plain-crash/"])
def test_a_server_error_is_json_and_rolls_back(world: World, in_tenant, settings, url: str, caplog):
    settings.ROOT_URLCONF = "tests.accounts.raising_urls"
    client = api_as(world, "vendor_admin")
    client.raise_request_exception = False

    response = client.post(url, {}, format="json")

    error = assert_error(response, 500, "server_error", {})
    assert error["message"] == "Something went wrong on our side. Nothing was saved."
    assert "Traceback" not in response.content.decode()
    assert tier_names(world, in_tenant) == ["Gold"]
    assert any("boom" in record.getMessage() or record.exc_info for record in caplog.records)


# --- Pagination parameters ---------------------------------------------------------------------


@pytest.mark.parametrize("cursor", ["garbage", "cD1hYmM=", "cD0xLjU=", "cj14"])
@pytest.mark.parametrize(
    "url", ["/api/v1/opportunities/", "/api/v1/registrations/", "/api/v1/commissions/"]
)
def test_an_invalid_cursor_is_400(world: World, url: str, cursor: str):
    response = api_as(world, "vendor_admin").get(url, {"cursor": cursor})

    assert_error(response, 400, "invalid", {"cursor": ["Invalid cursor."]})


@pytest.mark.parametrize("page", ["999", "0", "abc"])
def test_a_page_out_of_range_is_400(world: World, page: str):
    response = api_as(world, "vendor_admin").get(TIERS_URL, {"page": page})

    assert_error(response, 400, "invalid", {"page": ["Invalid page."]})


# --- Schema: strict request bodies -------------------------------------------------------------


def test_request_bodies_that_refuse_unknown_fields_say_so(db: None):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    requests = {name: body for name, body in components.items() if name.endswith("Request")}

    assert "TierInputRequest" in requests
    assert "PatchedTierInputRequest" in requests
    assert "CustomerInputRequest" in requests  # nested bodies too
    assert {name: body.get("additionalProperties") for name, body in requests.items()} == {
        name: False for name in requests
    }
    assert "additionalProperties" not in components["TierOutput"]


def test_every_paginated_list_documents_its_400(db: None):
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    paginated = {
        (path, method): operation["responses"]
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if {p["name"] for p in operation.get("parameters", [])} & {"page", "cursor"}
    }

    assert ("/api/v1/tiers/", "get") in paginated
    assert ("/api/v1/payouts/", "get") in paginated
    assert ("/api/v1/opportunities/{id}/activities/", "get") in paginated
    assert {key: "400" in responses for key, responses in paginated.items()} == {
        key: True for key in paginated
    }

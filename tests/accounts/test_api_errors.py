"""One JSON error shape everywhere: {"error": {"code", "message", "fields"}}; token and
session authentication."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services.tokens import api_token_create, api_token_revoke
from partners.models import PartnerTier
from tests.api_clients import api_as, bearer_client
from tests.conftest import World

TIERS_URL = "/api/v1/tiers/"


def assert_error(response, status: int, code: str, fields: dict | None = None) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    if fields is not None:
        assert body["error"]["fields"] == fields
    return body["error"]


def tier_names(world: World, in_tenant) -> list[str]:
    with in_tenant(world.tenant):
        return list(PartnerTier.objects.values_list("name", flat=True))


# --- 400 ------------------------------------------------------------------------------------


def test_validation_error_lists_fields(world: World, in_tenant):
    response = api_as(world, "vendor_admin").post(
        TIERS_URL, {"name": "", "rank": "one"}, format="json"
    )

    error = assert_error(
        response,
        400,
        "invalid",
        {"name": ["This field may not be blank."], "rank": ["A valid integer is required."]},
    )
    assert error["message"] == "The request has invalid fields."
    assert tier_names(world, in_tenant) == ["Gold"]


@pytest.mark.parametrize("payload", [b'{"name": "Platinum", "rank": ', b"{'name': 1}", b"\xff"])
def test_malformed_json_is_400(world: World, in_tenant, payload: bytes):
    response = api_as(world, "vendor_admin").post(
        TIERS_URL, payload, content_type="application/json"
    )

    assert_error(response, 400, "parse_error", {})
    assert tier_names(world, in_tenant) == ["Gold"]


@pytest.mark.parametrize("payload", [[], "Platinum", 4, None])
def test_a_body_that_is_not_an_object_is_400(world: World, in_tenant, payload):
    response = api_as(world, "vendor_admin").post(TIERS_URL, payload, format="json")

    assert_error(response, 400, "invalid")
    assert tier_names(world, in_tenant) == ["Gold"]


def test_a_form_post_is_415(world: World, in_tenant):
    response = api_as(world, "vendor_admin").post(TIERS_URL, {"name": "Platinum", "rank": 4})

    assert_error(response, 415, "unsupported_media_type", {})
    assert tier_names(world, in_tenant) == ["Gold"]


# --- 401 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "not_authenticated"),
        ("Bearer prm_not-a-real-token", "authentication_failed"),
        ("Bearer", "authentication_failed"),
        ("Bearer two parts", "authentication_failed"),
    ],
)
def test_missing_or_invalid_token_is_401(world: World, header: str | None, code: str):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(TIERS_URL)

    assert_error(response, 401, code, {})
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_real_token_authenticates_and_a_revoked_one_does_not(world: World, in_tenant):
    with in_tenant(world.tenant):
        token, secret = api_token_create(membership=world.channel_manager, name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    allowed = client.get(TIERS_URL)
    with in_tenant(world.tenant):
        api_token_revoke(membership=world.channel_manager, token_id=token.pk)
    refused = client.get(TIERS_URL)

    assert allowed.status_code == 200
    assert_error(refused, 401, "authentication_failed", {})
    assert refused.json()["error"]["message"] == "Invalid or revoked token."


def test_token_is_stored_hashed_and_records_its_use(world: World, in_tenant):
    with in_tenant(world.tenant):
        token, secret = api_token_create(membership=world.vendor_admin, name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")

    response = client.get(TIERS_URL)

    assert response.status_code == 200
    with in_tenant(world.tenant):
        stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.key_hash, stored.prefix)
    assert stored.last_used_at is not None


def test_a_token_of_a_deactivated_membership_is_401(world: World, in_tenant):
    client = bearer_client(world.channel_manager)
    with in_tenant(world.tenant):
        type(world.channel_manager).objects.filter(pk=world.channel_manager.pk).update(
            is_active=False
        )

    assert_error(client.get(TIERS_URL), 401, "authentication_failed")


# --- 403 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["partner_admin", "partner_rep"])
def test_partner_roles_get_403_on_vendor_endpoints(world: World, actor: str):
    response = api_as(world, actor).get(TIERS_URL)

    assert_error(response, 403, "permission_denied", {})
    assert response.json()["error"]["message"] == "Your role does not allow this."


def test_session_writes_need_the_csrf_token(world: World, in_tenant):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.vendor_admin.user)

    response = client.post(TIERS_URL, {"name": "Platinum", "rank": 4}, format="json")

    assert_error(response, 403, "permission_denied", {})
    assert "CSRF" in response.json()["error"]["message"]
    assert tier_names(world, in_tenant) == ["Gold"]


def test_token_writes_need_no_csrf_token(world: World, in_tenant):
    client = bearer_client(world.vendor_admin)
    client.handler.enforce_csrf_checks = True

    response = client.post(TIERS_URL, {"name": "Platinum", "rank": 4}, format="json")

    assert response.status_code == 201
    assert sorted(tier_names(world, in_tenant)) == ["Gold", "Platinum"]


# --- 404, 405 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/v1/tiers/999999/", "/api/v1/partners/999999/", "/api/v1/partners/999999/suspend/"]
)
def test_nonexistent_is_404(world: World, url: str):
    client = api_as(world, "vendor_admin")

    response = client.post(url) if url.endswith("suspend/") else client.get(url)

    assert_error(response, 404, "not_found", {})
    assert response.json()["error"]["message"] == "Not found."


def test_another_tenants_id_is_the_same_404(world: World):
    client = api_as(world, "other_tenant_admin")

    foreign = client.get(f"/api/v1/partners/{world.partner.pk}/")
    missing = client.get("/api/v1/partners/999999/")

    assert_error(foreign, 404, "not_found", {})
    assert foreign.json() == missing.json()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("delete", "/api/v1/tiers/{tier}/"),
        ("put", "/api/v1/tiers/{tier}/"),
        ("delete", "/api/v1/partners/{partner}/"),
        ("get", "/api/v1/partners/{partner}/suspend/"),
        ("get", "/api/v1/invitations/"),
        ("delete", "/api/v1/me/"),
    ],
)
def test_unsupported_method_is_405(world: World, in_tenant, method: str, url: str):
    url = url.format(tier=world.tier.pk, partner=world.partner.pk)

    response = getattr(api_as(world, "vendor_admin"), method)(url, {}, format="json")

    assert_error(response, 405, "method_not_allowed", {})
    assert tier_names(world, in_tenant) == ["Gold"]

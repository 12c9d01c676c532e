"""PATCH and DELETE /api/v1/webhook-endpoints/{id}/: vendor admins of the tenant only
(another tenant's endpoint is a 404, partners and channel managers 403), validated, audited,
conditional on If-Match; nothing changes on a refused request."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry
from accounts.tenancy import tenant_context
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from integrations.services.deliveries import webhook_endpoint_ping
from tests.api_clients import api_as
from tests.conftest import World
from tests.integrations.conftest import endpoint_for

pytestmark = pytest.mark.django_db
URL = "https://crm.example.com/hooks"


@pytest.fixture
def endpoint(world: World) -> WebhookEndpoint:
    return endpoint_for(world.vendor_admin, URL)


def stored(endpoint: WebhookEndpoint) -> tuple:
    with tenant_context(endpoint.tenant_id):
        row = WebhookEndpoint.objects.get(pk=endpoint.pk)
    return row.url, row.event_types, row.description, row.status, row.secret


def path(endpoint: WebhookEndpoint) -> str:
    return f"/api/v1/webhook-endpoints/{endpoint.pk}/"


def test_a_vendor_admin_edits_url_types_description_and_status(world: World, endpoint):
    api = api_as(world, "vendor_admin")
    before = stored(endpoint)

    response = api.patch(
        path(endpoint),
        {
            "url": "https://crm.example.com/v2",
            "event_types": ["lead.created", "opportunity.won"],
            "description": "v2",
            "status": "disabled",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["url"] == "https://crm.example.com/v2"
    assert body["event_types"] == ["lead.created", "opportunity.won"]
    assert body["status"] == "disabled"
    assert "secret" not in body
    assert stored(endpoint) == (
        "https://crm.example.com/v2",
        ["lead.created", "opportunity.won"],
        "v2",
        "disabled",
        before[4],
    )
    with tenant_context(world.tenant):
        verbs = list(AuditEntry.objects.order_by("id").values_list("verb", flat=True))
    assert verbs[-2:] == ["webhook_endpoint_updated", "webhook_endpoint_disabled"]
    enabled = api.patch(path(endpoint), {"status": "active"}, format="json")
    assert enabled.json()["status"] == "active"


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://crm.example.com"},
        {"url": "https://user:pw@crm.example.com"},
        {"url": "x" * 2001},
        {"url": 42},
        {"event_types": []},
        {"event_types": ["nope.nothing"]},
        {"event_types": "opportunity.won"},
        {"description": "<script>alert(1)</script>"},
        {"description": "d" * 501},
        {"status": "paused"},
        {"secret": "whsec_mine"},
    ],
)
def test_bad_input_is_a_clear_400_and_changes_nothing(world: World, endpoint, body):
    before = stored(endpoint)

    response = api_as(world, "vendor_admin").patch(path(endpoint), body, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == set(body)
    assert stored(endpoint) == before


@pytest.mark.parametrize(
    ("actor", "code"),
    [
        (None, 401),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_only_the_tenant_s_vendor_admins_edit_or_delete(world: World, endpoint, actor, code):
    before = stored(endpoint)
    api = api_as(world, actor)

    edit = api.patch(path(endpoint), {"description": "mine"}, format="json")
    delete = api.delete(path(endpoint))

    assert edit.status_code == delete.status_code == code
    assert stored(endpoint) == before


def test_if_match_guards_an_edit(world: World, endpoint):
    api = api_as(world, "vendor_admin")
    tag = api.get(path(endpoint))["ETag"]
    api.patch(path(endpoint), {"description": "first"}, format="json")

    stale = api.patch(path(endpoint), {"description": "second"}, format="json", HTTP_IF_MATCH=tag)

    assert stale.status_code == 412
    assert stored(endpoint)[2] == "first"


def test_delete_removes_the_endpoint_with_its_deliveries_and_audits_it(world: World, endpoint):
    with tenant_context(world.tenant):
        webhook_endpoint_ping(
            tenant=world.tenant, actor=world.vendor_admin, endpoint_id=endpoint.pk
        )
    other = endpoint_for(world.other_tenant_admin, URL)

    response = api_as(world, "vendor_admin").delete(path(endpoint))

    assert response.status_code == 204
    with tenant_context(world.tenant):
        assert not WebhookEndpoint.objects.exists()
        assert not WebhookDelivery.objects.exists()
        assert not WebhookAttempt.objects.exists()
        entry = AuditEntry.objects.get(verb="webhook_endpoint_deleted")
    assert entry.after == {"deliveries_deleted": 1}
    assert stored(other)[0] == URL
    assert api_as(world, "vendor_admin").get(path(endpoint)).status_code == 404


def exists(endpoint: WebhookEndpoint) -> bool:
    with tenant_context(endpoint.tenant_id):
        return WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_if_match_guards_a_delete(world: World, endpoint):
    api = api_as(world, "vendor_admin")
    tag = api.get(path(endpoint))["ETag"]
    api.patch(path(endpoint), {"description": "changed"}, format="json")
    current = api.get(path(endpoint))["ETag"]

    stale = api.delete(path(endpoint), HTTP_IF_MATCH=tag)
    garbage = api.delete(path(endpoint), HTTP_IF_MATCH="nope")
    assert (stale.status_code, stale["ETag"], stale.json()["error"]["etag"]) == (
        412,
        current,
        current,
    )
    assert garbage.status_code == 400
    assert exists(endpoint)

    fresh = api.delete(path(endpoint), HTTP_IF_MATCH=current)
    assert fresh.status_code == 204
    assert not exists(endpoint)


def test_a_repeated_delete_with_its_key_answers_the_first_answer(world: World, endpoint):
    api = api_as(world, "vendor_admin")
    other = endpoint_for(world.vendor_admin, URL + "/2")

    first = api.delete(path(endpoint), HTTP_IDEMPOTENCY_KEY="del-1")
    again = api.delete(path(endpoint), HTTP_IDEMPOTENCY_KEY="del-1")
    without_key = api.delete(path(endpoint))
    reused = api.delete(path(other), HTTP_IDEMPOTENCY_KEY="del-1")

    assert (first.status_code, again.status_code) == (204, 204)
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert without_key.status_code == 404
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert exists(other)
    with tenant_context(world.tenant):
        assert AuditEntry.objects.filter(verb="webhook_endpoint_deleted").count() == 1


def test_a_delete_s_key_is_the_member_s_own(world: World, endpoint):
    api_as(world, "vendor_admin").delete(path(endpoint), HTTP_IDEMPOTENCY_KEY="del-1")

    theirs = api_as(world, "other_tenant_admin").delete(
        path(endpoint), HTTP_IDEMPOTENCY_KEY="del-1"
    )

    assert theirs.status_code == 404  # not the first answer: another tenant's key space

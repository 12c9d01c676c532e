"""The webhook API: vendor admins only, scoped to the tenant (another tenant's id is a 404),
strict input with clear errors and nothing changed, the secret answered only at creation
and rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from accounts.tenancy import tenant_context
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services.deliveries import webhook_endpoint_ping
from tests.api_clients import api_as, bearer_client
from tests.conftest import World
from tests.integrations.conftest import endpoint_for

pytestmark = pytest.mark.django_db
ENDPOINTS = "/api/v1/webhook-endpoints/"
DELIVERIES = "/api/v1/webhook-deliveries/"
VALID = {
    "url": "https://crm.example.com/hooks",
    "event_types": ["opportunity.won", "registration.decided"],
    "description": "Salesforce bridge",
}


def ping(world: World, endpoint: WebhookEndpoint) -> WebhookDelivery:
    with tenant_context(endpoint.tenant_id):
        return webhook_endpoint_ping(
            tenant=endpoint.tenant,
            actor=world.vendor_admin
            if endpoint.tenant_id == world.tenant.pk
            else world.other_tenant_admin,
            endpoint_id=endpoint.pk,
        )


def count(world: World, model: type) -> int:
    with tenant_context(world.tenant):
        return model.objects.count()


def test_a_vendor_admin_registers_an_endpoint_and_sees_its_secret_once(world: World):
    api = bearer_client(world.vendor_admin)

    response = api.post(ENDPOINTS, VALID, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= {"id", "url", "event_types", "secret", "status"}
    assert body["url"] == VALID["url"]
    assert body["event_types"] == ["opportunity.won", "registration.decided"]
    assert body["status"] == "active"
    assert body["secret"].startswith("whsec_")
    listed = api.get(ENDPOINTS).json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in api.get(f"{ENDPOINTS}{body['id']}/").json()
    with tenant_context(world.tenant):
        entry = AuditEntry.objects.get(verb="webhook_endpoint_created")
    assert body["secret"] not in str(entry.after)


def test_rotate_answers_the_new_secret(world: World):
    endpoint = endpoint_for(world.vendor_admin, "https://crm.example.com/hooks")

    response = bearer_client(world.vendor_admin).post(f"{ENDPOINTS}{endpoint.pk}/rotate-secret/")

    assert response.status_code == 200
    with tenant_context(world.tenant):
        stored = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert response.json()["secret"] == stored.secret != endpoint.secret
    assert stored.previous_secret == endpoint.secret


def test_ping_queues_a_test_message(world: World, django_capture_on_commit_callbacks, sent_tasks):
    endpoint = endpoint_for(world.vendor_admin, "https://crm.example.com/hooks")

    with django_capture_on_commit_callbacks(execute=True):
        response = bearer_client(world.vendor_admin).post(f"{ENDPOINTS}{endpoint.pk}/ping/")

    assert response.status_code == 202
    body = response.json()
    assert (body["event_type"], body["status"], body["endpoint_id"]) == (
        "webhook.ping",
        "pending",
        endpoint.pk,
    )
    assert sent_tasks == [("integrations.tasks.webhook_deliver", (world.tenant.pk, body["id"]))]


def test_deliveries_filter_by_endpoint_and_status(world: World, django_assert_max_num_queries):
    first = endpoint_for(world.vendor_admin, "https://a.example.com/hooks")
    second = endpoint_for(world.vendor_admin, "https://b.example.com/hooks")
    a1, a2, b1 = ping(world, first), ping(world, first), ping(world, second)
    with tenant_context(world.tenant):
        WebhookDelivery.objects.filter(pk=a2.pk).update(status="failed")
    api = bearer_client(world.vendor_admin)

    def ids(query: str) -> list[int]:
        response = api.get(DELIVERIES + query)
        assert response.status_code == 200, response.json()
        return [d["id"] for d in response.json()["results"]]

    assert ids("") == [b1.pk, a2.pk, a1.pk]
    assert ids(f"?endpoint_id={first.pk}") == [a2.pk, a1.pk]
    assert ids(f"?endpoint_id={first.pk}&status=failed") == [a2.pk]
    assert ids("?status=succeeded") == []
    assert api.get(DELIVERIES + "?status=lost").status_code == 400


def test_the_delivery_list_costs_the_same_for_more_rows(world: World, django_assert_num_queries):
    endpoint = endpoint_for(world.vendor_admin, "https://a.example.com/hooks")
    api = bearer_client(world.vendor_admin)
    ping(world, endpoint)
    api.get(DELIVERIES)  # warm the token's caches
    with django_assert_num_queries(7) as few:
        api.get(DELIVERIES)
    for _ in range(5):
        ping(world, endpoint)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(api.get(DELIVERIES).json()["results"]) == 6


def test_a_delivery_shows_its_attempts_and_redelivers(
    world: World, django_capture_on_commit_callbacks, sent_tasks
):
    endpoint = endpoint_for(world.vendor_admin, "https://a.example.com/hooks")
    delivery = ping(world, endpoint)
    with tenant_context(world.tenant):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)
    api = bearer_client(world.vendor_admin)

    detail = api.get(f"{DELIVERIES}{delivery.pk}/").json()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{DELIVERIES}{delivery.pk}/redeliver/")

    assert detail["attempt_log"] == []
    assert '"type":"webhook.ping"' in detail["body"]
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert response.json()["message_id"] == delivery.message_id
    assert sent_tasks == [("integrations.tasks.webhook_send", (world.tenant.pk,))]  # drains it


def test_redeliver_failed_since(world: World, django_capture_on_commit_callbacks, sent_tasks):
    endpoint = endpoint_for(world.vendor_admin, "https://a.example.com/hooks")
    old, recent = ping(world, endpoint), ping(world, endpoint)
    with tenant_context(world.tenant):
        WebhookDelivery.objects.filter(pk__in=[old.pk, recent.pk]).update(status="failed")
        WebhookDelivery.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timedelta(days=3)
        )
    since = (timezone.now() - timedelta(days=1)).isoformat()

    with django_capture_on_commit_callbacks(execute=True):
        response = bearer_client(world.vendor_admin).post(
            f"{DELIVERIES}redeliver-failed/", {"since": since}, format="json"
        )

    assert (response.status_code, response.json()) == (202, {"redelivered": 1})
    assert sent_tasks == [("integrations.tasks.webhook_send", (world.tenant.pk,))]  # one drain


# --- Roles and isolation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_tenant_admin", 200),  # sees only its own (none)
        ("vendor_admin", 200),
    ],
)
def test_only_vendor_admins_read_endpoints(world: World, actor: str | None, status: int):
    endpoint_for(world.vendor_admin, "https://a.example.com/hooks")

    response = api_as(world, actor).get(ENDPOINTS)

    assert response.status_code == status
    if actor == "other_tenant_admin":
        assert response.json()["results"] == []


@pytest.mark.parametrize("actor", ["channel_manager", "partner_admin", "partner_rep"])
def test_other_roles_cannot_register_and_nothing_changes(world: World, actor: str):
    response = api_as(world, actor).post(ENDPOINTS, VALID, format="json")

    assert response.status_code == 403
    assert count(world, WebhookEndpoint) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "{endpoints}{endpoint}/"),
        ("post", "{endpoints}{endpoint}/ping/"),
        ("post", "{endpoints}{endpoint}/rotate-secret/"),
        ("get", "{deliveries}{delivery}/"),
        ("post", "{deliveries}{delivery}/redeliver/"),
    ],
)
def test_another_tenants_endpoint_or_delivery_is_a_404(world: World, method: str, path: str):
    theirs = endpoint_for(world.other_tenant_admin, "https://globex.example.com/hooks")
    delivery = ping(world, theirs)
    url = path.format(
        endpoints=ENDPOINTS, deliveries=DELIVERIES, endpoint=theirs.pk, delivery=delivery.pk
    )

    response = getattr(bearer_client(world.vendor_admin), method)(url)

    assert response.status_code == 404
    with tenant_context(world.other_tenant):
        stored = WebhookEndpoint.objects.get(pk=theirs.pk)
        assert WebhookDelivery.objects.count() == 1
    assert stored.secret == theirs.secret


def test_another_tenants_endpoint_id_in_filters_and_bodies_shows_nothing(world: World):
    theirs = endpoint_for(world.other_tenant_admin, "https://globex.example.com/hooks")
    ping(world, theirs)
    api = bearer_client(world.vendor_admin)

    listed = api.get(f"{DELIVERIES}?endpoint_id={theirs.pk}")
    redeliver = api.post(
        f"{DELIVERIES}redeliver-failed/",
        {"since": "2020-01-01T00:00:00Z", "endpoint_id": theirs.pk},
        format="json",
    )

    assert (listed.status_code, listed.json()["results"]) == (200, [])
    assert redeliver.status_code == 404


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"url": "ftp://crm.example.com/hooks"}, "url", "Enter an http:// or https:// URL."),
        ({"url": "javascript:alert(1)"}, "url", "Enter an http:// or https:// URL."),
        ({"url": "https://user:pw@crm.example.com/"}, "url", "Put no user name or password"),
        ({"url": 42}, "url", "Not a valid string."),
        ({"event_types": ["deal.exploded"]}, "event_types", "Unknown event type: deal.exploded."),
        ({"event_types": []}, "event_types", "This list may not be empty."),
        ({"event_types": "opportunity.won"}, "event_types", "Expected a list of items"),
        ({"description": "x" * 501}, "description", "no more than 500 characters"),
        ({"description": "<script>alert(1)</script>"}, "description", "Plain text only"),
        ({"secret": "whsec_mine"}, "secret", "Unknown field."),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_saved(
    world: World, change: dict, field: str, message: str
):
    response = bearer_client(world.vendor_admin).post(ENDPOINTS, {**VALID, **change}, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert message in " ".join(error["fields"][field])
    assert count(world, WebhookEndpoint) == 0


def test_redeliver_failed_needs_a_valid_time(world: World):
    response = bearer_client(world.vendor_admin).post(
        f"{DELIVERIES}redeliver-failed/", {"since": "yesterday"}, format="json"
    )

    assert response.status_code == 400
    assert "since" in response.json()["error"]["fields"]

"""Idempotency-Key on API writes: the same key and body answer the first answer again
without doing the work; another body is 422; keys are per tenant and membership, kept
24 h, swept when expired; malformed keys are a 400 that changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from accounts.tenancy import tenant_context
from integrations.models import IdempotencyKey, WebhookEndpoint
from integrations.tasks import idempotency_key_purge
from tests.api_clients import bearer_client
from tests.conftest import World

pytestmark = pytest.mark.django_db
ENDPOINTS = "/api/v1/webhook-endpoints/"
BODY = {"url": "https://crm.example.com/hooks", "event_types": ["opportunity.won"]}


def create(api, key: str | None, body: dict | None = None, path: str = ENDPOINTS):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return api.post(path, body or BODY, format="json", **headers)


def endpoints(tenant) -> int:
    with tenant_context(tenant):
        return WebhookEndpoint.objects.count()


def keys(tenant) -> list[str]:
    with tenant_context(tenant):
        return list(IdempotencyKey.objects.order_by("id").values_list("key", flat=True))


def test_the_same_key_and_body_answer_the_first_answer_without_doing_it_again(world: World):
    api = bearer_client(world.vendor_admin)

    first = create(api, "order-1")
    again = create(api, "order-1")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content  # the secret shown once, shown again to the retry
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert endpoints(world.tenant) == 1
    with tenant_context(world.tenant):
        assert AuditEntry.objects.filter(verb="webhook_endpoint_created").count() == 1
    assert keys(world.tenant) == ["order-1"]


def test_the_draft_s_quoted_form_is_the_same_key(world: World):
    api = bearer_client(world.vendor_admin)

    first = create(api, '"8e03978e-40d5"')
    again = create(api, "8e03978e-40d5")

    assert again.content == first.content
    assert endpoints(world.tenant) == 1


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({**BODY, "description": "another"}, ENDPOINTS),
        (BODY, "/api/v1/webhook-deliveries/redeliver-failed/"),
    ],
)
def test_the_same_key_with_another_request_is_422_and_does_nothing(world: World, body, path):
    api = bearer_client(world.vendor_admin)
    create(api, "order-1")

    response = create(api, "order-1", body, path)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert endpoints(world.tenant) == 1


def test_a_key_belongs_to_its_tenant_and_member(world: World):
    mine = create(bearer_client(world.vendor_admin), "shared")
    other_tenant = create(bearer_client(world.other_tenant_admin), "shared")
    second_admin_token = create(bearer_client(world.vendor_admin), "shared")

    assert other_tenant.status_code == 201
    assert other_tenant.json()["id"] != mine.json()["id"]
    assert other_tenant.json()["secret"] != mine.json()["secret"]
    assert second_admin_token.content == mine.content  # the same member, another token
    assert endpoints(world.tenant) == endpoints(world.other_tenant) == 1


def test_another_member_of_the_tenant_has_keys_of_their_own(world: World):
    from tests.accounts.factories import MembershipFactory

    colleague = MembershipFactory(tenant=world.tenant, role="vendor_admin")

    mine = create(bearer_client(world.vendor_admin), "shared")
    theirs = create(bearer_client(colleague), "shared")

    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert endpoints(world.tenant) == 2


LONGEST = "k" * 255


@pytest.mark.parametrize(
    "key",
    [
        "",
        "   ",
        "two words",
        "k" * 256,
        '"' + "k" * 256 + '"',
        '"unterminated',
        '""',
        '"bad \\escape"',
        "caf\u00e9",
        "tab\there",
    ],
)
def test_a_malformed_key_is_a_clear_400_and_changes_nothing(world: World, key: str):
    api = bearer_client(world.vendor_admin)

    response = create(api, key)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_invalid"
    assert "255" in error["message"]
    assert endpoints(world.tenant) == 0
    assert keys(world.tenant) == []


def test_a_key_of_255_characters_is_taken(world: World):
    assert create(bearer_client(world.vendor_admin), LONGEST).status_code == 201
    assert keys(world.tenant) == [LONGEST]


def test_an_error_answer_is_the_first_answer_too(world: World):
    api = bearer_client(world.vendor_admin)
    bad = {"url": "ftp://crm.example.com", "event_types": ["opportunity.won"]}

    first = create(api, "k1", bad)
    again = create(api, "k1", bad)

    assert first.status_code == again.status_code == 400
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert endpoints(world.tenant) == 0


def test_without_a_key_nothing_is_stored(world: World):
    api = bearer_client(world.vendor_admin)

    create(api, None)
    create(api, None)

    assert endpoints(world.tenant) == 2
    assert keys(world.tenant) == []


def test_a_partner_may_not_use_a_vendor_endpoint_with_a_key(world: World):
    response = create(bearer_client(world.partner_admin), "k1")

    assert response.status_code == 403
    assert endpoints(world.tenant) == 0
    assert keys(world.tenant) == []


def test_an_expired_key_is_free_again_and_the_sweep_deletes_only_expired_ones(world: World):
    api = bearer_client(world.vendor_admin)
    create(api, "old")
    create(api, "fresh")
    create(bearer_client(world.other_tenant_admin), "old")
    with tenant_context(world.tenant):
        IdempotencyKey.objects.filter(key="old").update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )

    assert create(api, "old").status_code == 201  # ran again: a new endpoint
    assert endpoints(world.tenant) == 3
    with tenant_context(world.tenant):
        IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        IdempotencyKey.objects.filter(key="fresh").update(
            expires_at=timezone.now() + timedelta(hours=1)
        )

    assert idempotency_key_purge() == 1

    assert keys(world.tenant) == ["fresh"]
    assert keys(world.other_tenant) == ["old"]


def test_keys_are_kept_24_hours(world: World):
    before = timezone.now()
    create(bearer_client(world.vendor_admin), "k1")

    with tenant_context(world.tenant):
        stored = IdempotencyKey.objects.get()
    assert stored.expires_at - stored.created_at == timedelta(hours=24)
    assert stored.created_at >= before

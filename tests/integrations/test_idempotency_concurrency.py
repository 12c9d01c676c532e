"""Idempotency-Key under truly concurrent requests (threads, each with its own PostgreSQL
connection, committed data): while the first request with a key runs, another with the
key is a 409; a burst of identical requests does the work once; and the unique constraint
alone, without the advisory lock, still lets only one of two racing requests commit."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections

from accounts.tenancy import tenant_context
from integrations.models import IdempotencyKey, WebhookEndpoint
from integrations.services import endpoints as endpoint_services
from integrations.services import idempotency
from tests.api_clients import bearer_client
from tests.conftest import World
from tests.threads import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)
ENDPOINTS = "/api/v1/webhook-endpoints/"
BODY = {"url": "https://crm.example.com/hooks", "event_types": ["opportunity.won"]}


def counts(world: World) -> tuple[int, int]:
    with tenant_context(world.tenant):
        return WebhookEndpoint.objects.count(), IdempotencyKey.objects.count()


def post(client: Any, key: str) -> Any:
    return client.post(ENDPOINTS, BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_while_the_first_request_runs_the_key_is_409(world: World, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    create = endpoint_services.webhook_endpoint_create

    def slow_create(**kwargs: Any) -> WebhookEndpoint:
        endpoint = create(**kwargs)
        entered.set()
        release.wait(timeout=30)
        return endpoint

    monkeypatch.setattr(endpoint_services, "webhook_endpoint_create", slow_create)
    client = bearer_client(world.vendor_admin)
    answers: list[Any] = []

    def first_request() -> None:
        try:
            answers.append(post(client, "k1"))
        finally:
            connections.close_all()

    first = threading.Thread(target=first_request)
    first.start()
    assert entered.wait(timeout=30)

    try:
        during = post(bearer_client(world.vendor_admin), "k1")
    finally:
        release.set()
        first.join(timeout=30)
    after = post(client, "k1")

    assert during.status_code == 409
    assert during.json()["error"]["code"] == "idempotency_key_in_use"
    assert answers[0].status_code == 201
    assert after.status_code == 201
    assert after.content == answers[0].content
    assert after["Idempotent-Replayed"] == "true"
    assert counts(world) == (1, 1)


def test_a_burst_of_the_same_request_does_the_work_once(world: World):
    clients = [bearer_client(world.vendor_admin) for _ in range(8)]
    answers: list[Any] = []

    errors = run_at_once(lambda client: answers.append(post(client, "burst")), clients)

    assert errors == []
    codes = sorted(answer.status_code for answer in answers)
    assert codes.count(201) >= 1
    assert set(codes) <= {201, 409}
    created = {answer.json()["id"] for answer in answers if answer.status_code == 201}
    assert len(created) == 1  # every 201 is the one request's answer (or its replay)
    assert counts(world) == (1, 1)


def test_the_unique_constraint_alone_lets_one_of_two_racing_requests_commit(
    world: World, monkeypatch
):
    """Without the advisory lock both requests run; the second to store its answer meets
    the unique constraint and its whole transaction (its endpoint too) rolls back."""
    stored = threading.Barrier(2)
    store = idempotency.idempotency_store

    def locked(*, tenant_id: int, membership_id: int, key: str, fingerprint: str) -> None:
        return None  # as if both took the lock: both do the work

    def store_together(**kwargs: Any) -> bool:
        stored.wait(timeout=30)  # both have done the work, neither has committed
        return store(**kwargs)

    monkeypatch.setattr("integrations.idempotency.idempotency_claim", locked)
    monkeypatch.setattr("integrations.idempotency.idempotency_store", store_together)
    clients = [bearer_client(world.vendor_admin) for _ in range(2)]
    answers: list[Any] = []

    errors = run_at_once(lambda client: answers.append(post(client, "race")), clients)

    assert errors == []
    assert sorted(answer.status_code for answer in answers) == [201, 409]
    loser = next(answer for answer in answers if answer.status_code == 409)
    assert loser.json()["error"]["code"] == "idempotency_key_in_use"
    assert counts(world) == (1, 1)

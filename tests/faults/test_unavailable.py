"""Faults met inside one request: the database or Redis is down.

PostgreSQL down: `/healthz` answers 503 without opening the tenant transaction, the API a
JSON 503 in its error shape, pages a plain "temporarily unavailable" page (no traceback,
no setting). Redis down: a signed-in person keeps working (sessions are in the database,
the cache degrades to misses). The same faults against real processes are in
tests/faults/test_make_run_faults.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import OperationalError
from django.test import Client

from tests.conftest import World

DEAD_REDIS = "unix:///tmp/prm-faults-no-such-redis.sock?db=0"


@contextmanager
def database_down() -> Iterator[None]:
    """Every database access fails as it does when PostgreSQL is stopped (undone before
    the test database rolls back)."""

    def refuse(self: BaseDatabaseWrapper) -> None:
        raise OperationalError('connection to server on socket "/tmp/.s.PGSQL.5432" failed')

    working = BaseDatabaseWrapper.ensure_connection
    BaseDatabaseWrapper.ensure_connection = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseDatabaseWrapper.ensure_connection = working  # type: ignore[method-assign]


@pytest.fixture
def redis_down(settings) -> None:
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": DEAD_REDIS},
    }


def signed_in(client_for, world: World) -> Client:
    client = client_for(world.vendor_admin)
    client.raise_request_exception = False
    return client


def test_healthz_answers_503_when_the_database_is_down(db: None):
    with database_down():
        response = Client(raise_request_exception=False).get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"] == "OperationalError"


def test_healthz_answers_200_when_all_is_up(db: None):
    response = Client().get("/healthz")

    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "database": "ok", "cache": "ok"},
    )


def test_the_api_answers_a_json_503_when_the_database_is_down(world: World, client_for):
    client = signed_in(client_for, world)

    with database_down():
        response = client.get("/api/v1/me/")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "error": {
            "code": "unavailable",
            "message": "The service is temporarily unavailable; try again shortly.",
            "fields": {},
        }
    }


@pytest.mark.parametrize("url", ["/vendor/", "/accounts/login/"])
def test_pages_answer_a_plain_503_when_the_database_is_down(world: World, client_for, url: str):
    client = signed_in(client_for, world)

    with database_down():
        response = client.get(url)

    body = response.content.decode()
    assert response.status_code == 503
    assert "PRM is temporarily unavailable" in body
    for leak in ("Traceback", "OperationalError", "SECRET_KEY", "DATABASES", "PGSQL"):
        assert leak not in body


def test_signed_in_pages_keep_working_when_redis_is_down(
    world: World, client_for, redis_down: None
):
    client = signed_in(client_for, world)

    for url in ("/vendor/", "/accounts/profile/", "/api/v1/me/"):
        assert client.get(url).status_code == 200, url


def test_the_cache_degrades_to_misses_quickly_when_redis_is_down(db: None, redis_down: None):
    started = time.monotonic()

    cache.set("fault", "1", 5)
    assert cache.get("fault", "missing") == "missing"
    assert cache.add("fault", "1") is False
    assert cache.get_many(["fault"]) == {}
    assert cache.incr("fault-count") == 1
    assert cache.delete("fault") is False
    assert time.monotonic() - started < 2


def test_healthz_reports_the_cache_but_stays_ready_when_redis_is_down(db: None, redis_down: None):
    response = Client().get("/healthz")

    # Pages keep working without Redis: a load balancer must keep sending them traffic.
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "unavailable"}

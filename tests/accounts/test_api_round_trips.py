"""What an API request costs the database, and the JSON it answers with.

A request served outside any transaction (as gunicorn serves it) opens one transaction,
pins it to the token's tenant and reads; it does not spend round trips clearing a
transaction-local setting that its own COMMIT clears anyway, and nothing is left on the
connection for the next request. The renderer writes the same JSON as DRF's own.
"""

from __future__ import annotations

import datetime
import json
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from accounts.renderers import ApiJSONRenderer
from pipeline.services.stages import stages_install_defaults
from tests.api_clients import api_as
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory


def set_configs(queries: list[dict]) -> list[str]:
    return [q["sql"] for q in queries if "set_config" in q["sql"]]


@pytest.mark.django_db(transaction=True)
def test_a_top_level_api_request_spends_no_round_trip_on_clearing_the_tenant(
    world: World, in_tenant
):
    with in_tenant(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    OpportunityFactory(tenant=world.tenant, partner=None, owner=world.vendor_admin.user)
    client = api_as(world, "vendor_admin")
    assert client.get("/api/v1/opportunities/").status_code == 200  # records last_used_at

    assert not connection.in_atomic_block
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/opportunities/")

    assert response.status_code == 200
    # One round trip authenticates: the token's hash is pinned, then the token and its
    # tenant, then the member and its user are read and pinned, in three statements sent
    # together and run in that order; nothing is cleared before COMMIT.
    pins = set_configs(captured.captured_queries)
    assert len(pins) == 1, pins
    statements = [part.strip() for part in pins[0].split(";") if part.strip()]
    assert len(statements) == 3, statements
    assert statements[0].startswith("SELECT set_config(")  # the hash, before the token is read
    assert "accounts_apitoken" in statements[1]
    assert "accounts_membership" in statements[2]
    # BEGIN, the authentication, the page, COMMIT.
    assert len(captured) == 4, [q["sql"][:80] for q in captured.captured_queries]
    with connection.cursor() as cursor:  # nothing carried into the connection's next use
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert (cursor.fetchone()[0] or "") == ""


def test_inside_an_outer_transaction_the_tenant_is_still_cleared(world: World, in_tenant):
    with in_tenant(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    client = api_as(world, "vendor_admin")
    client.get("/api/v1/opportunities/")

    assert client.get("/api/v1/opportunities/").status_code == 200

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        assert (cursor.fetchone()[0] or "") == ""


def test_the_renderer_writes_the_json_drf_writes():
    when = datetime.datetime(2026, 11, 30, 9, 15, 7, 123456, tzinfo=datetime.UTC)
    data = ReturnDict(
        {
            "next": None,
            "results": ReturnList(
                [
                    {
                        "id": 7,
                        "name": "Überweisung – 日本",
                        "amount": "1200.50",
                        "ratio": 0.1,
                        "open": True,
                        "tags": ("a", "b"),
                        "at": when,
                        "on": datetime.date(2026, 12, 1),
                        "exact": Decimal("3.10"),
                        "label": gettext_lazy("Not found."),
                        "uid": uuid.UUID(int=5),
                        "counts": {1: 2},
                    }
                ],
                serializer=None,
            ),
        },
        serializer=None,
    )

    ours = ApiJSONRenderer().render(data)
    drf = JSONRenderer().render(data)

    assert ours == drf
    assert json.loads(ours) == json.loads(drf)


def test_the_renderer_answers_nothing_for_no_data():
    assert ApiJSONRenderer().render(None) == b""

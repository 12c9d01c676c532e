"""Schemathesis against the whole API, as a vendor admin and as a partner rep: generated
requests (valid and invalid) never meet a server error and every answer matches the schema
(status code, content type, headers, body).

The schema is the one /api/schema/ serves (test_the_fuzzed_schema_is_the_served_one). The
requests go through the WSGI application in this process, so they share the test's
database transaction: whatever they create is rolled back, and the tokens used are of one
tenant, so it stays in that tenant meanwhile (each test checks the other tenant's rows are
exactly as before). Examples are bounded and derandomized: the
same requests every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Tenant
from accounts.services.tokens import api_token_create
from accounts.tenancy import tenant_context, tenant_scoped_models
from deals.models import ProductLine
from deals.services.configuration import registration_defaults_install
from pipeline.services.stages import stages_install_defaults
from prm.wsgi import application
from tests.conftest import World

ACTORS = ("vendor_admin", "partner_rep")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=6,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
STATEFUL = settings(FUZZ, max_examples=15, stateful_step_count=8)


def generated_schema() -> dict[str, Any]:
    """What /api/schema/ serves, generated without a request (no database needed yet)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


# Generated examples only (the coverage phase's exhaustive boundary cases would take
# minutes on this API), derandomized: the same requests every run.
CONFIG = schemathesis.Config.from_dict(
    {
        "phases": {"coverage": {"enabled": False}, "examples": {"enabled": False}},
        "generation": {"deterministic": True},
    }
)
SCHEMA = schemathesis.openapi.from_dict(generated_schema(), config=CONFIG)
SCHEMA.app = application  # requests go through the WSGI application, in this process


@pytest.fixture
def in_process(db: None) -> Iterator[None]:
    """Django closes the database connection at the end of each WSGI request; the test
    client does not, and neither may these requests (they run inside the test's
    transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def tenant_with_catalog(world: World) -> None:
    """Stages, registration rules and a product line, as a configured tenant has them."""
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
        registration_defaults_install(tenant=world.tenant)
        ProductLine.objects.create(tenant=world.tenant, code="cloud", name="Cloud Suite")


def tenant_fingerprint(tenant: Tenant) -> list[str | None]:
    """A digest of every row of every tenant table the tenant can see, in one query."""
    tables = sorted(model._meta.db_table for model in tenant_scoped_models())
    digests = ", ".join(
        f"(SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {table} t)"  # noqa: S608
        for table in tables
    )
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute(f"SELECT {digests}")  # table names come from the models
        return list(cursor.fetchone())


@pytest.fixture(params=ACTORS)
def auth(
    request: pytest.FixtureRequest, world: World, in_process: None
) -> Iterator[dict[str, str]]:
    """The actor's bearer token; afterwards, the other tenant is exactly as it was."""
    tenant_with_catalog(world)
    with tenant_context(world.tenant):
        _, secret = api_token_create(membership=world.member(request.param), name="fuzz")
    before = tenant_fingerprint(world.other_tenant)
    yield {"Authorization": f"Bearer {secret}"}
    assert tenant_fingerprint(world.other_tenant) == before


def test_the_fuzzed_schema_is_the_served_one(db: None):
    served = APIClient().get("/api/schema/", {"format": "json"}).json()

    assert served == generated_schema()


@SCHEMA.parametrize()
@FUZZ
def test_every_operation_answers_as_documented(case: schemathesis.Case, auth: dict[str, str]):
    savepoint = transaction.savepoint()  # each example starts from the same rows
    try:
        response = case.call(headers=auth)
    finally:
        transaction.savepoint_rollback(savepoint)

    case.validate_response(response, checks=CHECKS)


def test_sequences_of_calls_answer_as_documented(auth: dict[str, str]):
    class Sequences(SCHEMA.as_state_machine()):  # type: ignore[misc]
        """Each scenario builds on its own calls only: it starts from the same rows."""

        def setup(self) -> None:
            self.savepoint = transaction.savepoint()

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": auth}

        def validate_response(self, response: Any, case: schemathesis.Case, **_: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Sequences.run(settings=STATEFUL)

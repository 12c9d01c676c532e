"""The OpenAPI 3 schema at /api/schema/ is valid, complete and generated without warnings."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

API_OPERATIONS = {
    "/api/v1/me/": {"get"},
    "/api/v1/tiers/": {"get", "post"},
    "/api/v1/tiers/{id}/": {"get", "patch"},
    "/api/v1/partners/": {"get", "post"},
    "/api/v1/partners/{id}/": {"get", "patch"},
    "/api/v1/partners/{id}/suspend/": {"post"},
    "/api/v1/partners/{id}/reactivate/": {"post"},
    "/api/v1/invitations/": {"post"},
    "/api/v1/product-lines/": {"get", "post"},
    "/api/v1/registrations/": {"get", "post"},
    "/api/v1/registrations/{id}/": {"get", "patch"},
    "/api/v1/registrations/{id}/submit/": {"post"},
    "/api/v1/registrations/{id}/approve/": {"post"},
    "/api/v1/registrations/{id}/reject/": {"post"},
    "/api/v1/registrations/{id}/request-info/": {"post"},
    "/api/v1/registrations/{id}/withdraw/": {"post"},
    "/api/v1/registrations/{id}/extensions/": {"get", "post"},
    "/api/v1/registrations/{id}/extensions/{extension_id}/approve/": {"post"},
    "/api/v1/registrations/{id}/extensions/{extension_id}/decline/": {"post"},
    "/api/v1/commissions/": {"get"},
    "/api/v1/commissions/{id}/": {"get"},
    "/api/v1/commissions/{id}/approve/": {"post"},
    "/api/v1/commission-statements/": {"get"},
    "/api/v1/payouts/": {"get", "post"},
    "/api/v1/commission-plans/": {"get", "post"},
    "/api/v1/commission-plans/{id}/": {"get", "patch"},
    "/api/v1/commission-plans/{id}/preview/": {"get"},
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def schema(db: None) -> dict:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_a_valid_openapi_3_document(schema: dict):
    validate_schema(schema)  # raises on an invalid document

    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "PRM API"


def test_schema_lists_every_endpoint_and_method(schema: dict):
    operations = {path: set(item) & HTTP_METHODS for path, item in schema["paths"].items()}

    assert {path: operations.get(path) for path in API_OPERATIONS} == API_OPERATIONS


def test_schema_documents_bearer_tokens_the_error_shape_and_filters(schema: dict):
    components = schema["components"]
    list_partners = schema["paths"]["/api/v1/partners/"]["get"]

    assert components["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token of one membership (one tenant).",
    }
    assert set(components["schemas"]["ErrorOutput"]["properties"]) == {"error"}
    assert set(components["schemas"]["ErrorDetailOutput"]["properties"]) == {
        "code",
        "message",
        "fields",
    }
    assert {p["name"] for p in list_partners["parameters"]} == {
        "status",
        "tier_id",
        "region",
        "country",
        "page",
        "page_size",
    }
    assert "404" in schema["paths"]["/api/v1/partners/{id}/"]["patch"]["responses"]


def test_invitation_response_has_no_token_field(schema: dict):
    properties = schema["components"]["schemas"]["InvitationOutput"]["properties"]

    assert set(properties) == {"id", "email", "role", "partner_id", "expires_at", "status"}


def test_schema_generates_without_warnings_or_errors(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert target.read_text().startswith("openapi: 3.")


@pytest.mark.django_db
def test_docs_page_is_served_from_vendored_assets():
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"cdn" not in response.content.lower()

"""REST API of the accounts app: who am I. Routes are collected by accounts/urls.py."""

from __future__ import annotations

import copy
from typing import Any

from django.urls import path
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import ApiTokenAuthentication
from accounts.rest import MembershipApi
from accounts.serializers import Me, MeOutput, error_responses
from accounts.services.memberships import memberships_of


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Bearer prm_…` (tokens come from `create_api_token`)."""

    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        definition = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=ApiTokenAuthentication.keyword
        )
        return {**definition, "description": "An API token of one membership (one tenant)."}


class TenantSessionScheme(SessionScheme):
    """The browser's session cookie (unsafe methods also need the CSRF token)."""

    target_class = "accounts.authentication.TenantSessionAuthentication"
    priority = 0


class InputSerializerScheme(OpenApiSerializerExtension):
    """Request bodies refuse fields they do not take (InputSerializer): the schema says so
    with `additionalProperties: false`."""

    target_class = "accounts.serializers.InputSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        return {**schema, "additionalProperties": False}


PAGINATION_PARAMETERS = frozenset({"page", "cursor"})


def document_pagination_errors(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Spectacular postprocessing hook: a paginated list answers 400 to a page or cursor it
    cannot honour (accounts/pagination.py), so every such operation documents the 400."""
    error = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOutput"}}},
        "description": "Invalid request: a page or cursor the list cannot honour, or invalid "
        "filters (listed in `fields`).",
    }
    for item in result.get("paths", {}).values():
        for operation in item.values():
            names = {parameter.get("name") for parameter in operation.get("parameters", [])}
            if names & PAGINATION_PARAMETERS:
                operation["responses"].setdefault("400", copy.deepcopy(error))
    return result


class MeApi(MembershipApi):
    """The acting user, the tenant and role they act as, and all their tenants."""

    @extend_schema(responses={200: MeOutput, **error_responses(401, 403)})
    def get(self, request: Request) -> Response:
        membership = self.membership
        me = Me(membership=membership, memberships=memberships_of(membership.user))
        return Response(MeOutput(me).data)


urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
]

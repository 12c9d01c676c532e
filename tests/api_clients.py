"""API clients for tests: authenticated by real tokens, one World actor each."""

from __future__ import annotations

from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.services.tokens import api_token_create
from accounts.tenancy import tenant_context
from tests.conftest import World


def bearer_client(membership: Membership) -> APIClient:
    """An API client authenticated by a real token of the membership."""
    with tenant_context(membership.tenant):
        _, secret = api_token_create(membership=membership, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def api_as(world: World, actor: str | None) -> APIClient:
    """`actor` is a World attribute (see ALL_ACTORS), or None for an anonymous client."""
    return APIClient() if actor is None else bearer_client(world.member(actor))

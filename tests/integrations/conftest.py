from __future__ import annotations

from collections.abc import Iterator

import pytest

from accounts.models import Membership
from accounts.tenancy import tenant_context
from integrations.models import WebhookEndpoint
from integrations.services.endpoints import webhook_endpoint_create
from tests.integrations.crm_fixtures import connected, hubspot, salesforce  # noqa: F401  (fixtures)
from tests.integrations.receiver import Receiver, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def endpoint_for(
    admin: Membership, url: str, event_types: list[str] | None = None
) -> WebhookEndpoint:
    with tenant_context(admin.tenant):
        return webhook_endpoint_create(
            tenant=admin.tenant,
            actor=admin,
            url=url,
            event_types=event_types or ["opportunity.won", "opportunity.created"],
            description="CRM bridge",
        )

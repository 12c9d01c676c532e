"""Editing and deleting a webhook endpoint from its settings page: vendor admins of the
tenant only (another tenant's endpoint is a 404), bad input shown on the form with nothing
saved, deletion behind a disclosure and audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditEntry
from accounts.tenancy import tenant_context
from integrations.models import WebhookEndpoint
from tests.conftest import World
from tests.integrations.conftest import endpoint_for
from tests.pages import assert_login_redirect, member, messages_of

pytestmark = pytest.mark.django_db
URL = "https://crm.example.com/hooks"


@pytest.fixture
def endpoint(world: World) -> WebhookEndpoint:
    return endpoint_for(world.vendor_admin, URL)


def stored(endpoint: WebhookEndpoint) -> tuple | None:
    with tenant_context(endpoint.tenant_id):
        row = WebhookEndpoint.objects.filter(pk=endpoint.pk).first()
    return None if row is None else (row.url, row.event_types, row.description, row.secret)


def test_a_vendor_admin_edits_an_endpoint_from_its_page(world: World, client_for, endpoint):
    client = client_for(world.vendor_admin)
    edit = reverse("vendor:webhook_edit", args=[endpoint.pk])
    detail = reverse("vendor:webhook_detail", args=[endpoint.pk])
    assert f'href="{edit}"' in client.get(detail).content.decode()
    form = client.get(edit).content.decode()
    assert URL in form

    response = client.post(
        edit,
        {
            "url": "https://crm.example.com/v2",
            "event_types": ["lead.created", "opportunity.won"],
            "description": "v2",
        },
    )

    assert response.status_code == 302
    assert response.url == detail
    assert messages_of(response) == ["Endpoint saved."]
    assert stored(endpoint) == (
        "https://crm.example.com/v2",
        ["lead.created", "opportunity.won"],
        "v2",
        endpoint.secret,
    )
    with tenant_context(world.tenant):
        assert AuditEntry.objects.filter(verb="webhook_endpoint_updated").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "ftp://x.example.com/", "event_types": ["opportunity.won"]}, "http://"),
        ({"url": URL, "event_types": []}, "This field is required"),
        ({"url": URL, "event_types": ["opportunity.won"], "description": "<b>"}, "Plain text"),
    ],
)
def test_bad_input_is_shown_and_nothing_saved(world: World, client_for, endpoint, data, message):
    before = stored(endpoint)

    response = client_for(world.vendor_admin).post(
        reverse("vendor:webhook_edit", args=[endpoint.pk]), data
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert stored(endpoint) == before


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("anonymous", 302),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_only_the_tenant_s_vendor_admins_edit_or_delete(
    world: World, client_for, endpoint, actor, status
):
    before = stored(endpoint)
    client = client_for(member(world, actor))
    edit = reverse("vendor:webhook_edit", args=[endpoint.pk])

    shown = client.get(edit)
    posted = client.post(edit, {"url": "https://evil.example.com", "event_types": ["lead.created"]})
    deleted = client.post(reverse("vendor:webhook_delete", args=[endpoint.pk]))

    if actor == "anonymous":
        assert_login_redirect(shown, edit)
    else:
        assert shown.status_code == posted.status_code == deleted.status_code == status
    assert stored(endpoint) == before


def test_deleting_from_the_page(world: World, client_for, endpoint):
    client = client_for(world.vendor_admin)
    detail = client.get(reverse("vendor:webhook_detail", args=[endpoint.pk])).content.decode()
    assert "Its deliveries and their attempt log are deleted with it" in detail

    response = client.post(reverse("vendor:webhook_delete", args=[endpoint.pk]))

    assert response.status_code == 302
    assert response.url == reverse("vendor:webhook_list")
    assert messages_of(response) == [f"Endpoint {URL} deleted with its 0 deliveries."]
    assert stored(endpoint) is None
    with tenant_context(world.tenant):
        assert AuditEntry.objects.filter(verb="webhook_endpoint_deleted").count() == 1

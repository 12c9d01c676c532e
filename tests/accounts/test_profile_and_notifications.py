"""Profile page with API tokens; the notification list and bell."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import ApiToken, Notification
from accounts.services.notifications import notification_create
from accounts.services.tokens import api_token_create, token_hash
from tests.conftest import World


def test_creating_a_token_shows_it_once_and_stores_only_its_hash(
    world: World, client_for, in_tenant
):
    client = client_for(world.channel_manager)
    response = client.post(reverse("profile"), {"name": "CRM sync"})
    assert response.status_code == 200
    secret = re.search(
        r'data-testid="new-token"[^>]*value="([^"]+)"', response.content.decode()
    ).group(1)
    with in_tenant(world.tenant):
        token = ApiToken.objects.get(membership=world.channel_manager)
    assert token.name == "CRM sync"
    assert token.key_hash == token_hash(secret)
    assert secret not in client.get(reverse("profile")).content.decode()
    api = client_for(None).get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.status_code == 200


@pytest.mark.parametrize("name", ["", "x" * 101])
def test_a_bad_token_name_is_refused_and_nothing_created(world, client_for, in_tenant, name):
    response = client_for(world.vendor_admin).post(reverse("profile"), {"name": name})
    assert response.status_code == 400
    with in_tenant(world.tenant):
        assert not ApiToken.objects.exists()


def test_revoking_a_token_stops_it(world, client_for, in_tenant):
    with in_tenant(world.tenant):
        token, secret = api_token_create(membership=world.vendor_admin, name="t")
    client = client_for(world.vendor_admin)
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 302
    with in_tenant(world.tenant):
        token.refresh_from_db()
    assert token.revoked_at is not None
    assert (
        client_for(None).get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code
        == 401
    )


@pytest.mark.parametrize("actor", ["channel_manager", "partner_admin", "other_tenant_admin"])
def test_nobody_else_can_revoke_a_token(world, client_for, in_tenant, actor):
    with in_tenant(world.tenant):
        token, _ = api_token_create(membership=world.vendor_admin, name="t")
    response = client_for(world.member(actor)).post(reverse("api_token_revoke", args=[token.pk]))
    assert response.status_code == 404
    with in_tenant(world.tenant):
        token.refresh_from_db()
    assert token.revoked_at is None


@pytest.fixture
def notices(world: World, in_tenant):
    with in_tenant(world.tenant):
        mine = notification_create(
            tenant=world.tenant,
            recipients=[world.partner_rep.user],
            verb="test",
            message="Your deal <b>moved</b>",
            url="/partner/",
            email=False,
        )
        notification_create(
            tenant=world.tenant,
            recipients=[world.partner_admin.user],
            verb="test",
            message="Not for the rep",
            email=False,
        )
    with in_tenant(world.other_tenant):
        notification_create(
            tenant=world.other_tenant,
            recipients=[world.partner_rep.user],
            verb="test",
            message="Other tenant's news",
            email=False,
        )
    return mine


def test_the_bell_counts_unread_and_the_list_shows_only_mine(world, client_for, notices):
    page = client_for(world.partner_rep).get(reverse("notifications")).content.decode()
    assert 'data-testid="unread-count">1<' in page
    assert "Your deal &lt;b&gt;moved&lt;/b&gt;" in page
    assert "Not for the rep" not in page
    assert "Other tenant" not in page


def test_marking_read_clears_the_bell(world, client_for, notices, in_tenant):
    client = client_for(world.partner_rep)
    response = client.post(
        reverse("notifications_read"), {"id": notices[0].pk, "next": "/partner/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/partner/"
    with in_tenant(world.tenant):
        assert Notification.objects.get(pk=notices[0].pk).read_at is not None
    assert 'data-testid="unread-count"' not in client.get(reverse("notifications")).content.decode()


def test_someone_elses_notification_cannot_be_marked(world, client_for, notices, in_tenant):
    client_for(world.partner_admin).post(reverse("notifications_read"), {"id": notices[0].pk})
    with in_tenant(world.tenant):
        assert Notification.objects.get(pk=notices[0].pk).read_at is None


def test_an_offsite_next_is_ignored(world, client_for, notices):
    response = client_for(world.partner_rep).post(
        reverse("notifications_read"), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("notifications")

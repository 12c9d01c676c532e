"""Logging in and out, throttling, switching tenant, suspended partners."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from partners.services import partner_set_status
from tests.accounts.factories import PASSWORD, MembershipFactory
from tests.conftest import World


def login(client: Client, email: str, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


@pytest.mark.parametrize(
    ("actor", "portal"),
    [
        ("vendor_admin", "/vendor/"),
        ("channel_manager", "/vendor/"),
        ("partner_admin", "/partner/"),
        ("partner_rep", "/partner/"),
    ],
)
def test_login_lands_each_role_in_its_portal(world: World, actor: str, portal: str):
    client = Client()
    response = login(client, world.member(actor).user.email.upper())
    assert response.status_code == 302
    home = client.get(response["Location"])
    assert home.status_code == 302
    assert home["Location"] == portal


def test_wrong_password_is_refused_with_a_clear_error(world: World):
    response = login(Client(), world.vendor_admin.user.email, "wrong-password")
    assert response.status_code == 200
    assert "Please enter a correct email and password" in response.content.decode()
    assert "_auth_user_id" not in Client().session


def test_repeated_failures_lock_the_account_for_that_address(world: World):
    client = Client()
    for _ in range(5):
        login(client, world.vendor_admin.user.email, "wrong-password")
    locked = login(client, world.vendor_admin.user.email)  # even the right password
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    assert login(Client(), world.channel_manager.user.email).status_code == 302  # others fine


def test_anonymous_pages_redirect_to_login(db: None):
    for url in ("/", "/accounts/profile/", "/notifications/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_logout_ends_the_session(world: World, client_for):
    client = client_for(world.vendor_admin)
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/").status_code == 302
    assert client.get("/")["Location"].startswith(reverse("login"))


@pytest.fixture
def two_tenant_user(world: World):
    """The partner admin of `world.partner` is also a vendor admin of the other tenant."""
    MembershipFactory(
        tenant=world.other_tenant, user=world.partner_admin.user, role=Role.VENDOR_ADMIN
    )
    return world.partner_admin.user


def test_every_page_names_the_active_tenant_and_switching_changes_it(
    world, client_for, two_tenant_user
):
    client = client_for(world.partner_admin)
    page = client.get("/accounts/profile/").content.decode()
    assert "Active tenant: <strong>Acme Software</strong>" in page

    response = client.post(reverse("switch_tenant"), {"tenant_id": world.other_tenant.pk})
    assert response.status_code == 302
    assert response["Location"] == "/vendor/"
    page = client.get("/accounts/profile/").content.decode()
    assert "Active tenant: <strong>Globex</strong>" in page


@pytest.mark.parametrize("tenant_id", ["other", "garbage", ""])
def test_switching_to_a_tenant_without_membership_changes_nothing(world, client_for, tenant_id):
    client = client_for(world.vendor_admin)
    value = world.other_tenant.pk if tenant_id == "other" else tenant_id
    response = client.post(reverse("switch_tenant"), {"tenant_id": value}, follow=True)
    assert client.session["active_tenant_id"] == world.tenant.pk
    assert "Active tenant: <strong>Acme Software</strong>" in response.content.decode()


def suspend(world: World, in_tenant) -> None:
    with in_tenant(world.tenant):
        partner_set_status(
            tenant=world.tenant,
            actor=world.vendor_admin,
            partner_id=world.partner.pk,
            suspended=True,
        )


def test_people_of_a_suspended_partner_cannot_use_that_tenant(world, client_for, in_tenant):
    suspend(world, in_tenant)
    client = client_for(world.partner_rep)
    home = client.get("/")
    assert home.status_code == 403
    assert "suspended" in home.content.decode()
    assert client.get("/partner/").status_code == 403
    assert client_for(world.other_partner_rep).get("/").status_code == 302  # others unaffected


def test_a_suspended_partner_user_keeps_their_other_tenants(
    world, client_for, two_tenant_user, in_tenant
):
    suspend(world, in_tenant)
    response = client_for(world.partner_admin).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/vendor/"  # falls back to Globex, where they are admin
    client = client_for(world.partner_admin)
    refused = client.post(reverse("switch_tenant"), {"tenant_id": world.tenant.pk}, follow=True)
    assert "suspended" in refused.content.decode()


def test_the_tenant_switcher_shows_only_for_people_with_several_tenants(
    world, client_for, two_tenant_user
):
    single = client_for(world.vendor_admin).get("/accounts/profile/").content.decode()
    assert 'data-testid="tenant-select"' not in single
    assert "Active tenant: <strong>Acme Software</strong>" in single

    several = client_for(world.partner_admin).get("/accounts/profile/").content.decode()
    assert 'data-testid="tenant-select"' in several
    assert '<button type="submit" class="secondary on-dark">Switch</button>' in several
    assert "onchange" not in several  # a real button, no script submitting on change

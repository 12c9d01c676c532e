"""Journeys in a real Chromium: log into each portal, invite a colleague, and the
colleague accepts in a fresh browser context and lands in the right portal."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Membership, User
from accounts.tenancy import tenant_context
from partners.models import Invitation
from partners.services import invitation_token
from tests.accounts.factories import PASSWORD
from tests.conftest import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Harbour-Lantern-2031"


@pytest.fixture
def world(transactional_db: None) -> World:
    return build_world()


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def invitation_link(world: World, email: str, base: str) -> str:
    with tenant_context(world.tenant):
        invitation = Invitation.objects.get(email=email)
        return f"{base}/invitations/{invitation_token(invitation)}/"


def accept(page: Page, link: str, name: str) -> None:
    page.goto(link)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Accept and continue").click()


def test_vendor_admin_invites_a_channel_manager_who_lands_in_the_vendor_portal(
    world: World, live_server, new_page
):
    base = live_server.url
    admin = new_page()
    log_in(admin, base, world.vendor_admin.user.email)
    expect(admin).to_have_url(f"{base}/vendor/")
    expect(admin.get_by_test_id("active-tenant")).to_contain_text("Acme Software")

    admin.goto(f"{base}/vendor/invitations/new/")
    admin.get_by_label("Email").fill("casey@acme.test")
    admin.get_by_label("Role").select_option(label="Channel manager")
    admin.get_by_role("button", name="Send invitation").click()
    expect(admin.locator(".message.success")).to_contain_text("casey@acme.test")

    colleague = new_page()  # a fresh context: no cookies shared with the admin
    accept(colleague, invitation_link(world, "casey@acme.test", base), "Casey Channel")
    expect(colleague).to_have_url(f"{base}/vendor/")
    expect(colleague.get_by_test_id("active-tenant")).to_contain_text("Acme Software")
    expect(colleague.get_by_test_id("active-tenant")).to_contain_text("Channel manager")
    with tenant_context(world.tenant):
        membership = Membership.objects.get(user__email="casey@acme.test")
    assert (membership.role, membership.partner_id) == ("channel_manager", None)


def test_partner_admin_invites_a_rep_who_lands_in_the_partner_portal(
    world: World, live_server, new_page
):
    base = live_server.url
    partner_admin = new_page()
    log_in(partner_admin, base, world.partner_admin.user.email)
    expect(partner_admin).to_have_url(f"{base}/partner/")
    expect(partner_admin.get_by_test_id("active-tenant")).to_contain_text("Acme Software")

    partner_admin.goto(f"{base}/partner/invitations/new/")
    partner_admin.get_by_label("Email").fill("robin@northwind.test")
    partner_admin.get_by_label("Role").select_option(label="Partner rep")
    partner_admin.get_by_role("button", name="Send invitation").click()
    expect(partner_admin.locator(".message.success")).to_contain_text("robin@northwind.test")

    rep = new_page()
    accept(rep, invitation_link(world, "robin@northwind.test", base), "Robin Rep")
    expect(rep).to_have_url(f"{base}/partner/")
    expect(rep.get_by_test_id("active-tenant")).to_contain_text("Partner rep")
    with tenant_context(world.tenant):
        membership = Membership.objects.get(user__email="robin@northwind.test")
    assert (membership.role, membership.partner_id) == ("partner_rep", world.partner.pk)
    assert User.objects.get(email="robin@northwind.test").check_password(NEW_PASSWORD)


def test_a_partner_user_is_refused_the_vendor_portal_in_the_browser(
    world: World, live_server, new_page
):
    page = new_page()
    log_in(page, live_server.url, world.partner_rep.user.email)
    expect(page).to_have_url(re.compile(r"/partner/$"))
    response = page.goto(f"{live_server.url}/vendor/")
    assert response is not None
    assert response.status == 403

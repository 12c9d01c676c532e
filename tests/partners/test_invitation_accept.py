"""Accepting an invitation: signed, expiring, single-use; the invitee lands in their portal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role, User
from partners.models import Invitation
from partners.services import INVITATION_SALT, invitation_create, invitation_resend
from tests.conftest import World

FORM = {
    "full_name": "Dana Newhire",
    "password1": "Sunflower-Ledger-88",
    "password2": "Sunflower-Ledger-88",
}


def invite(
    world: World,
    in_tenant,
    *,
    role=Role.PARTNER_REP,
    partner="partner",
    email="dana@northwind.test",
):
    with in_tenant(world.tenant):
        return invitation_create(
            tenant=world.tenant,
            actor=world.vendor_admin,
            email=email,
            role=role,
            partner=getattr(world, partner) if partner else None,
        )


def accept_url(token: str) -> str:
    return reverse("invitation_accept", args=[token])


@pytest.mark.parametrize(
    ("role", "partner", "portal"),
    [
        (Role.PARTNER_REP, "partner", "/partner/"),
        (Role.CHANNEL_MANAGER, None, "/vendor/"),
    ],
)
def test_a_new_person_sets_a_password_and_lands_in_their_portal(
    world, in_tenant, role, partner, portal
):
    link = invite(world, in_tenant, role=role, partner=partner)
    client = Client()
    assert "Join Acme Software" in client.get(accept_url(link.token)).content.decode()

    response = client.post(accept_url(link.token), FORM)
    assert response.status_code == 302
    assert response["Location"] == portal
    assert client.get(portal).status_code == 200
    user = User.objects.get(email="dana@northwind.test")
    assert user.full_name == "Dana Newhire"
    assert user.check_password(FORM["password1"])
    with in_tenant(world.tenant):
        membership = Membership.objects.get(user=user)
        invitation = Invitation.objects.get(pk=link.invitation.pk)
    assert (membership.role, membership.partner_id) == (role, world.partner.pk if partner else None)
    assert invitation.accepted_by == user


def test_a_link_works_once(world, in_tenant):
    link = invite(world, in_tenant)
    Client().post(accept_url(link.token), FORM)
    again = Client().post(accept_url(link.token), {**FORM, "full_name": "Mallory"})
    assert again.status_code == 400
    assert "already been used" in again.content.decode()
    assert User.objects.filter(email="dana@northwind.test").count() == 1


def test_an_expired_invitation_is_refused(world, in_tenant):
    link = invite(world, in_tenant)
    with in_tenant(world.tenant):
        Invitation.objects.filter(pk=link.invitation.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    response = Client().post(accept_url(link.token), FORM)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not User.objects.filter(email="dana@northwind.test").exists()


def test_a_link_older_than_its_signature_allows_is_refused(world, in_tenant, settings):
    link = invite(world, in_tenant)
    settings.INVITATION_MAX_AGE_DAYS = -1  # every signature is now too old
    response = Client().get(accept_url(link.token))
    assert response.status_code == 400
    assert "expired" in response.content.decode()


@pytest.mark.parametrize("forge", ["tampered", "wrong_salt", "garbage", "other_tenant"])
def test_forged_links_are_refused_and_change_nothing(world, in_tenant, forge):
    link = invite(world, in_tenant)
    data = {"t": world.tenant.pk, "i": link.invitation.pk, "n": link.invitation.nonce}
    token = {
        "tampered": link.token[:-3] + ("AAA" if not link.token.endswith("AAA") else "BBB"),
        "wrong_salt": signing.dumps(data, salt="something-else"),
        "garbage": "not-a-token",
        "other_tenant": signing.dumps({**data, "t": world.other_tenant.pk}, salt=INVITATION_SALT),
    }[forge]
    response = Client().post(accept_url(token), FORM)
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert not User.objects.filter(email="dana@northwind.test").exists()


def test_a_resent_invitation_invalidates_the_old_link(world, in_tenant):
    old = invite(world, in_tenant)
    with in_tenant(world.tenant):
        new = invitation_resend(
            tenant=world.tenant, actor=world.vendor_admin, invitation_id=old.invitation.pk
        )
    assert Client().post(accept_url(old.token), FORM).status_code == 400
    assert Client().post(accept_url(new.token), FORM).status_code == 302


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({**FORM, "password2": "different-passphrase-1"}, "The two passwords differ."),
        ({**FORM, "password1": "123", "password2": "123"}, "This password is too short."),
        ({**FORM, "full_name": ""}, "This field is required."),
        ({**FORM, "full_name": "x" * 201}, "at most 200 characters"),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(world, in_tenant, form, message):
    link = invite(world, in_tenant)
    response = Client().post(accept_url(link.token), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.filter(email="dana@northwind.test").exists()


def test_html_in_a_name_is_stored_as_text_and_shown_escaped(world, in_tenant):
    link = invite(world, in_tenant)
    client = Client()
    client.post(accept_url(link.token), {**FORM, "full_name": "<script>alert(1)</script>"})
    assert User.objects.get(email="dana@northwind.test").full_name == "<script>alert(1)</script>"
    page = client.get(reverse("profile")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_existing_account_must_log_in_to_accept(world, in_tenant, client_for):
    link = invite(
        world,
        in_tenant,
        role=Role.VENDOR_ADMIN,
        partner=None,
        email=world.other_tenant_admin.user.email,
    )
    anonymous = Client().post(accept_url(link.token), FORM)
    assert anonymous.status_code == 400
    assert "Log in" in anonymous.content.decode()
    assert not world.other_tenant_admin.user.memberships.filter(tenant=world.tenant).exists()

    client = client_for(world.other_tenant_admin)
    response = client.post(accept_url(link.token))
    assert response.status_code == 302
    assert response["Location"] == "/vendor/"
    assert client.session["active_tenant_id"] == world.tenant.pk

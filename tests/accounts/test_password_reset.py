"""Password reset links: valid once, not after expiry, not when forged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from accounts.models import ApiToken, AuditEntry, User
from accounts.services.tokens import api_token_create
from accounts.tenancy import tenant_context
from tests.accounts.factories import MembershipFactory
from tests.conftest import ALL_ACTORS, World

NEW_PASSWORD = "a-brand-new-passphrase-42"


def reset_url(user: User, token: str | None = None) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse(
        "password_reset_confirm", args=[uid, token or default_token_generator.make_token(user)]
    )


def set_password(client: Client, url: str):
    page = client.get(url, follow=True)
    return client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else url,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def test_a_valid_link_sets_the_password_once(world: World):
    user = world.partner_rep.user
    url = reset_url(user)
    response = set_password(Client(), url)
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    reused = Client().get(url, follow=True)
    assert 'data-testid="invalid-link"' in reused.content.decode()


def test_a_forged_link_is_refused(world: World):
    user = world.partner_rep.user
    response = Client().get(reset_url(user, token="abc123-0123456789abcdef"), follow=True)
    assert 'data-testid="invalid-link"' in response.content.decode()
    user.refresh_from_db()
    assert not user.check_password(NEW_PASSWORD)


def test_an_expired_link_is_refused(world: World, monkeypatch: pytest.MonkeyPatch):
    user = world.partner_rep.user
    url = reset_url(user)
    later = PasswordResetTokenGenerator._now(default_token_generator) + timedelta(days=2)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)
    response = Client().get(url, follow=True)
    assert 'data-testid="invalid-link"' in response.content.decode()


def test_asking_for_a_reset_does_not_reveal_whether_an_account_exists(world: World):
    known = Client().post(reverse("password_reset"), {"email": world.partner_rep.user.email})
    unknown = Client().post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("password_reset_done")


# --- Rate limits: per address and per IP, the same answer either way ------------------------


def ask_reset(email: str, ip: str):
    return Client(REMOTE_ADDR=ip).post(reverse("password_reset"), {"email": email})


@pytest.fixture
def sent_tasks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple]]:
    """The reset e-mails the form hands to the broker (as the name it imported)."""
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(
        "accounts.forms.send_task_now", lambda name, *args: sent.append((name, args))
    )
    return sent


def reset_mails(sent_tasks) -> list[list[str]]:
    return [args[2] for name, args in sent_tasks if name == "accounts.tasks.email_send"]


def test_reset_requests_are_limited_per_address(world: World, sent_tasks, settings):
    email = world.partner_rep.user.email
    answers = [ask_reset(email, f"10.0.0.{n}") for n in range(1, 8)]

    assert {(r.status_code, r["Location"]) for r in answers} == {
        (302, reverse("password_reset_done"))
    }
    assert reset_mails(sent_tasks) == [[email]] * settings.PASSWORD_RESET_LIMIT


def test_reset_requests_are_limited_per_ip(world: World, sent_tasks):
    emails = [world.member(actor).user.email for actor in ALL_ACTORS]  # six people
    answers = [ask_reset(email, "10.0.0.9") for email in emails]

    assert {(r.status_code, r["Location"]) for r in answers} == {
        (302, reverse("password_reset_done"))
    }
    assert reset_mails(sent_tasks) == [[email] for email in emails[:5]]
    assert ask_reset(emails[5], "10.0.0.10").status_code == 302
    assert reset_mails(sent_tasks)[-1] == [emails[5]]  # another address from another IP


def test_the_limit_counts_unknown_addresses_and_answers_the_same(world: World, sent_tasks):
    for _ in range(5):
        ask_reset("nobody@example.com", "10.0.0.11")

    limited = ask_reset(world.partner_rep.user.email, "10.0.0.11")

    assert (limited.status_code, limited["Location"]) == (302, reverse("password_reset_done"))
    assert reset_mails(sent_tasks) == []


def test_the_limit_is_case_insensitive_on_the_address(world: World, sent_tasks):
    email = world.partner_rep.user.email
    for n in range(5):
        ask_reset(email.upper() if n % 2 else email, f"10.0.1.{n}")

    ask_reset(email.title(), "10.0.1.9")

    assert len(reset_mails(sent_tasks)) == 5


# --- API tokens end with the password -----------------------------------------------------------


def tokens_of(user: User, tenants) -> dict[str, bool]:
    """Token name → still live, across the given tenants."""
    live = {}
    for tenant in tenants:
        with tenant_context(tenant):
            for token in ApiToken.objects.filter(membership__user=user):
                live[token.name] = token.revoked_at is None
    return live


@pytest.fixture
def tokens(world: World):
    """The rep holds a token in each of two tenants; a colleague holds one."""
    second = MembershipFactory(
        tenant=world.other_tenant,
        role="partner_rep",
        partner=world.other_tenant_partner,
        user=world.partner_rep.user,
    )
    secrets = {}
    for name, membership in (
        ("acme", world.partner_rep),
        ("globex", second),
        ("colleague", world.partner_admin),
    ):
        with tenant_context(membership.tenant):
            _, secrets[name] = api_token_create(membership=membership, name=name)
    return secrets


def api_status(secret: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.get("/api/v1/me/").status_code


def test_a_password_reset_revokes_the_users_api_tokens_in_every_tenant(world: World, tokens):
    user = world.partner_rep.user
    assert api_status(tokens["acme"]) == 200

    response = set_password(Client(), reset_url(user))

    assert response.status_code == 302
    assert tokens_of(user, [world.tenant, world.other_tenant]) == {
        "acme": False,
        "globex": False,
    }
    assert api_status(tokens["acme"]) == api_status(tokens["globex"]) == 401
    assert api_status(tokens["colleague"]) == 200
    with tenant_context(world.tenant):
        assert AuditEntry.objects.filter(verb="api_token_revoked", actor=user).count() == 1


def test_a_password_change_revokes_the_users_api_tokens(world: World, tokens, client_for):
    user = world.partner_rep.user
    user.set_password("old-passphrase-1")
    user.save()
    client = client_for(world.partner_rep)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": "old-passphrase-1",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert tokens_of(user, [world.tenant, world.other_tenant]) == {
        "acme": False,
        "globex": False,
    }
    assert api_status(tokens["colleague"]) == 200
    assert client.get(reverse("profile")).status_code == 200  # still signed in, same tenant


def test_a_refused_password_change_keeps_the_tokens(world: World, tokens, client_for):
    client = client_for(world.partner_rep)

    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert api_status(tokens["acme"]) == 200

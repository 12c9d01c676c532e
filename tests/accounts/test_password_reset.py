"""Password reset links: valid once, not after expiry, not when forged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from tests.conftest import World

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

"""Helpers shared by the page tests of every app (role matrices, messages, query counts)."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership
from tests.conftest import World


def member(world: World, actor: str) -> Membership | None:
    return None if actor == "anonymous" else world.member(actor)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_login_redirect(response, url: str) -> None:
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def assert_constant_queries(client, url, add_rows, django_assert_num_queries) -> None:
    """The page costs the same number of queries after more rows are added."""
    client.get(url)  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as baseline:
        assert client.get(url).status_code == 200
    add_rows()
    with django_assert_num_queries(len(baseline)):
        assert client.get(url).status_code == 200

"""Response headers that harden every page: a Content-Security-Policy with no inline code,
no caching of anything a signed-in person or an API client sees, a Permissions-Policy; and
pages that need no inline code for the policy to hold."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import World

pytestmark = pytest.mark.django_db

SIGNED_IN_PAGES = ["/vendor/", "/vendor/partners/", "/accounts/profile/", "/notifications/"]


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )


@pytest.mark.parametrize("path", ["/accounts/login/", "/vendor/", "/api/v1/me/"])
def test_every_response_carries_a_policy_without_inline_code(world: World, client_for, path):
    response = client_for(world.vendor_admin).get(path)
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["form-action"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("path", [*SIGNED_IN_PAGES, "/api/v1/me/"])
def test_signed_in_pages_and_api_answers_are_never_cached(world: World, client_for, path):
    response = client_for(world.vendor_admin).get(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_an_anonymous_api_answer_is_not_cached_either(db: None):
    response = Client().get("/api/v1/me/")
    assert response.status_code in (401, 403)
    assert response["Cache-Control"] == "private, no-store"


def test_static_files_stay_cacheable_for_a_signed_in_person(world: World, client_for):
    response = client_for(world.vendor_admin).get("/static/css/prm.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert response["Content-Security-Policy"]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"\shx-on", re.I), "hx-on handler"),
]


@pytest.mark.parametrize("path", [*SIGNED_IN_PAGES, "/accounts/login/"])
def test_pages_hold_no_inline_code_and_configure_htmx_for_the_policy(
    world: World, client_for, path
):
    client = client_for(world.vendor_admin) if path != "/accounts/login/" else Client()
    page = client.get(path).content.decode()
    for pattern, what in INLINE:
        assert not pattern.search(page), f"{what} on {path}: {pattern.search(page).group(0)}"
    assert (
        '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false, '
        '"allowEval": false, "allowScriptTags": false}\'>'
    ) in page


def test_the_api_docs_load_their_start_up_script_as_a_file(db: None):
    page = Client().get("/api/docs/").content.decode()
    for pattern, what in INLINE:
        assert not pattern.search(page), f"{what} on the API docs"
    assert "?script=" in page


def test_a_favicon_is_linked_and_favicon_ico_is_not_a_404(db: None):
    page = Client().get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"

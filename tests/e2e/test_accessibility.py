"""Accessibility basics in a real browser: every control has a label, the skip link comes
first in the focus order, and pages fit a phone's width without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.conftest import World, build_world
from tests.e2e.test_portal_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VENDOR_PAGES = [
    "/vendor/",
    "/vendor/partners/",
    "/vendor/partners/new/",
    "/vendor/tiers/",
    "/vendor/tiers/new/",
    "/vendor/people/",
    "/vendor/invitations/",
    "/vendor/invitations/new/",
    "/vendor/audit/",
    "/accounts/profile/",
    "/notifications/",
]
PARTNER_PAGES = [
    "/partner/",
    "/partner/people/",
    "/partner/invitations/",
    "/partner/invitations/new/",
    "/accounts/profile/",
]

UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML)"""


@pytest.fixture
def world(transactional_db: None) -> World:
    return build_world()


def check_page(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None, url
    assert response.status == 200, url
    assert "[invalid name]" not in page.content(), url
    assert page.evaluate(UNLABELLED) == [], url
    assert page.locator("h1").count() >= 1, url
    assert page.locator("main#main").count() == 1, url


@pytest.mark.parametrize(
    ("actor", "pages"), [("vendor_admin", VENDOR_PAGES), ("partner_admin", PARTNER_PAGES)]
)
def test_every_control_is_labelled(world: World, live_server, new_page, actor, pages):
    page = new_page()
    log_in(page, live_server.url, world.member(actor).user.email)
    for path in pages:
        check_page(page, live_server.url + path)


def test_the_skip_link_is_first_and_moves_focus_to_the_content(world, live_server, new_page):
    page = new_page()
    log_in(page, live_server.url, world.vendor_admin.user.email)
    page.goto(f"{live_server.url}/vendor/partners/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


@pytest.mark.parametrize("path", ["/vendor/", "/vendor/partners/", "/vendor/people/"])
def test_pages_fit_a_phone_screen(world: World, live_server, browser, path):
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    log_in(page, live_server.url, world.vendor_admin.user.email)
    page.goto(live_server.url + path)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    context.close()
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"

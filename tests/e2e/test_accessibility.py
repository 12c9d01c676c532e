"""Accessibility in a real browser on every page of every portal, with real data: axe-core
finds no serious or critical violation at desktop (1280 px) and phone (390 px) widths, no
page scrolls sideways, every control has a label, no Content-Security-Policy violation
is reported, and the skip link comes first in the focus order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.e2e import scene as scenes
from tests.e2e.scene import Scene, build_scene
from tests.e2e.test_portal_journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
WIDTHS = (1280, 390)

UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML)"""

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.impact} ${v.id}: ${v.help} -> ` +
              v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
}"""

OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def scene(transactional_db: None) -> Scene:
    return build_scene()


def problems_on(page: Page, url: str, csp_errors: list[str]) -> list[str]:
    """Everything wrong with one page, at each width, as readable lines."""
    found: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        csp_errors.clear()
        try:
            response = page.goto(url)
        except PlaywrightError as error:
            return [f"{url}: {error.message.splitlines()[0]}"]
        if response is None or response.status != 200:
            return [f"{url}: status {response and response.status}"]
        if width == WIDTHS[0]:
            found += [f"unlabelled control {html}" for html in page.evaluate(UNLABELLED)]
            if page.locator("h1").count() < 1 or page.locator("main#main").count() != 1:
                found.append("no h1 or no main#main")
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            found.append(f"scrolls sideways by {overflow}px at {width}px")
        page.evaluate(AXE)  # evaluated by the DevTools protocol: not subject to the CSP
        found += [f"{line} (at {width}px)" for line in page.evaluate(RUN_AXE)]
        found += [f"CSP: {message}" for message in csp_errors]
    return [f"{url}: {line}" for line in found]


def check_pages(browser, base: str, email: str | None, paths: list[str]) -> list[str]:  # noqa: ANN001
    """One browser context per role: log in once, then walk its pages."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        if email:
            log_in(page, base, email)
        return [line for path in paths for line in problems_on(page, base + path, csp_errors)]
    finally:
        context.close()


ROLES: list[tuple[str, Callable[[Scene], list[str]]]] = [
    ("vendor_admin", scenes.vendor_admin_pages),
    ("channel_manager", scenes.channel_manager_pages),
    ("partner_admin", scenes.partner_admin_pages),
    ("partner_rep", scenes.partner_rep_pages),
]


@pytest.mark.parametrize(("actor", "pages"), ROLES, ids=[actor for actor, _ in ROLES])
def test_every_page_passes_axe_at_desktop_and_phone_width(
    scene: Scene, live_server, browser, actor, pages
):
    email = scene.world.member(actor).user.email
    problems = check_pages(browser, live_server.url, email, pages(scene))
    assert problems == [], "\n".join(problems)


def test_public_pages_pass_axe_at_desktop_and_phone_width(scene: Scene, live_server, browser):
    problems = check_pages(browser, live_server.url, None, scenes.ANONYMOUS_PAGES)
    assert problems == [], "\n".join(problems)


def test_the_skip_link_is_first_and_moves_focus_to_the_content(scene, live_server, new_page):
    page = new_page()
    log_in(page, live_server.url, scene.world.vendor_admin.user.email)
    page.goto(f"{live_server.url}/vendor/partners/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


CHECKBOXES = """() => Array.from(document.querySelectorAll('input[type=checkbox]'))
  .filter(box => box.offsetParent !== null)
  .map(box => {
    const label = box.labels[0].getBoundingClientRect(), own = box.getBoundingClientRect();
    return {width: own.width, gap: Math.max(0, label.left - own.right, own.left - label.right)};
  })"""
ACTION_CELLS = """() => Array.from(document.querySelectorAll('td.actions')).map(cell => {
  const row = cell.closest('tr').getBoundingClientRect(), table = cell.closest('table');
  const buttons = Array.from(cell.querySelectorAll('button, a'));
  return {display: getComputedStyle(cell).display,
          outside: buttons.filter(b => b.getBoundingClientRect().right
                                       > table.getBoundingClientRect().right + 1
                                       || b.getBoundingClientRect().bottom > row.bottom + 1)
                          .map(b => b.textContent.trim())};
})"""
COLOURS = """selector => Array.from(document.querySelectorAll(selector)).map(el => {
  const style = getComputedStyle(el);
  return [style.color, style.backgroundColor];
})"""


def test_layout_defects_found_by_new_users_stay_fixed(scene: Scene, live_server, browser):
    """Checkboxes beside their labels, action cells inside their rows with every button
    visible at 1280 px, notification buttons not white on white, and secondary danger
    buttons red on white."""
    w, base = scene.world, live_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    partner, vendor = context.new_page(), browser.new_context().new_page()
    log_in(partner, base, w.partner_rep.user.email)
    partner.goto(f"{base}/partner/registrations/new/")
    boxes = partner.evaluate(CHECKBOXES)
    assert boxes, "the registration form has checkboxes"
    assert all(box["width"] < 30 and box["gap"] < 20 for box in boxes), boxes

    partner.goto(f"{base}/notifications/")
    colours = partner.evaluate(COLOURS, ".notification-list button")
    assert colours, "notifications with buttons"
    assert all(colour == "rgb(29, 78, 216)" for colour, _ in colours), colours

    log_in(vendor, base, w.vendor_admin.user.email)
    vendor.set_viewport_size({"width": 1280, "height": 900})
    for path in ("/vendor/settings/stages/", "/vendor/settings/registrations/"):
        vendor.goto(base + path)
        cells = vendor.evaluate(ACTION_CELLS)
        assert cells, path
        assert all(c["display"] == "table-cell" and not c["outside"] for c in cells), cells
    for width, folded in ((390, True), (1280, False)):
        vendor.set_viewport_size({"width": width, "height": 900})
        vendor.goto(f"{base}/vendor/pipeline/")
        assert vendor.evaluate("!document.querySelector('details.filters-disclosure').open") == (
            folded
        ), f"filters folded at {width}px"
    # the totals arrive after the list, swapped in by htmx under the CSP
    expect(vendor.get_by_test_id("total-count")).to_be_visible()
    vendor.goto(f"{base}/vendor/")  # and so do the home's figures
    expect(vendor.get_by_test_id("tile-registrations-waiting")).to_be_visible()
    vendor.goto(f"{base}/vendor/settings/stages/")
    danger = vendor.evaluate(COLOURS, "button.secondary.danger")
    assert danger
    assert all(pair == ["rgb(185, 28, 28)", "rgb(255, 255, 255)"] for pair in danger), danger
    context.close()
    vendor.context.close()

"""The webhook settings in a real browser: a vendor admin finds them in the menu, registers
an endpoint (a real receiver on 127.0.0.1), sends a test message, sees it delivered and its
attempt, rotates the secret, disables and edits the endpoint; every page passes axe at 1280
and 390 px."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from accounts.tenancy import tenant_context
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services.deliveries import webhook_deliver
from tests.conftest import World, build_world
from tests.e2e.test_accessibility import problems_on
from tests.e2e.test_portal_journeys import log_in
from tests.integrations.receiver import Receiver, running_receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def test_a_vendor_admin_registers_pings_rotates_and_disables_an_endpoint(
    transactional_db: None, live_server, new_page, receiver: Receiver
):
    world: World = build_world()
    base = live_server.url
    page = new_page()
    csp_errors: list[str] = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    log_in(page, base, world.vendor_admin.user.email)

    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    page.get_by_label("URL").fill("not a url")
    page.get_by_role("button", name="Register endpoint").click()
    expect(page.get_by_text("Enter an http:// or https:// URL.").first).to_be_visible()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("opportunity.won").check()
    page.get_by_label("Description").fill("Our CRM bridge")
    page.get_by_role("button", name="Register endpoint").click()

    expect(page.get_by_text("Endpoint registered.")).to_be_visible()
    with tenant_context(world.tenant):
        endpoint = WebhookEndpoint.objects.get()
    page.get_by_text("Show the secret").click()
    expect(page.get_by_test_id("endpoint-secret")).to_have_text(endpoint.secret)

    page.get_by_role("button", name="Send a test message").click()
    expect(page.get_by_text("Test message queued")).to_be_visible()
    with tenant_context(world.tenant):
        delivery = WebhookDelivery.objects.get()
    assert webhook_deliver(tenant_id=world.tenant.pk, delivery_id=delivery.pk) is True  # the worker
    assert receiver.wait(1)[0].verified(endpoint.secret)["type"] == "webhook.ping"
    page.reload()
    row = page.get_by_test_id(f"webhook-delivery-{delivery.pk}")
    expect(row).to_contain_text("Delivered")
    expect(row).to_contain_text("200")
    row.get_by_role("link", name="webhook.ping").click()
    expect(page.get_by_test_id("webhook-attempts")).to_contain_text("200")
    page.go_back()

    page.get_by_role("button", name="Rotate the secret").click()
    expect(page.get_by_text("The previous secret also signs until")).to_be_visible()
    page.get_by_role("button", name="Disable").click()
    expect(page.get_by_test_id("endpoint-status")).to_have_text("Disabled")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Description").fill("<b>")
    page.get_by_role("button", name="Save endpoint").click()
    expect(page.get_by_text("Plain text only: no < or >.").first).to_be_visible()
    page.get_by_label("Description").fill("Our CRM bridge, v2")
    page.get_by_label("lead.created").check()
    page.get_by_role("button", name="Save endpoint").click()
    expect(page.get_by_text("Endpoint saved.")).to_be_visible()
    with tenant_context(world.tenant):
        endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.event_types) == (
        "Our CRM bridge, v2",
        ["lead.created", "opportunity.won"],
    )
    assert csp_errors == []

    problems = [
        line
        for path in (
            "/vendor/settings/webhooks/",
            f"/vendor/settings/webhooks/{endpoint.pk}/",
            f"/vendor/settings/webhooks/{endpoint.pk}/edit/",
            f"/vendor/settings/webhooks/deliveries/{delivery.pk}/",
        )
        for line in problems_on(page, base + path, csp_errors)
    ]
    assert problems == [], "\n".join(problems)

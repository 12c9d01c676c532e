"""The bulk lead import in a real Chromium with a real Celery worker: a channel manager
uploads a CSV with a wrong row and sees the errors per row (nothing stored), uploads the
corrected file and watches the import's page update itself (htmx) until every lead is
stored and routed; a partner rep accepts one of the imported leads from the inbox and
converts it into a registration. The pages pass axe-core at 1280 and 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.tenancy import tenant_context
from leads.models import Lead
from tests.conftest import World, build_world
from tests.e2e.test_lead_journey import axe_problems
from tests.e2e.test_portal_journeys import log_in
from tests.leads.conftest import with_lead_routing
from tests.leads.imports import csv_of, row
from tests.worker.conftest import start_celery_worker, task_log  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db: None) -> World:
    return with_lead_routing(build_world())


def upload(page: Page, base: str, raw: bytes, name: str) -> None:
    page.goto(f"{base}/vendor/leads/")
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": raw}
    )
    page.get_by_role("button", name="Upload and check").click()


def test_a_vendor_imports_leads_and_a_partner_converts_one(
    world,
    live_server,
    new_page,
    start_celery_worker,  # noqa: F811
):
    base = live_server.url
    rows = [row(n, product_lines="cloud") for n in range(1, 4)]
    with start_celery_worker():
        vendor = new_page()
        log_in(vendor, base, world.channel_manager.user.email)

        upload(vendor, base, csv_of([*rows, row(4, company_name="<b>Bold</b>")]), "wrong.csv")
        errors = vendor.get_by_test_id("import-errors")
        expect(errors).to_contain_text("Plain text only: no < or >.", timeout=30_000)
        expect(errors.locator("tbody tr")).to_have_count(1)
        expect(errors.locator("tbody td").first).to_have_text("5")
        expect(vendor.get_by_test_id("import-rejected")).to_contain_text("nothing was stored")
        with tenant_context(world.tenant):
            assert Lead.objects.count() == 0
        assert axe_problems(vendor, vendor.url) == []

        upload(vendor, base, csv_of(rows), "corrected.csv")
        expect(vendor.get_by_text("corrected.csv: 3 rows uploaded")).to_be_visible()
        done = vendor.get_by_test_id("import-done")
        expect(done).to_contain_text("3 leads imported and routed.", timeout=60_000)
        expect(vendor.get_by_test_id("leads-routed")).to_have_text("3 of 3")
        assert axe_problems(vendor, vendor.url) == []
        assert axe_problems(vendor, f"{base}/vendor/leads/import/") == []

        partner = new_page()
        log_in(partner, base, world.partner_rep.user.email)
        partner.goto(f"{base}/partner/leads/")
        expect(partner.get_by_test_id("offer")).to_have_count(3)
        partner.get_by_role("button", name="Accept Imported Company 00002").click()
        expect(partner.get_by_text("You accepted the lead Imported Company 00002")).to_be_visible()
        partner.get_by_role(
            "button", name="Convert Imported Company 00002 to a registration"
        ).click()
        expect(partner.get_by_text("converted into a registration")).to_be_visible()
        expect(partner.locator("h1")).to_contain_text("Imported Company 00002")

        vendor.goto(f"{base}/vendor/leads/?status=converted")
        expect(vendor.get_by_test_id("lead-row")).to_have_count(1)
        expect(vendor.get_by_test_id("lead-totals")).to_contain_text("1,002.00 USD")

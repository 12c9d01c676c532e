"""Bulk lead import (leads/services/imports.py): a bad file is refused at once and stores
nothing; a good file's rows are checked with the single lead's own rules; one wrong row
rejects the whole file with its errors per row (row, column, message) and stores no lead;
a clean file stores every lead, screened, and enqueues routing in batches."""

from __future__ import annotations

import pytest

from accounts.errors import PermissionDenied, ValidationFailed
from accounts.tenancy import tenant_context
from deals.services.registrations import registration_create
from leads.models import Lead, LeadImport
from leads.services import imports
from leads.services.imports import lead_import_create, lead_import_process
from tests.conftest import World
from tests.deals.conftest import registration_data
from tests.leads.imports import HEADER, csv_of, good_csv, row


def upload(world: World, raw: bytes, actor: str = "channel_manager") -> LeadImport:
    with tenant_context(world.tenant):
        return lead_import_create(
            tenant=world.tenant, actor=world.member(actor), file_name="leads.csv", raw=raw
        )


def process(world: World, lead_import: LeadImport) -> LeadImport:
    lead_import_process(tenant=world.tenant, import_id=lead_import.pk)
    with tenant_context(world.tenant):
        return LeadImport.objects.get(pk=lead_import.pk)


def counts(world: World) -> tuple[int, int]:
    with tenant_context(world.tenant):
        return Lead.objects.count(), LeadImport.objects.count()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "The file is empty."),
        ("company_name,country\nMüller GmbH,DE\n".encode("latin-1"), "not UTF-8 text"),
        (b"company_name,country\nA\x00,US\n", "NUL characters"),
        (b"company_name,website\nA,US\n", "Unknown column “website”"),
        (b"company_name,contact_name\nA,B\n", "Missing required column country."),
        (b"company_name,country,country\nA,US,US\n", "Column country appears more than once."),
        (b"company_name,country\n", "The file has a header but no rows."),
        (b'company_name,country\n"A\nB,US\n', "cannot be read as CSV"),
    ],
)
def test_a_bad_file_is_refused_at_once_and_stores_nothing(
    leads_world, sent_tasks, django_capture_on_commit_callbacks, raw, message
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationFailed) as e:
        upload(leads_world, raw)

    assert message in e.value.fields["file"][0]
    assert counts(leads_world) == (0, 0)
    assert sent_tasks == []


def test_too_many_rows_and_too_large_files_are_refused(leads_world, monkeypatch):
    monkeypatch.setattr(imports, "IMPORT_MAX_ROWS", 3)
    with pytest.raises(ValidationFailed) as many:
        upload(leads_world, good_csv(4))
    monkeypatch.setattr(imports, "IMPORT_MAX_BYTES", 100)
    with pytest.raises(ValidationFailed) as large:
        upload(leads_world, good_csv(2))

    assert many.value.fields["file"] == ["At most 3 rows in one file; this one has 4."]
    assert large.value.fields["file"] == ["The file is larger than 0 MB."]
    assert counts(leads_world) == (0, 0)


@pytest.mark.parametrize("actor", ["partner_admin", "partner_rep"])
def test_partners_cannot_import(leads_world, actor):
    with pytest.raises(PermissionDenied):
        upload(leads_world, good_csv(1), actor=actor)

    assert counts(leads_world) == (0, 0)


def test_an_upload_is_stored_and_its_processing_enqueued(
    leads_world, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead_import = upload(leads_world, b"\xef\xbb\xbf" + good_csv(3))

    assert (lead_import.status, lead_import.row_count, lead_import.file_name) == (
        "queued",
        3,
        "leads.csv",
    )
    assert sent_tasks == [
        ("leads.tasks.lead_import_process", (leads_world.tenant.pk, lead_import.pk))
    ]
    assert counts(leads_world) == (0, 1)


def test_one_wrong_row_rejects_the_file_with_errors_per_row_and_stores_no_lead(
    leads_world, sent_tasks, django_capture_on_commit_callbacks
):
    rows = [
        row(1),
        row(2, company_name="<script>alert(1)</script>", country="XX"),
        row(3, contact_email="not-an-email", product_lines="cloud|nope"),
        row(4, notes='=HYPERLINK("http://evil")', estimated_value="-5"),
        row(5, contact_phone="+1 (555) 0100", estimated_value="-0"),
        row(6, contact_phone="@SUM(A1)", currency="EURO"),
    ]
    lead_import = upload(leads_world, csv_of(rows))

    with django_capture_on_commit_callbacks(execute=True):
        done = process(leads_world, lead_import)

    assert done.status == "rejected"
    assert done.leads_created == 0
    assert done.content == ""
    assert [(e["row"], e["column"]) for e in done.errors] == [
        (3, "company_name"),
        (3, "country"),
        (4, "contact_email"),
        (4, "product_lines"),
        (5, "estimated_value"),
        (5, "notes"),
        (6, "estimated_value"),  # "-0" is a number (no formula), refused by the money rule
        (7, "contact_phone"),
        (7, "currency"),
    ]
    messages = {(e["row"], e["column"]): e["message"] for e in done.errors}
    assert messages[(3, "company_name")] == "Plain text only: no < or >."
    assert messages[(4, "product_lines")] == "Unknown product line: nope."
    assert messages[(5, "notes")] == "Starts with “=”: formulas are not accepted."
    assert done.error_count == 9
    assert counts(leads_world) == (0, 1)
    assert sent_tasks == []


def test_more_cells_than_columns_is_a_row_error(leads_world):
    raw = b"company_name,country\nGood Co,US\nBad Co,US,extra\n"

    done = process(leads_world, upload(leads_world, raw))

    assert done.errors == [
        {"row": 3, "column": "", "message": "More cells than the header has columns."}
    ]
    assert counts(leads_world) == (0, 1)


def test_a_clean_file_stores_every_lead_screened_and_routes_them_in_batches(
    leads_world, sent_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(imports, "ROUTE_BATCH", 2)
    with tenant_context(leads_world.tenant):
        registration_create(
            tenant=leads_world.tenant,
            actor=leads_world.other_partner_rep,
            submit=True,
            **registration_data(
                customer_name="Imported Company 00002",
                customer_website="https://imported00002.example",
                product_lines=["cloud"],
            ),
        )
    raw = csv_of(
        [row(1, region="EMEA"), row(2), row(3, currency="", estimated_value="")],
        header=(*HEADER, "region"),
    )

    with django_capture_on_commit_callbacks(execute=True):
        done = process(leads_world, upload(leads_world, raw))

    assert (done.status, done.leads_created, done.rows_checked, done.errors) == (
        "imported",
        3,
        3,
        [],
    )
    with tenant_context(leads_world.tenant):
        leads = list(Lead.objects.filter(lead_import=done).order_by("company_name"))
    assert [(x.status, x.region, x.currency, x.estimated_value) for x in leads] == [
        ("new", "EMEA", "USD", 1001),
        ("new", "NA", "USD", 1002),
        ("new", "NA", "USD", None),
    ]
    assert leads[0].product_lines == ["cloud", "security"]
    assert leads[1].preferred_partner_id == leads_world.other_partner.pk
    ids = sorted(lead.pk for lead in leads)
    assert sent_tasks[-2:] == [
        ("leads.tasks.lead_route_batch", (leads_world.tenant.pk, ids[:2])),
        ("leads.tasks.lead_route_batch", (leads_world.tenant.pk, ids[2:])),
    ]


def test_processing_twice_stores_the_leads_once(leads_world):
    lead_import = upload(leads_world, good_csv(2))

    process(leads_world, lead_import)
    again = process(leads_world, lead_import)

    assert again.status == "imported"
    assert counts(leads_world) == (2, 1)


def test_the_lost_routing_sweep_leaves_a_fresh_imports_leads_to_its_batches(leads_world):
    from datetime import timedelta

    from django.utils import timezone

    from leads.services.offers import IMPORT_ROUTING_GRACE, leads_unrouted
    from tests.leads.conftest import make_lead

    process(leads_world, upload(leads_world, good_csv(2)))
    single = make_lead(leads_world, company_name="Single Co", company_website="single.example")
    with tenant_context(leads_world.tenant):
        Lead.objects.update(updated_at=timezone.now() - timedelta(minutes=1))
        fresh = leads_unrouted(tenant=leads_world.tenant, older_than=timedelta(seconds=20))
        LeadImport.objects.update(finished_at=timezone.now() - IMPORT_ROUTING_GRACE)
        later = leads_unrouted(tenant=leads_world.tenant, older_than=timedelta(seconds=20))

    assert fresh == [single.pk]
    assert len(later) == 3

"""The bulk import's page and API: vendor roles upload (page, multipart or text/csv body);
partner people get 403; another tenant's import is a 404; a bad file is a clear error with
nothing stored or enqueued; the import's page polls its progress until it is finished and
lists the errors per row of a rejected file."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.tenancy import tenant_context
from leads.models import Lead, LeadImport
from leads.services.imports import lead_import_create, lead_import_process
from tests.api_clients import api_as
from tests.conftest import ALL_ACTORS, World
from tests.leads.imports import csv_of, good_csv, row
from tests.pages import assert_login_redirect, member

ACTORS = ("anonymous", *ALL_ACTORS)
VENDOR_OK = {"vendor_admin", "channel_manager"}
IMPORT_API = "/api/v1/leads/import/"
PROCESS = "leads.tasks.lead_import_process"


def imports_of(world: World) -> int:
    with tenant_context(world.tenant):
        return LeadImport.objects.count()


def an_import(world: World, raw: bytes, *, process: bool = False) -> LeadImport:
    with tenant_context(world.tenant):
        lead_import = lead_import_create(
            tenant=world.tenant, actor=world.channel_manager, file_name="leads.csv", raw=raw
        )
    if process:
        lead_import_process(tenant=world.tenant, import_id=lead_import.pk)
    with tenant_context(world.tenant):
        return LeadImport.objects.get(pk=lead_import.pk)


@pytest.mark.parametrize("actor", ACTORS)
def test_import_page_role_matrix(leads_world, client_for, actor):
    url = reverse("vendor:lead_import")

    response = client_for(member(leads_world, actor)).get(url)

    if actor == "anonymous":
        assert_login_redirect(response, url)
    elif actor in VENDOR_OK or actor == "other_tenant_admin":
        assert response.status_code == 200
        assert "company_name" in response.content.decode()
    else:
        assert response.status_code == 403


def test_uploading_a_good_file_stores_the_import_and_enqueues_it(
    leads_world, client_for, sent_tasks, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("march.csv", good_csv(3), content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(leads_world.channel_manager).post(
            reverse("vendor:lead_import"), {"file": upload}
        )

    with tenant_context(leads_world.tenant):
        lead_import = LeadImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("vendor:lead_import_detail", args=[lead_import.pk])
    assert (lead_import.file_name, lead_import.row_count) == ("march.csv", 3)
    assert sent_tasks == [(PROCESS, (leads_world.tenant.pk, lead_import.pk))]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("company_name,country\nMüller,DE\n".encode("utf-16"), "not UTF-8 text"),
        (b"name,country\nA,US\n", "Unknown column"),
        (b"company_name\nA\n", "Missing required column country."),
    ],
)
def test_uploading_a_bad_file_shows_the_error_and_stores_nothing(
    leads_world, client_for, sent_tasks, django_capture_on_commit_callbacks, raw, message
):
    upload = SimpleUploadedFile("bad.csv", raw, content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(leads_world.vendor_admin).post(
            reverse("vendor:lead_import"), {"file": upload}
        )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert imports_of(leads_world) == 0
    assert sent_tasks == []


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("vendor_admin", 200),
        ("channel_manager", 200),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_import_detail_page_isolation(leads_world, client_for, actor, status):
    lead_import = an_import(leads_world, good_csv(1))

    response = client_for(member(leads_world, actor)).get(
        reverse("vendor:lead_import_detail", args=[lead_import.pk])
    )

    assert response.status_code == status


def test_the_page_polls_while_the_worker_checks_and_stops_once_finished(leads_world, client_for):
    client = client_for(leads_world.channel_manager)
    lead_import = an_import(leads_world, good_csv(2))
    url = reverse("vendor:lead_import_detail", args=[lead_import.pk])

    waiting = client.get(url, headers={"HX-Request": "true"}).content.decode()
    lead_import_process(tenant=leads_world.tenant, import_id=lead_import.pk)
    imported = client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert 'hx-trigger="every 2s"' in waiting
    assert "0 of 2" in waiting
    assert "<html" not in waiting
    assert 'data-status="imported"' in imported
    assert 'data-testid="leads-routed">0 of 2' in imported
    assert 'hx-trigger="every 2s"' in imported  # still routing


def test_a_rejected_import_lists_errors_per_row_and_stops_polling(leads_world, client_for):
    lead_import = an_import(
        leads_world, csv_of([row(1), row(2, company_name="<b>Bold</b> Co")]), process=True
    )

    html = (
        client_for(leads_world.channel_manager)
        .get(reverse("vendor:lead_import_detail", args=[lead_import.pk]))
        .content.decode()
    )

    assert "1 error</strong>" in html
    assert "<td>Plain text only: no &lt; or &gt;.</td>" in html
    assert "<code>company_name</code>" in html
    assert "&lt;b&gt;" not in html  # the bad value itself is never echoed
    assert "hx-trigger" not in html
    with tenant_context(leads_world.tenant):
        assert Lead.objects.count() == 0


# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("vendor_admin", 202),
        ("channel_manager", 202),
        ("partner_admin", 403),
        ("partner_rep", 403),
    ],
)
def test_api_upload_role_matrix_multipart(
    leads_world, sent_tasks, django_capture_on_commit_callbacks, actor, status
):
    upload = SimpleUploadedFile("api.csv", good_csv(2), content_type="text/csv")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(leads_world, actor).post(IMPORT_API, {"file": upload}, format="multipart")

    assert response.status_code == status
    if status == 202:
        body = response.json()
        assert (body["status"], body["file_name"], body["row_count"]) == ("queued", "api.csv", 2)
        assert sent_tasks == [(PROCESS, (leads_world.tenant.pk, body["id"]))]
    else:
        assert imports_of(leads_world) == 0
        assert sent_tasks == []


def test_api_upload_as_a_text_csv_body_then_follow_it(leads_world):
    client = api_as(leads_world, "vendor_admin")

    created = client.post(IMPORT_API, good_csv(2), content_type="text/csv")
    lead_import_process(tenant=leads_world.tenant, import_id=created.json()["id"])
    followed = client.get(f"{IMPORT_API}{created.json()['id']}/")

    assert created.status_code == 202
    body = followed.json()
    assert followed.status_code == 200
    assert (body["status"], body["rows_checked"], body["leads_created"]) == ("imported", 2, 2)
    assert (body["leads_routed"], body["error_count"], body["errors"]) == (0, 0, [])


def test_api_follow_lists_errors_per_row(leads_world):
    lead_import = an_import(leads_world, csv_of([row(1, country="")]), process=True)

    body = api_as(leads_world, "channel_manager").get(f"{IMPORT_API}{lead_import.pk}/").json()

    assert body["status"] == "rejected"
    assert body["errors"] == [
        {"row": 2, "column": "country", "message": "A two-letter ISO country code."}
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "field_message"),
    [
        (b"name,country\nA,US\n", "text/csv", "Unknown column"),
        (b"\xff\xfeA", "text/csv", "not UTF-8 text"),
        (b"", "text/csv", "Send the CSV"),
    ],
)
def test_api_bad_files_are_400_and_store_nothing(
    leads_world, sent_tasks, django_capture_on_commit_callbacks, body, content_type, field_message
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(leads_world, "vendor_admin").post(
            IMPORT_API, body, content_type=content_type
        )

    assert response.status_code == 400
    assert field_message in response.json()["error"]["fields"]["file"][0]
    assert imports_of(leads_world) == 0
    assert sent_tasks == []


def test_api_json_body_is_refused(leads_world):
    response = api_as(leads_world, "vendor_admin").post(IMPORT_API, {"a": 1}, format="json")

    assert response.status_code == 415
    assert imports_of(leads_world) == 0


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("vendor_admin", 200),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_api_follow_isolation(leads_world, actor, status):
    lead_import = an_import(leads_world, good_csv(1))

    response = api_as(leads_world, actor).get(f"{IMPORT_API}{lead_import.pk}/")

    assert response.status_code == status
    if status != 200:
        assert "leads.csv" not in response.content.decode()

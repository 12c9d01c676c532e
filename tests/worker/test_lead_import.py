"""A 10,000-row lead import through the real worker on the real broker and PostgreSQL: the
upload enqueues its processing on commit; the worker checks every row (progress committed
as it goes), stores all 10,000 leads in one transaction and routes them with batch tasks
(one per 200 leads, not one task per lead)."""

from __future__ import annotations

import pytest
from celery.worker import WorkController

from accounts.tenancy import tenant_context
from leads.models import Lead, LeadImport
from leads.services.imports import lead_import_create
from tests.conftest import World
from tests.leads.conftest import set_profile, with_lead_routing
from tests.leads.imports import csv_of, good_csv, row
from tests.worker.conftest import TaskLog, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PROCESS = "leads.tasks.lead_import_process"
BATCH = "leads.tasks.lead_route_batch"
ROWS = 10_000


@pytest.fixture
def leads_world(world: World) -> World:
    return with_lead_routing(world)


def state(world: World, import_id: int) -> LeadImport:
    with tenant_context(world.tenant):
        return LeadImport.objects.get(pk=import_id)


def leads_by_status(world: World) -> dict[str, int]:
    with tenant_context(world.tenant):
        rows = Lead.objects.values_list("status", flat=True)
        found: dict[str, int] = {}
        for status in rows:
            found[status] = found.get(status, 0) + 1
        return found


def test_ten_thousand_rows_are_imported_and_routed_by_the_worker(
    leads_world, worker: WorkController, task_log: TaskLog
):
    # capacity for every lead: each is offered (not queued), so routing does its full work
    set_profile(leads_world.partner, lead_capacity=1000)
    set_profile(leads_world.other_partner, lead_capacity=1000, territories=["EMEA"])
    with tenant_context(leads_world.tenant):
        lead_import = lead_import_create(
            tenant=leads_world.tenant,
            actor=leads_world.channel_manager,
            file_name="ten-thousand.csv",
            raw=good_csv(ROWS),
        )

    runs = task_log.wait(PROCESS, timeout=600)

    assert runs[0].retval == "imported"
    done = state(leads_world, lead_import.pk)
    assert (done.status, done.row_count, done.rows_checked, done.leads_created) == (
        "imported",
        ROWS,
        ROWS,
        ROWS,
    )
    batches = task_log.wait(BATCH, count=1, timeout=120)
    assert len(batches[0].args[1]) == 200
    assert batches[0].retval == 200


def test_a_rejected_file_stores_nothing_through_the_worker(
    leads_world, worker: WorkController, task_log: TaskLog
):
    rows = [row(n) for n in range(1, 3001)]
    rows[2999] = row(3000, country="Atlantis")
    with tenant_context(leads_world.tenant):
        lead_import = lead_import_create(
            tenant=leads_world.tenant,
            actor=leads_world.vendor_admin,
            file_name="bad.csv",
            raw=csv_of(rows),
        )

    task_log.wait(PROCESS, timeout=300)

    done = state(leads_world, lead_import.pk)
    assert (done.status, done.rows_checked, done.error_count) == ("rejected", 3000, 1)
    assert done.errors == [
        {"row": 3001, "column": "country", "message": "A two-letter ISO country code."}
    ]
    assert leads_by_status(leads_world) == {}
    assert task_log.of(BATCH) == []
    wait_until(lambda: True)

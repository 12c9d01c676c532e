"""A 10,000-row lead import through the real worker on the real broker and PostgreSQL: the
upload enqueues its processing on commit; the worker checks every row (progress committed
as it goes), stores all 10,000 leads in one transaction and routes them with batch tasks
(one per ROUTE_BATCH leads, not one task per lead)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from celery.signals import task_prerun
from celery.worker import WorkController

from accounts.services import events as events_service
from accounts.services.events import DISPATCH_MANY_TASK
from accounts.tenancy import tenant_context
from leads import tasks
from leads.models import Lead, LeadImport
from leads.services import imports
from leads.services.imports import lead_import_create
from prm.celery import app as celery_app
from tests.conftest import World
from tests.leads.conftest import set_profile, with_lead_routing
from tests.leads.imports import csv_of, good_csv, row
from tests.worker.conftest import TaskLog

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PROCESS = "leads.tasks.lead_import_process"
BATCH = "leads.tasks.lead_route_batch"
ROWS = 10_000


@pytest.fixture
def leads_world(world: World) -> World:
    return with_lead_routing(world)


@pytest.fixture
def batch_starts() -> Iterator[list[str]]:
    """The batch tasks the worker started (task_prerun), from the test's beginning."""
    started: list[str] = []

    def count(sender=None, **_: object) -> None:  # noqa: ANN001
        if sender is not None and sender.name == BATCH:
            started.append(sender.name)

    task_prerun.connect(count, weak=False)
    yield started
    task_prerun.disconnect(count)


def settle(task_log: TaskLog, started: list[str]) -> None:
    """Wait until every batch the worker took has finished, and none started for 3 s (the
    database cannot be flushed under a routing)."""
    quiet_since, seen = time.monotonic(), -1
    while time.monotonic() - quiet_since < 3:
        finished = len(task_log.of(BATCH))
        if len(started) > finished or finished != seen:
            quiet_since, seen = time.monotonic(), finished
        time.sleep(0.1)


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
    leads_world, worker: WorkController, task_log: TaskLog, batch_starts, monkeypatch
):
    # small batches here, so the ones still running when the test ends finish quickly
    monkeypatch.setattr(imports, "ROUTE_BATCH", 20)
    # each batch sends its lane's next one when done: recorded here, not sent (the test
    # stops after the first batches)
    following: list[tuple[object, ...]] = []
    monkeypatch.setattr(tasks, "send_task_now", lambda *args: following.append(args) or True)
    # The import's 10,000 lead.created events are recorded, but their dispatch chain is not
    # this test's business (tests/integrations/test_import_events.py): left running, it
    # would outlive the test and its database flush.
    enqueue = events_service.enqueue_on_commit
    monkeypatch.setattr(
        events_service,
        "enqueue_on_commit",
        lambda name, *args: None if name == DISPATCH_MANY_TASK else enqueue(name, *args),
    )
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
    celery_app.control.purge()  # the other batches are not this test's business
    settle(task_log, batch_starts)
    assert len(batches[0].args[1]) == 20
    assert batches[0].retval == 20  # each lead offered
    # two lanes of 250 batches each: the first batch of a lane sends the lane's next
    name, tenant_id, lead_ids, rest = following[0]
    assert (name, tenant_id, len(lead_ids), len(rest)) == (BATCH, leads_world.tenant.pk, 20, 248)


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

"""The weekly forecast snapshot on a real worker: the beat job stores the week's rows once,
and running it again in the same week stores nothing more."""

from __future__ import annotations

import pytest
from celery.worker import WorkController

from accounts.tenancy import tenant_context
from analytics.models import ForecastSnapshot
from tests.analytics.conftest import generate
from tests.conftest import World, build_world
from tests.worker.conftest import TaskLog, send_task

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SNAPSHOT = "analytics.tasks.forecast_snapshot"


@pytest.fixture
def committed_world(transactional_db: None) -> World:
    world = build_world()
    generate(world, count=20)
    return world


def test_the_worker_takes_the_weekly_snapshot_once(
    committed_world: World, worker: WorkController, task_log: TaskLog
):
    send_task(SNAPSHOT)
    first = task_log.wait(SNAPSHOT)[0]
    with tenant_context(committed_world.tenant):
        rows = ForecastSnapshot.objects.count()
        totals = ForecastSnapshot.objects.filter(partner__isnull=True).count()
    assert first.state == "SUCCESS"
    assert first.retval == rows + 2  # and the other tenant's two (empty) total rows
    assert totals == 2  # this quarter and the next, one tenant-total row each

    send_task(SNAPSHOT)
    second = task_log.wait(SNAPSHOT, count=2)[1]
    assert second.retval == 0
    with tenant_context(committed_world.tenant):
        assert ForecastSnapshot.objects.count() == rows

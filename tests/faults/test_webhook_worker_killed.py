"""A Celery worker process killed (SIGKILL, its whole process group) while it waits for a
webhook endpoint's answer loses nothing: the delivery row stays pending under its lease,
and once the lease ends the beat sweep has another worker send it, with the same
webhook-id and a signature that verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from accounts.tenancy import tenant_context
from integrations.models import WebhookAttempt, WebhookDelivery
from integrations.services.deliveries import LEASE, webhook_endpoint_ping
from prm.celery import app as celery_app
from tests.conftest import World, build_world
from tests.integrations.conftest import endpoint_for
from tests.integrations.receiver import Receiver, running_receiver
from tests.worker.conftest import (  # noqa: F401  (fixtures of the worker tests)
    StartWorker,
    send_task,
    start_celery_worker,
    task_log,
    wait_until,
)

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


@pytest.fixture
def held_receiver() -> Iterator[Receiver]:
    """A receiver that takes each request and keeps it waiting until `hold` is set."""
    with running_receiver() as receiver:
        receiver.hold = threading.Event()
        yield receiver


@pytest.fixture
def worker_process() -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery worker` (prefork, one child) on this test's database and broker."""
    settings = connection.settings_dict
    options = settings.get("OPTIONS", {})
    # The embedded PostgreSQL's URL names its socket directory as a `host` option, which
    # lands in OPTIONS, not HOST: without it the worker reached the machine's default socket.
    host = str(settings["HOST"] or options.get("host") or "")
    port = settings["PORT"] or options.get("port")
    netloc = quote(host, safe="") + (f":{port}" if port else "")
    url = f"postgresql://{settings['OWNER_USER']}@{netloc}/{settings['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        # the settings' form (unix://…?db=N for the embedded Redis), not the broker URL
        # Celery derives from it (redis+socket://…?virtual_host=N), which settings cannot read
        "REDIS_URL": django_settings.REDIS_URL,
        "PRM_TESTING": "1",
    }
    args = [sys.executable, "-m", "celery", "-A", "prm", "worker", "--pool=prefork"]
    args += ["--concurrency=1", "--without-mingle", "--without-gossip", "-l", "WARNING"]
    process = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_worker_killed_mid_send_loses_nothing(
    transactional_db: None,
    held_receiver: Receiver,
    worker_process: subprocess.Popen[bytes],
    start_celery_worker: StartWorker,  # noqa: F811  (the imported fixture)
):
    celery_app.control.purge()
    world: World = build_world()
    endpoint = endpoint_for(world.vendor_admin, held_receiver.url)
    with tenant_context(world.tenant):
        delivery = webhook_endpoint_ping(
            tenant=world.tenant, actor=world.vendor_admin, endpoint_id=endpoint.pk
        )

    [first] = held_receiver.wait(1, timeout=60)  # the worker process is mid-send
    os.killpg(worker_process.pid, signal.SIGKILL)
    worker_process.wait()
    held_receiver.hold.set()  # type: ignore[union-attr]

    with tenant_context(world.tenant):
        leased = WebhookDelivery.objects.get(pk=delivery.pk)
        assert not WebhookAttempt.objects.exists()
    assert leased.status == "pending"  # not lost, not counted as an attempt
    assert leased.next_attempt_at <= timezone.now() + LEASE
    wait_until(
        lambda: timezone.now() > leased.next_attempt_at,
        timeout=LEASE.total_seconds() + 5,
        what="the lease to end",
    )
    with start_celery_worker(purge=False):
        send_task("integrations.tasks.webhook_sweep")  # what beat does every 10 s
        first, second = held_receiver.wait(2)

        def settled() -> WebhookDelivery | None:
            with tenant_context(world.tenant):
                row = WebhookDelivery.objects.get(pk=delivery.pk)
            return row if row.status == "succeeded" else None

        done = wait_until(settled, what="the redelivery recorded")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert second.verified(endpoint.secret)["type"] == "webhook.ping"
    assert done.attempts == 1

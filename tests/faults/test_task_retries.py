"""Tasks retry transient errors (the database restarting, a mail server hiccup) with
backoff instead of waiting for a sweep; work that missed the queue is swept within 30 s."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery import current_app
from django.conf import settings
from django.db.utils import InterfaceError, OperationalError

import accounts.tasks
import analytics.tasks
import commissions.tasks
import deals.tasks
import integrations.tasks
import leads.tasks
import partners.tasks
import pipeline.tasks
from accounts.queue import LOST_AFTER
from tests.accounts.factories import TenantFactory

pytestmark = pytest.mark.django_db
TASK_MODULES = (
    accounts.tasks,
    analytics.tasks,
    commissions.tasks,
    deals.tasks,
    integrations.tasks,
    leads.tasks,
    partners.tasks,
    pipeline.tasks,
)

WORK_TASKS = [
    "accounts.tasks.event_dispatch",
    "accounts.tasks.notification_send_email",
    "accounts.tasks.email_send",
    "commissions.tasks.commission_attribute_pending",
    "deals.tasks.registration_screen",
    "integrations.tasks.webhook_deliver",
    "leads.tasks.lead_route",
    "leads.tasks.lead_route_batch",
    "leads.tasks.lead_import_process",
    "partners.tasks.invitation_send",
    "pipeline.tasks.stale_digest_send",
]
SWEEPS = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


@pytest.mark.parametrize("name", WORK_TASKS)
def test_work_tasks_retry_transient_database_errors_with_backoff(name: str):
    task = current_app.tasks[name]

    assert set(task.autoretry_for) >= {OperationalError, InterfaceError, OSError}
    assert (task.retry_backoff, task.retry_backoff_max, task.retry_jitter) == (2, 120, True)
    assert task.max_retries == 8
    # every countdown stays far under the broker's visibility timeout (no double runs)
    assert task.retry_backoff_max < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]


@pytest.mark.parametrize("name", sorted(SWEEPS))
def test_sweeps_do_not_retry_their_next_run_does(name: str):
    assert not getattr(current_app.tasks[name], "autoretry_for", ())


def test_screening_meets_the_database_restarting_and_retries(monkeypatch: pytest.MonkeyPatch):
    tenant = TenantFactory()
    calls: list[int] = []

    def screen_once_the_database_is_back(*, tenant: object, registration_id: int) -> object:
        calls.append(registration_id)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return SimpleNamespace(status="approved")

    monkeypatch.setattr(deals.tasks, "screen", screen_once_the_database_is_back)

    result = deals.tasks.registration_screen.apply(args=(tenant.pk, 42))

    assert (result.state, result.result, calls) == ("SUCCESS", "approved", [42, 42, 42])


@pytest.mark.parametrize(
    ("sweep", "age"),
    [
        ("outbox-sweep", timedelta(0)),  # any undispatched event is due at once
        ("registration-screen-sweep", LOST_AFTER),
        ("notification-email-sweep", LOST_AFTER),
        ("invitation-send-sweep", LOST_AFTER),
    ],
)
def test_work_that_missed_the_queue_is_swept_within_30_seconds(sweep: str, age: timedelta):
    interval = float(settings.CELERY_BEAT_SCHEDULE[sweep]["schedule"])

    assert age.total_seconds() + interval <= 30


@pytest.mark.parametrize(
    ("task", "pending"),
    [
        (accounts.tasks.notification_email_sweep, "notification_email_pending"),
        (partners.tasks.invitation_send_sweep, "invitation_send_pending"),
    ],
)
def test_the_e_mail_sweeps_take_work_older_than_lost_after(
    task, pending: str, monkeypatch: pytest.MonkeyPatch
):
    TenantFactory()
    asked: list[int] = []

    def record(**kwargs: object) -> list[int]:
        asked.append(kwargs["older_than_seconds"])
        return []

    module = accounts.tasks.notifications if "notification" in pending else partners.services
    monkeypatch.setattr(module, pending, record)

    task.apply()

    assert asked == [20]

"""Notifications: in-app rows, and their e-mails sent once by a real Celery worker; the
beat sweep e-mails the ones whose task never reached the broker."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from celery.worker import WorkController
from django.conf import settings
from django.core import mail
from django.utils import timezone

from accounts.models import Notification
from accounts.services.notifications import notification_create
from accounts.tenancy import tenant_context
from prm.celery import app as celery_app
from tests.conftest import World, build_world
from tests.worker.conftest import PrivateBroker, StartWorker, TaskLog, send_task

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SEND = "accounts.tasks.notification_send_email"
SWEEP = "accounts.tasks.notification_email_sweep"
MESSAGE = "Northwind Resellers submitted a registration for Initrode."


@pytest.fixture
def committed_world(transactional_db: None) -> World:
    return build_world()


def stored(world: World, notification_id: int) -> Notification:
    with tenant_context(world.tenant):
        return Notification.objects.select_related("recipient").get(pk=notification_id)


def test_worker_emails_each_recipient_once_and_the_in_app_rows_stay_unread(
    committed_world: World, worker: WorkController, task_log: TaskLog
):
    world = committed_world
    manager, admin = world.channel_manager.user, world.vendor_admin.user
    with tenant_context(world.tenant):
        created = notification_create(
            tenant=world.tenant,
            recipients=[manager, admin, manager],
            verb="registration_submitted",
            message=MESSAGE,
            url="/vendor/registrations/7/",
        )

    runs = task_log.wait(SEND, 2)
    assert sorted((r.args, r.retval) for r in runs) == sorted(
        ((world.tenant.pk, n.pk), True) for n in created
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted([manager.email, admin.email])
    for message in mail.outbox:
        assert message.subject == f"[PRM] {MESSAGE}"
        assert message.body == f"{MESSAGE}\n\n{settings.SITE_URL}/vendor/registrations/7/"
    rows = [stored(world, n.pk) for n in created]
    assert sorted(r.recipient.email for r in rows) == sorted([manager.email, admin.email])
    assert all(r.emailed_at is not None and r.read_at is None for r in rows)


def test_email_goes_out_once_when_the_task_runs_more_than_once(
    committed_world: World, worker: WorkController, task_log: TaskLog
):
    world = committed_world
    with tenant_context(world.tenant):
        [notification] = notification_create(
            tenant=world.tenant,
            recipients=[world.partner_rep.user],
            verb="stage_changed",
            message="Your deal moved to Proposal.",
        )
    send_task(SEND, world.tenant.pk, notification.pk)  # duplicates, possibly running at once
    send_task(SEND, world.tenant.pk, notification.pk)

    runs = task_log.wait(SEND, 3)
    assert sorted(r.retval for r in runs) == [False, False, True]
    assert [m.to for m in mail.outbox] == [[world.partner_rep.user.email]]
    assert stored(world, notification.pk).emailed_at is not None


def test_sweep_emails_notifications_whose_enqueue_was_lost(
    committed_world: World,
    private_broker: PrivateBroker,
    start_celery_worker: StartWorker,
    task_log: TaskLog,
    caplog: pytest.LogCaptureFixture,
):
    world = committed_world
    private_broker.stop()
    caplog.set_level(logging.WARNING, logger="accounts.queue")
    with tenant_context(world.tenant):
        [lost] = notification_create(
            tenant=world.tenant,
            recipients=[world.channel_manager.user],
            verb="sla_breached",
            message="A registration waits.",
        )
        [recent] = notification_create(
            tenant=world.tenant,
            recipients=[world.vendor_admin.user],
            verb="sla_breached",
            message="Another one waits.",
        )
        Notification.objects.filter(pk=lost.pk).update(
            created_at=timezone.now() - timedelta(minutes=3)
        )
    assert [r.getMessage() for r in caplog.records if r.name == "accounts.queue"] == [
        f"could not enqueue {SEND}({world.tenant.pk}, {n.pk}); its beat sweep will retry"
        for n in (lost, recent)
    ]

    private_broker.start()
    with start_celery_worker():
        send_task(SWEEP)
        [sweep] = task_log.wait(SWEEP)
        send_task(SWEEP)
        second = task_log.wait(SWEEP, 2)[1]

    assert (sweep.retval, second.retval) == (1, 0)
    assert task_log.of(SEND) == []
    assert [m.to for m in mail.outbox] == [[world.channel_manager.user.email]]
    assert mail.outbox[0].subject == "[PRM] A registration waits."
    assert stored(world, lost.pk).emailed_at is not None
    # Under 20 seconds old (its task may still be on its way): a later sweep's job.
    assert stored(world, recent.pk).emailed_at is None


def test_every_beat_job_names_a_registered_task():
    celery_app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {entry["task"] for entry in schedule.values()} <= set(celery_app.tasks)
    assert {entry["task"] for entry in schedule.values()} >= {
        "accounts.tasks.outbox_sweep",
        "accounts.tasks.notification_email_sweep",
    }

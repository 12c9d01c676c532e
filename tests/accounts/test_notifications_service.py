"""Notifications: in-app rows, an e-mail task per row on commit, the e-mail sent once, and
the list the beat sweep works from."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connections, transaction
from django.utils import timezone

from accounts.models import Notification, Tenant, User
from accounts.services.notifications import (
    notification_create,
    notification_email_pending,
    notification_mark_read,
    notification_send_email,
)
from accounts.tenancy import tenant_context
from tests.accounts.factories import MembershipFactory, TenantFactory, UserFactory
from tests.conftest import World

SEND = "accounts.tasks.notification_send_email"


def notify(
    tenant: Tenant,
    *recipients: User,
    message: str = "Your deal was approved.",
    url: str = "",
    email: bool = True,
) -> list[Notification]:
    with tenant_context(tenant):
        return notification_create(
            tenant=tenant,
            recipients=recipients,
            verb="approved",
            message=message,
            url=url,
            email=email,
        )


def reloaded(tenant: Tenant, notification_id: int) -> Notification:
    with tenant_context(tenant):
        return Notification.objects.get(pk=notification_id)


def send(tenant: Tenant, notification: Notification) -> bool:
    return notification_send_email(tenant_id=tenant.pk, notification_id=notification.pk)


def test_one_row_per_distinct_recipient_and_one_email_task_each_on_commit(
    world: World, sent_tasks, django_capture_on_commit_callbacks
):
    manager, rep = world.channel_manager.user, world.partner_rep.user
    with django_capture_on_commit_callbacks(execute=True):
        created = notify(
            world.tenant, manager, rep, manager, message="x" * 600, url="/partner/deals/3/"
        )
        assert sent_tasks == []

    assert [n.recipient_id for n in created] == [manager.pk, rep.pk]
    assert sent_tasks == [(SEND, (world.tenant.pk, n.pk)) for n in created]
    for notification in created:
        row = reloaded(world.tenant, notification.pk)
        assert (row.verb, row.message, row.url, row.email, row.emailed_at, row.read_at) == (
            "approved",
            "x" * 500,
            "/partner/deals/3/",
            True,
            None,
            None,
        )


def test_in_app_only_notification_enqueues_no_email(
    world: World, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [created] = notify(world.tenant, world.partner_rep.user, email=False)
    assert sent_tasks == []
    assert send(world.tenant, created) is False
    assert mail.outbox == []


class ChangeFailed(Exception):
    pass


def fail_after(tenant: Tenant, write: Callable[[], object]) -> None:
    """Run `write` in a tenant transaction that then fails, rolling it back."""
    with tenant_context(tenant):
        write()
        raise ChangeFailed


def test_notification_rolled_back_with_its_transaction_is_neither_stored_nor_enqueued(
    world: World, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ChangeFailed):
        fail_after(world.tenant, lambda: notify(world.tenant, world.partner_rep.user))
    assert (callbacks, sent_tasks) == ([], [])
    with tenant_context(world.tenant):
        assert not Notification.objects.exists()


def test_email_is_sent_once_with_subject_body_and_link(world: World):
    rep = world.partner_rep.user
    [notification] = notify(
        world.tenant, rep, message="Your deal was approved.", url="/partner/deals/3/"
    )

    assert send(world.tenant, notification) is True
    assert send(world.tenant, notification) is False

    [message] = mail.outbox
    assert (message.to, message.subject, message.body, message.from_email) == (
        [rep.email],
        "[PRM] Your deal was approved.",
        f"Your deal was approved.\n\n{settings.SITE_URL}/partner/deals/3/",
        settings.DEFAULT_FROM_EMAIL,
    )
    assert reloaded(world.tenant, notification.pk).emailed_at is not None


def test_email_subject_is_cut_at_120_characters_and_a_bare_message_has_no_link(world: World):
    [notification] = notify(world.tenant, world.partner_rep.user, message="y" * 200)
    send(world.tenant, notification)
    [message] = mail.outbox
    assert (message.subject, message.body) == ("[PRM] " + "y" * 120, "y" * 200)


def test_inactive_recipient_is_not_notified_emailed_nor_swept(world: World):
    user = world.partner_rep.user
    [notification] = notify(world.tenant, user)  # queued while the account was active
    user.is_active = False
    user.save(update_fields=["is_active"])
    backdate(world.tenant, notification, minutes=10)
    assert notify(world.tenant, user) == []

    assert send(world.tenant, notification) is False
    assert mail.outbox == []
    assert notification_email_pending(tenant=world.tenant) == []


def test_send_pinned_to_another_tenant_finds_nothing(world: World):
    [notification] = notify(world.tenant, world.partner_rep.user)
    assert (
        notification_send_email(tenant_id=world.other_tenant.pk, notification_id=notification.pk)
        is False
    )
    assert mail.outbox == []
    assert reloaded(world.tenant, notification.pk).emailed_at is None


def backdate(tenant: Tenant, notification: Notification, *, minutes: int) -> None:
    with tenant_context(tenant):
        Notification.objects.filter(pk=notification.pk).update(
            created_at=timezone.now() - timedelta(minutes=minutes)
        )


def test_pending_lists_unsent_emails_older_than_the_cutoff_in_this_tenant(world: World):
    rep = world.partner_rep.user
    [due] = notify(world.tenant, rep)
    [recent] = notify(world.tenant, rep)
    [in_app_only] = notify(world.tenant, rep, email=False)
    [sent] = notify(world.tenant, rep)
    [elsewhere] = notify(world.other_tenant, world.other_tenant_admin.user)
    for old in (due, in_app_only, sent):
        backdate(world.tenant, old, minutes=3)
    backdate(world.other_tenant, elsewhere, minutes=3)
    send(world.tenant, sent)

    assert notification_email_pending(tenant=world.tenant) == [due.pk]
    assert notification_email_pending(tenant=world.tenant, older_than_seconds=0) == [
        due.pk,
        recent.pk,
    ]


def test_mark_read_one_or_all_of_the_users_own_unread_notifications(world: World):
    rep, other = world.partner_rep.user, world.partner_admin.user
    first, second, third = (notify(world.tenant, rep)[0] for _ in range(3))
    [not_mine] = notify(world.tenant, other)
    [other_tenant] = notify(world.other_tenant, world.other_tenant_admin.user)

    with tenant_context(world.tenant):
        assert notification_mark_read(tenant=world.tenant, user=rep, notification_id=first.pk) == 1
        assert notification_mark_read(tenant=world.tenant, user=rep, notification_id=first.pk) == 0
        assert (
            notification_mark_read(tenant=world.tenant, user=rep, notification_id=not_mine.pk) == 0
        )
        assert (
            notification_mark_read(tenant=world.tenant, user=rep, notification_id=other_tenant.pk)
            == 0
        )
        assert notification_mark_read(tenant=world.tenant, user=rep) == 2

    assert all(reloaded(world.tenant, n.pk).read_at is not None for n in (first, second, third))
    assert reloaded(world.tenant, not_mine.pk).read_at is None


# --- Locks: exactly once without waiting, and only the notification's own row -------------


@contextmanager
def locked_elsewhere(lock: Callable[[], object]) -> Iterator[None]:
    """Run `lock` in another connection's transaction and hold it until the block ends."""
    locked, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                lock()
                locked.set()
                release.wait(10)
        except BaseException as error:  # reported to the test below
            errors.append(error)
            locked.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(10)
        yield
    finally:
        release.set()
        thread.join(10)
    assert errors == []


@pytest.fixture
def committed_notification(transactional_db: None, sent_tasks) -> tuple[Tenant, Notification]:
    tenant = TenantFactory()
    membership = MembershipFactory(tenant=tenant, user=UserFactory(email="rep@example.com"))
    return tenant, notify(tenant, membership.user, message="Ping.")[0]


def test_notification_being_sent_elsewhere_is_skipped_without_waiting(committed_notification):
    tenant, notification = committed_notification

    def lock_notification() -> None:
        with tenant_context(tenant):
            Notification.objects.select_for_update().get(pk=notification.pk)

    with locked_elsewhere(lock_notification):
        started = time.monotonic()
        assert send(tenant, notification) is False
        assert time.monotonic() - started < 2
    assert mail.outbox == []
    assert send(tenant, notification) is True
    assert len(mail.outbox) == 1


def test_lock_on_the_recipients_user_row_does_not_stop_the_email(committed_notification):
    tenant, notification = committed_notification

    with locked_elsewhere(
        lambda: User.objects.select_for_update().get(pk=notification.recipient_id)
    ):
        assert send(tenant, notification) is True

    assert [m.to for m in mail.outbox] == [["rep@example.com"]]

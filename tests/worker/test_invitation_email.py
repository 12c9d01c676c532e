"""A real Celery worker sends the invitation e-mail, and its link is the one that works."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from celery.worker import WorkController
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import resolve

from accounts.models import Membership, Role
from accounts.tenancy import tenant_context
from partners.models import Invitation
from partners.services import (
    InvitationInvalid,
    invitation_accept,
    invitation_create,
    invitation_from_token,
    invitation_resend,
    invitation_revoke,
)
from prm.celery import app as celery_app
from tests.conftest import World, build_world
from tests.worker.conftest import StartWorker, TaskLog, send_task

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SEND = "partners.tasks.invitation_send"


@pytest.fixture
def committed_world(transactional_db: None) -> World:
    return build_world()


def invite_rep(world: World, email: str = " New.Rep@Northwind.test ") -> Invitation:
    with tenant_context(world.tenant):
        return invitation_create(
            tenant=world.tenant,
            actor=world.partner_admin,
            email=email,
            role=Role.PARTNER_REP,
            partner=world.partner,
        ).invitation


def token_in(message: EmailMessage) -> str:
    """The token of the one link in an e-mail, checked to be the acceptance page's URL."""
    [url] = re.findall(r"https?://\S+", message.body)
    assert url.startswith(settings.SITE_URL + "/")
    match = resolve(urlsplit(url).path)
    assert match.url_name == "invitation_accept"
    return str(match.kwargs["token"])


def opened(token: str) -> Invitation:
    with transaction.atomic():
        return invitation_from_token(token)


def test_worker_emails_the_invitation_and_its_link_is_accepted(
    committed_world: World, worker: WorkController, task_log: TaskLog
):
    world = committed_world
    invitation = invite_rep(world)

    [run] = task_log.wait(SEND)
    assert (run.args, run.retval, run.state) == ((world.tenant.pk, invitation.pk), True, "SUCCESS")
    [message] = mail.outbox
    assert message.to == ["new.rep@northwind.test"]
    assert message.subject == "You are invited to Acme Software on PRM"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    inviter = world.partner_admin.user.display_name
    assert (
        f"{inviter} invited you to join Acme Software on PRM as Partner rep of Northwind Resellers."
    ) in message.body
    assert f"expires in {settings.INVITATION_MAX_AGE_DAYS} days" in message.body

    token = token_in(message)
    accepted = opened(token)
    assert (accepted.pk, accepted.email, accepted.role, accepted.partner_id) == (
        invitation.pk,
        "new.rep@northwind.test",
        Role.PARTNER_REP,
        world.partner.pk,
    )
    with tenant_context(world.tenant):
        assert Invitation.objects.get(pk=invitation.pk).last_sent_at is not None

    membership = invitation_accept(
        token=token, full_name="New Rep", password="a-long-unusual-passphrase"
    )
    with tenant_context(world.tenant):
        membership = Membership.objects.select_related("user").get(pk=membership.pk)
    assert (membership.user.email, membership.role, membership.partner_id) == (
        "new.rep@northwind.test",
        Role.PARTNER_REP,
        world.partner.pk,
    )
    with pytest.raises(InvitationInvalid):  # used once: the link stops working
        opened(token)


def test_a_task_run_twice_mails_once_and_a_resend_mails_a_new_link(
    committed_world: World, worker: WorkController, task_log: TaskLog
):
    world = committed_world
    invitation = invite_rep(world)
    task_log.wait(SEND)

    send_task(SEND, world.tenant.pk, invitation.pk)  # the same task again, e.g. redelivered
    assert task_log.wait(SEND, 2)[1].retval is False
    assert len(mail.outbox) == 1

    with tenant_context(world.tenant):
        invitation_resend(
            tenant=world.tenant, actor=world.vendor_admin, invitation_id=invitation.pk
        )
    assert task_log.wait(SEND, 3)[2].retval is True
    first, second = mail.outbox
    assert second.to == first.to == ["new.rep@northwind.test"]
    with pytest.raises(InvitationInvalid, match="This invitation link is not valid."):
        opened(token_in(first))
    assert opened(token_in(second)).pk == invitation.pk


def test_invitation_revoked_before_the_worker_runs_is_not_emailed(
    committed_world: World, start_celery_worker: StartWorker, task_log: TaskLog
):
    world = committed_world
    celery_app.control.purge()
    invitation = invite_rep(world)
    with tenant_context(world.tenant):
        invitation_revoke(
            tenant=world.tenant, actor=world.vendor_admin, invitation_id=invitation.pk
        )

    with start_celery_worker(purge=False):
        [run] = task_log.wait(SEND)

    assert (run.args, run.retval) == ((world.tenant.pk, invitation.pk), False)
    assert mail.outbox == []
    with tenant_context(world.tenant):
        assert Invitation.objects.get(pk=invitation.pk).last_sent_at is None


def test_sweep_emails_invitations_whose_send_task_was_lost(
    committed_world: World, start_celery_worker: StartWorker, task_log: TaskLog
):
    world = committed_world
    with tenant_context(world.tenant):
        lost = invite_rep(world, "lost@northwind.test")
        fresh = invite_rep(world, "fresh@northwind.test")
        Invitation.objects.filter(pk=lost.pk).update(
            created_at=lost.created_at - timedelta(minutes=3)
        )
    sweep = "partners.tasks.invitation_send_sweep"
    with start_celery_worker():  # purges the queue: the two send tasks are lost
        send_task(sweep)
        first = task_log.wait(sweep)[0]
        send_task(sweep)
        second = task_log.wait(sweep, 2)[1]

    assert (first.retval, second.retval) == (1, 0)
    assert [m.to for m in mail.outbox] == [["lost@northwind.test"]]
    with transaction.atomic():
        assert invitation_from_token(token_in(mail.outbox[0])).pk == lost.pk
    with tenant_context(world.tenant):
        assert Invitation.objects.get(pk=fresh.pk).last_sent_at is None  # its task may yet run

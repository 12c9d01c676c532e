"""The co-sell first-contact clock on a real worker: the beat's sweep marks an overdue
request breached once, tells the partner's (active) channel manager and e-mails them,
even when the sweep runs twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.worker import WorkController
from django.core import mail
from django.utils import timezone

from accounts.models import Notification
from partners.models import PartnerOrganization
from pipeline.models import CoSellRequest, Stage
from pipeline.services.cosell_requests import cosell_request_create
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World, build_world
from tests.pipeline.factories import OpportunityFactory
from tests.worker.conftest import TaskLog, send_task, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SWEEP = "pipeline.tasks.cosell_sla_sweep"
EMAIL = "accounts.tasks.notification_send_email"


@pytest.fixture
def committed_world(transactional_db: None, in_tenant) -> World:
    world = build_world()
    with in_tenant(world.tenant):
        stages_install_defaults(tenant=world.tenant)
        PartnerOrganization.objects.filter(pk=world.partner.pk).update(
            channel_manager=world.channel_manager.user
        )
    return world


def request_on_a_deal(world: World, in_tenant) -> CoSellRequest:
    with in_tenant(world.tenant):
        deal = OpportunityFactory(
            tenant=world.tenant,
            partner=world.partner,
            owner=world.partner_rep.user,
            stage=Stage.objects.get(name="Solution Development"),
        )
        return cosell_request_create(
            tenant=world.tenant,
            actor=world.partner_rep,
            opportunity_id=deal.pk,
            resource_type="pre_sales_engineer",
            need="Architecture workshop",
            need_by=timezone.localdate() + timedelta(days=3),
        )


def test_the_worker_marks_a_breach_once_and_tells_the_channel_manager(
    committed_world: World, worker: WorkController, task_log: TaskLog, in_tenant
):
    world = committed_world
    late = request_on_a_deal(world, in_tenant)
    on_time = request_on_a_deal(world, in_tenant)
    with in_tenant(world.tenant):
        CoSellRequest.objects.filter(pk=late.pk).update(
            sla_due_at=timezone.now() - timedelta(minutes=5)
        )
        Notification.objects.all().delete()  # the "requested" notices are not under test
    mail.outbox.clear()

    send_task(SWEEP)
    send_task(SWEEP)  # beat firing twice (or a redelivery) breaches nothing more
    runs = task_log.wait(SWEEP, 2)
    wait_until(lambda: len(mail.outbox) >= 1, what="the breach e-mail")

    assert sorted(run.retval for run in runs) == [0, 1]
    with in_tenant(world.tenant):
        breached = dict(CoSellRequest.objects.values_list("pk", "sla_breached_at"))
        told = list(
            Notification.objects.filter(verb="cosell_sla_breached").values_list(
                "recipient__email", flat=True
            )
        )
    assert breached[late.pk] is not None
    assert breached[on_time.pk] is None
    assert told == ["cm@acme.test"]
    assert [m.to for m in mail.outbox] == [["cm@acme.test"]]

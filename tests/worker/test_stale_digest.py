"""Stale-deal alerts on a real worker: the beat's scan, then the daily digest e-mailed once
per person, even when the beat job runs twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.worker import WorkController
from django.core import mail
from django.utils import timezone

from accounts.models import Notification
from partners.models import PartnerOrganization
from pipeline.models import StaleAlert, StaleDigest
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World, build_world
from tests.pipeline.factories import OpportunityFactory
from tests.worker.conftest import TaskLog, send_task

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SCAN = "pipeline.tasks.stale_scan"
DIGEST = "pipeline.tasks.stale_digest"
SEND = "pipeline.tasks.stale_digest_send"


@pytest.fixture
def committed_world(transactional_db: None, in_tenant) -> World:
    world = build_world()
    with in_tenant(world.tenant):
        stages_install_defaults(tenant=world.tenant)
        PartnerOrganization.objects.filter(pk=world.partner.pk).update(
            channel_manager=world.channel_manager.user
        )
    return world


def stale_deal(world: World, name: str, **fields) -> None:
    long_ago = timezone.now() - timedelta(days=45)  # Identification goes stale after 30
    fields.setdefault("partner", world.partner)
    fields.setdefault("owner", world.partner_rep.user)
    OpportunityFactory(
        tenant=world.tenant,
        name=name,
        stage_entered_at=long_ago,
        last_activity_at=long_ago,
        **fields,
    )


def test_the_worker_scans_and_emails_one_digest_per_person(
    committed_world: World, worker: WorkController, task_log: TaskLog, in_tenant
):
    world = committed_world
    stale_deal(world, "Alpha")
    stale_deal(world, "Beta")
    stale_deal(world, "Gamma", partner=None, owner=world.vendor_admin.user)
    OpportunityFactory(tenant=world.tenant, name="Fresh", owner=world.partner_rep.user)

    send_task(SCAN)
    send_task(SCAN)  # beat firing twice (or a redelivery) alerts nothing more
    scans = task_log.wait(SCAN, 2)
    send_task(DIGEST)
    task_log.wait(DIGEST)
    task_log.wait(SEND, 3)
    send_task(DIGEST)  # again the same day: no second digest
    task_log.wait(DIGEST, 2)

    assert sum(run.retval for run in scans) == 3  # the two runs may overlap; 3 alerts in all
    assert [run.retval for run in task_log.of(DIGEST)] == [3, 0]
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == [
        ("admin@acme.test", "[PRM] 1 stale deal needs your attention"),
        ("cm@acme.test", "[PRM] 2 stale deals need your attention"),
        ("rep@northwind.test", "[PRM] 2 stale deals need your attention"),
    ]
    rep_mail = next(m for m in mail.outbox if m.to == ["rep@northwind.test"])
    assert "- Alpha (" in rep_mail.body
    assert "- Beta (" in rep_mail.body
    assert "Gamma" not in rep_mail.body
    assert "Fresh" not in rep_mail.body
    with in_tenant(world.tenant):
        assert StaleAlert.objects.count() == 3
        assert Notification.objects.filter(email=True).count() == 0
        assert sorted(Notification.objects.values_list("recipient__email", flat=True)) == [
            "admin@acme.test",
            "cm@acme.test",
            "cm@acme.test",
            "rep@northwind.test",
            "rep@northwind.test",
        ]
        assert StaleDigest.objects.filter(sent_at__isnull=False).count() == 3

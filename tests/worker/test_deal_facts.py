"""The per-deal facts (analytics.models.DealFact) on a real worker: a committed change to a
deal or one of its co-sell requests reaches its facts through the on-commit task, one task
per transaction; a change that sent no signal (a queryset update) is repaired by the beat
sweep, which rewrites only what drifted."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from celery.worker import WorkController
from django.utils import timezone

from accounts.tenancy import tenant_context
from analytics.models import DealFact
from pipeline.models import CoSellRequest, CoSellResourceType, Opportunity, Stage
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World, build_world
from tests.pipeline.factories import OpportunityFactory
from tests.worker.conftest import TaskLog, send_task, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REFRESH = "analytics.tasks.deal_facts_refresh"
SWEEP = "analytics.tasks.deal_facts_sweep"


@pytest.fixture
def committed_world(transactional_db: None) -> World:
    world = build_world()
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    return world


def fact_of(world: World, deal_id: int) -> DealFact | None:
    with tenant_context(world.tenant):
        return DealFact.objects.filter(opportunity_id=deal_id).first()


def runs_for(world: World, task_log: TaskLog) -> list:
    """This tenant's refresh runs (other tests' commits may reach the shared broker)."""
    return [run for run in task_log.of(REFRESH) if run.args[0] == world.tenant.pk]


def test_committed_changes_reach_the_facts_one_task_per_transaction(
    committed_world: World, worker: WorkController, task_log: TaskLog
):
    world = committed_world
    with tenant_context(world.tenant):
        stage = Stage.objects.get(tenant=world.tenant, name="Solution Development")
        deals = [
            OpportunityFactory(
                tenant=world.tenant,
                partner=world.partner,
                owner=world.partner_rep.user,
                stage=stage,
                amount=Decimal(1000 * (i + 1)),
            )
            for i in range(3)
        ]
    runs = wait_until(lambda: runs_for(world, task_log), what="the refresh task")
    assert [sorted(run.args[1]) for run in runs] == [sorted(d.pk for d in deals)]  # one task
    fact = wait_until(lambda: fact_of(world, deals[0].pk), what="the deal's facts")
    assert (fact.partner_id, fact.status, fact.amount) == (world.partner.pk, "open", 1000)
    assert fact.first_engaged_at is None

    engaged = timezone.now() - timedelta(hours=2)
    with tenant_context(world.tenant):
        kind = CoSellResourceType.objects.get_or_create(
            tenant=world.tenant, code="engineer", defaults={"name": "Engineer"}
        )[0]
        CoSellRequest.objects.create(
            tenant=world.tenant,
            opportunity=deals[0],
            resource_type=kind,
            need_by=timezone.localdate(),
            status=CoSellRequest.Status.ENGAGED,
            engaged_at=engaged,
        )
    wait_until(
        lambda: fact_of(world, deals[0].pk).first_engaged_at == engaged,
        what="the first engagement in the facts",
    )


def test_the_sweep_repairs_what_no_signal_announced(
    committed_world: World, worker: WorkController, task_log: TaskLog
):
    world = committed_world
    with tenant_context(world.tenant):
        deal = OpportunityFactory(
            tenant=world.tenant,
            partner=world.partner,
            owner=world.partner_rep.user,
            amount=Decimal(500),
        )
    wait_until(lambda: fact_of(world, deal.pk), what="the deal's facts")
    with tenant_context(world.tenant):
        Opportunity.objects.filter(pk=deal.pk).update(amount=Decimal(700))  # no signal
    assert fact_of(world, deal.pk).amount == 500

    send_task(SWEEP)
    (run,) = task_log.wait(SWEEP)
    assert run.retval == 1  # only the drifted row is written
    assert fact_of(world, deal.pk).amount == 700
    send_task(SWEEP)
    assert task_log.wait(SWEEP, count=2)[1].retval == 0  # nothing drifted since

"""Attribution through a real Celery worker: closing a partner deal as won accrues once,
even when the event's dispatch task is delivered three times to a worker with four
threads; reopening claws it back, closing again accrues anew."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import DomainEvent
from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PlanVersion, TierRate, UnattributedWin
from commissions.services.plans import plan_version_create
from pipeline.models import Opportunity
from pipeline.services.opportunities import opportunity_close_won, opportunity_reopen
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World, build_world
from tests.pipeline.factories import OpportunityFactory, make_ready_to_win
from tests.worker.conftest import StartWorker, TaskLog, send_task, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def committed_world(transactional_db: None) -> World:
    world = build_world()
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
        version = PlanVersion.objects.create(
            tenant=world.tenant, name="Standard", effective_from=date(2020, 1, 1)
        )
        TierRate.objects.create(
            tenant=world.tenant, version=version, tier=world.tier, rate=Decimal(10)
        )
    return world


def ledger(world: World) -> list[tuple[str, Decimal]]:
    with tenant_context(world.tenant):
        return list(CommissionEntry.objects.order_by("id").values_list("kind", "amount"))


def ready_deal(world: World) -> Opportunity:
    """A partner deal of 10,000 that meets what the stages ask before closing as won."""
    deal = OpportunityFactory(
        tenant=world.tenant, partner=world.partner, owner=world.partner_rep.user, amount=10000
    )
    make_ready_to_win(world.tenant, deal.pk)
    return deal


def close_won(world: World, deal: Opportunity, on: date, **fields: object) -> None:
    with tenant_context(world.tenant):
        opportunity_close_won(
            tenant=world.tenant,
            actor=world.channel_manager,
            opportunity_id=deal.pk,
            close_date=on,
            **fields,
        )


def test_won_reopened_and_won_again_through_the_worker_with_duplicated_deliveries(
    committed_world: World, start_celery_worker: StartWorker, task_log: TaskLog
):
    w = committed_world
    deal = ready_deal(w)
    with start_celery_worker():
        close_won(w, deal, timezone.localdate())
        with tenant_context(w.tenant):
            won = DomainEvent.objects.get(name="opportunity.won")
        for _ in range(2):  # the same dispatch delivered again, e.g. by the outbox sweep
            send_task("accounts.tasks.event_dispatch", w.tenant.pk, won.pk)
        task_log.wait("accounts.tasks.event_dispatch", count=3)
        assert wait_until(lambda: ledger(w), what="the accrual") == [("accrual", Decimal("500.00"))]

        with tenant_context(w.tenant):
            opportunity_reopen(tenant=w.tenant, actor=w.channel_manager, opportunity_id=deal.pk)
        wait_until(lambda: len(ledger(w)) == 2, what="the clawback")
        close_won(w, deal, timezone.localdate(), amount=Decimal(8000))
        wait_until(lambda: len(ledger(w)) == 3, what="the second accrual")

    assert ledger(w) == [
        ("accrual", Decimal("500.00")),
        ("clawback", Decimal("-500.00")),
        ("accrual", Decimal("400.00")),
    ]


@pytest.fixture
def world_without_plan(transactional_db: None) -> World:
    world = build_world()
    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    return world


def test_a_deal_won_with_no_plan_is_attributed_once_when_a_covering_plan_is_created(
    world_without_plan: World, start_celery_worker: StartWorker, task_log: TaskLog
):
    w = world_without_plan
    deal = ready_deal(w)
    with start_celery_worker():
        close_won(w, deal, date(2026, 3, 10))
        task_log.wait("accounts.tasks.event_dispatch")
        with tenant_context(w.tenant):
            assert UnattributedWin.objects.filter(resolved_at__isnull=True).count() == 1
        assert ledger(w) == []

        with tenant_context(w.tenant):
            plan_version_create(
                tenant=w.tenant,
                actor=w.vendor_admin,
                name="First",
                effective_from=date(2026, 1, 1),
                tier_rates={w.tier.pk: Decimal(10)},
            )
        send_task("commissions.tasks.commission_attribute_pending", w.tenant.pk)  # a duplicate
        task_log.wait("commissions.tasks.commission_attribute_pending", count=2)
        assert wait_until(lambda: ledger(w), what="the accrual") == [("accrual", Decimal("500.00"))]

    assert ledger(w) == [("accrual", Decimal("500.00"))]
    with tenant_context(w.tenant):
        assert not UnattributedWin.objects.filter(resolved_at__isnull=True).exists()

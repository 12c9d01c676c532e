"""Attribution on close: one accrual per won deal (idempotent under a duplicated delivery and
two racing workers), clawback on reopen, a new accrual on closing again; direct deals earn
nothing; the plan in force on the close date decides."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from accounts.models import DomainEvent
from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PlanVersion, TierRate
from commissions.services.attribution import commission_attribute
from deals.services.decisions import registration_approve
from pipeline.models import Opportunity
from pipeline.services.opportunities import opportunity_close_won, opportunity_reopen
from tests.commissions.conftest import dispatch_last, entries_of
from tests.pipeline.factories import OpportunityFactory, make_ready_to_win


def test_a_won_unregistered_deal_accrues_the_base_times_the_unregistered_multiplier(
    deals_world, plan, partner_deal, close_won
):
    deal = partner_deal(amount=Decimal("12345.67"))
    close_won(deal)
    [entry] = entries_of(deals_world.tenant, deal)
    # 12,345.67 × 10 % × 0.5 = 617.2835 → 617.28 (half-even)
    assert (entry.kind, entry.amount, entry.status, entry.currency) == (
        "accrual",
        Decimal("617.28"),
        "accrued",
        "USD",
    )
    assert entry.breakdown["registered"] is False
    assert entry.breakdown["multiplier"] == "0.5"
    assert entry.breakdown["version_id"] == plan.pk
    assert (entry.partner_id, entry.owner_id) == (
        deals_world.partner.pk,
        deals_world.partner_rep.user_id,
    )


def test_the_registered_deal_is_the_record_that_earns(deals_world, plan, register, close_won):
    w = deals_world
    registration = register(w.partner_rep, amount=Decimal("20000"), product_lines=["cloud"])
    with tenant_context(w.tenant):
        registration = registration_approve(
            tenant=w.tenant, actor=w.channel_manager, registration_id=registration.pk
        )
        deal = Opportunity.objects.get(pk=registration.opportunity_id)
    close_won(deal)
    [entry] = entries_of(w.tenant, deal)
    # 20,000 × 10 % × 1.0 + cloud 2 % of 20,000 = 2,000 + 400
    assert entry.amount == Decimal("2400.00")
    assert entry.breakdown["product_bonuses"] == {"cloud": "400"}
    assert entry.breakdown["registered"] is True


def test_direct_deals_earn_nothing(deals_world, plan, close_won):
    w = deals_world
    deal = OpportunityFactory(tenant=w.tenant, owner=w.channel_manager.user, amount=Decimal(500))
    close_won(deal)
    assert entries_of(w.tenant, deal) == []


def test_a_duplicated_delivery_adds_nothing(deals_world, plan, partner_deal, close_won):
    deal = partner_deal()
    event = close_won(deal)
    with tenant_context(deals_world.tenant):
        assert commission_attribute(event=event) is None  # the same event again
    assert len(entries_of(deals_world.tenant, deal)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_one_event_write_one_accrual(deals_world, plan, partner_deal):
    w = deals_world
    deal = partner_deal()
    make_ready_to_win(w.tenant, deal.pk)
    with tenant_context(w.tenant):
        opportunity_close_won(
            tenant=w.tenant,
            actor=w.channel_manager,
            opportunity_id=deal.pk,
            close_date=timezone.localdate(),
        )
        event = DomainEvent.objects.get(name="opportunity.won")
    barrier = threading.Barrier(4)
    results: list[object] = []

    def work() -> None:
        try:
            barrier.wait(5)
            with tenant_context(w.tenant):
                results.append(commission_attribute(event=event))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(result is not None for result in results) == 1
    assert len(entries_of(w.tenant, deal)) == 1


def test_reopen_claws_back_and_closing_again_accrues_anew(
    deals_world, plan, partner_deal, close_won
):
    w = deals_world
    deal = partner_deal(amount=Decimal("10000"))
    close_won(deal)
    with tenant_context(w.tenant):
        opportunity_reopen(tenant=w.tenant, actor=w.channel_manager, opportunity_id=deal.pk)
    dispatch_last(w.tenant, "opportunity.reopened")
    close_won(deal, amount=Decimal("12000"))

    entries = entries_of(w.tenant, deal)
    assert [(e.kind, e.amount) for e in entries] == [
        ("accrual", Decimal("500.00")),
        ("clawback", Decimal("-500.00")),
        ("accrual", Decimal("600.00")),
    ]
    assert entries[1].reverses_id == entries[0].pk
    assert sum(e.amount for e in entries) == Decimal("600.00")


def test_the_version_in_force_on_the_close_date_decides(deals_world, plan, partner_deal, close_won):
    w = deals_world
    with tenant_context(w.tenant):
        newer = PlanVersion.objects.create(
            tenant=w.tenant, name="2026 H2", effective_from=date(2026, 7, 1)
        )
        TierRate.objects.create(tenant=w.tenant, version=newer, tier=w.tier, rate=Decimal(20))
    before, on_start = partner_deal(), partner_deal()
    close_won(before, on=date(2026, 6, 30))
    close_won(on_start, on=date(2026, 7, 1))
    [old_entry] = entries_of(w.tenant, before)
    [new_entry] = entries_of(w.tenant, on_start)
    assert (old_entry.version_id, old_entry.amount) == (plan.pk, Decimal("500.00"))
    assert (new_entry.version_id, new_entry.amount) == (newer.pk, Decimal("1000.00"))


def test_no_plan_no_entry(deals_world, partner_deal, close_won):
    deal = partner_deal()
    close_won(deal)
    assert entries_of(deals_world.tenant, deal) == []
    with tenant_context(deals_world.tenant):
        assert not CommissionEntry.objects.exists()

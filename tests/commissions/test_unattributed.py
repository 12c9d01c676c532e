"""A won partner deal with no plan in force on its close date is not silently skipped: it
is recorded as "not attributed", listed (and counted) for vendor roles on the ledger page,
and attributed — once, through the same attribution path — when a plan version covering
its close date is created."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.errors import ValidationFailed
from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PlanVersion, UnattributedWin
from commissions.services.attribution import commission_attribute, commission_attribute_pending
from commissions.services.plans import plan_version_create, plan_version_update
from pipeline.services.opportunities import opportunity_reopen
from tests.commissions.conftest import dispatch_last, entries_of
from tests.pages import assert_constant_queries, member

PENDING_TASK = "commissions.tasks.commission_attribute_pending"
CLOSED = date(2026, 3, 10)


def waiting(tenant) -> list[tuple]:  # noqa: ANN001
    with tenant_context(tenant):
        return list(
            UnattributedWin.objects.order_by("id").values_list(
                "opportunity_id", "closed_on", "amount", "attributed_entry_id", "resolved_at"
            )
        )


def first_plan(world, *, starts: date, rate: str = "10") -> PlanVersion:  # noqa: ANN001
    with tenant_context(world.tenant):
        return plan_version_create(
            tenant=world.tenant,
            actor=world.vendor_admin,
            name="First plan",
            effective_from=starts,
            tier_rates={world.tier.pk: Decimal(rate)},
        )


def test_a_won_deal_with_no_plan_is_recorded_as_not_attributed(
    deals_world, partner_deal, close_won
):
    deal = partner_deal(amount=Decimal("10000"))
    event = close_won(deal, on=CLOSED)

    assert entries_of(deals_world.tenant, deal) == []
    assert waiting(deals_world.tenant) == [(deal.pk, CLOSED, Decimal("10000.00"), None, None)]
    with tenant_context(deals_world.tenant):
        row = UnattributedWin.objects.get()
        assert row.source_event_id == event.pk
        assert row.partner_id == deals_world.partner.pk
        assert row.reason == f"Not attributed: no plan in force on {CLOSED.isoformat()}"
        # A second delivery of the same event records nothing more.
        assert commission_attribute(event=event) is None
    assert len(waiting(deals_world.tenant)) == 1


def test_direct_deals_are_not_recorded(deals_world, close_won):
    from tests.pipeline.factories import OpportunityFactory

    w = deals_world
    deal = OpportunityFactory(tenant=w.tenant, owner=w.channel_manager.user, amount=Decimal(500))
    close_won(deal, on=CLOSED)
    assert waiting(w.tenant) == []


def test_creating_a_plan_covering_the_date_attributes_exactly_once(
    deals_world, partner_deal, close_won, sent_tasks, django_capture_on_commit_callbacks
):
    w = deals_world
    deal = partner_deal(amount=Decimal("10000"))
    event = close_won(deal, on=CLOSED)
    with django_capture_on_commit_callbacks(execute=True):
        version = first_plan(w, starts=date(2026, 1, 1))
    assert (PENDING_TASK, (w.tenant.pk,)) in sent_tasks

    assert commission_attribute_pending(tenant_id=w.tenant.pk) == 1
    [entry] = entries_of(w.tenant, deal)
    # 10,000 × 10 % × 0.5 (unregistered)
    assert (entry.kind, entry.amount, entry.version_id, entry.source_event_id) == (
        "accrual",
        Decimal("500.00"),
        version.pk,
        event.pk,
    )
    assert entry.closed_on == CLOSED
    [(_, _, _, attributed, resolved)] = waiting(w.tenant)
    assert attributed == entry.pk
    assert resolved is not None

    # Again, and the won event redelivered: still exactly one accrual.
    assert commission_attribute_pending(tenant_id=w.tenant.pk) == 0
    with tenant_context(w.tenant):
        assert commission_attribute(event=event) is None
    assert len(entries_of(w.tenant, deal)) == 1


def test_a_plan_starting_after_the_close_date_leaves_the_deal_waiting(
    deals_world, partner_deal, close_won
):
    w = deals_world
    deal = partner_deal()
    close_won(deal, on=timezone.localdate())
    first_plan(w, starts=timezone.localdate() + timedelta(days=30))

    assert commission_attribute_pending(tenant_id=w.tenant.pk) == 0
    assert entries_of(w.tenant, deal) == []
    [(_, _, _, attributed, resolved)] = waiting(w.tenant)
    assert (attributed, resolved) == (None, None)


def test_moving_the_upcoming_first_version_back_over_the_close_date_attributes(
    deals_world, partner_deal, close_won, sent_tasks, django_capture_on_commit_callbacks
):
    w = deals_world
    version = first_plan(w, starts=timezone.localdate() + timedelta(days=30))
    deal = partner_deal()
    close_won(deal, on=CLOSED)  # before the only version starts: nothing covers it
    assert commission_attribute_pending(tenant_id=w.tenant.pk) == 0
    with django_capture_on_commit_callbacks(execute=True), tenant_context(w.tenant):
        plan_version_update(
            tenant=w.tenant,
            actor=w.vendor_admin,
            version_id=version.pk,
            effective_from=date(2026, 1, 1),
        )
    assert (PENDING_TASK, (w.tenant.pk,)) in sent_tasks

    assert commission_attribute_pending(tenant_id=w.tenant.pk) == 1
    [entry] = entries_of(w.tenant, deal)
    assert entry.version_id == version.pk


def test_a_version_may_cover_the_time_before_the_earliest_version(
    deals_world, partner_deal, close_won
):
    """Backfilling a period no plan covered changes nothing already attributed."""
    w = deals_world
    with tenant_context(w.tenant):
        PlanVersion.objects.create(tenant=w.tenant, name="Later", effective_from=date(2026, 6, 1))
    deal = partner_deal(amount=Decimal("10000"))
    close_won(deal, on=CLOSED)
    backfill = first_plan(w, starts=date(2026, 1, 1), rate="20")

    assert commission_attribute_pending(tenant_id=w.tenant.pk) == 1
    [entry] = entries_of(w.tenant, deal)
    assert (entry.version_id, entry.amount) == (backfill.pk, Decimal("1000.00"))


def test_a_version_may_not_start_between_the_earliest_version_and_today(deals_world):
    w = deals_world
    with tenant_context(w.tenant):
        PlanVersion.objects.create(tenant=w.tenant, name="Old", effective_from=date(2020, 1, 1))
    with pytest.raises(ValidationFailed) as error:
        first_plan(w, starts=date(2021, 1, 1))
    assert error.value.fields == {"effective_from": ["A date after today."]}
    with tenant_context(w.tenant):
        assert PlanVersion.objects.count() == 1


def test_a_deal_reopened_before_a_plan_exists_is_never_attributed(
    deals_world, partner_deal, close_won
):
    w = deals_world
    deal = partner_deal()
    close_won(deal, on=CLOSED)
    with tenant_context(w.tenant):
        opportunity_reopen(tenant=w.tenant, actor=w.channel_manager, opportunity_id=deal.pk)
    dispatch_last(w.tenant, "opportunity.reopened")
    [(_, _, _, attributed, resolved)] = waiting(w.tenant)
    assert attributed is None
    assert resolved is not None

    first_plan(w, starts=date(2026, 1, 1))
    assert commission_attribute_pending(tenant_id=w.tenant.pk) == 0
    with tenant_context(w.tenant):
        assert not CommissionEntry.objects.exists()


# --- The ledger page lists and counts them (vendor roles only) ---------------------------------


@pytest.mark.parametrize(
    ("actor", "status", "listed"),
    [
        ("vendor_admin", 200, True),
        ("channel_manager", 200, True),
        ("partner_admin", 403, False),
        ("partner_rep", 403, False),
        ("other_tenant_admin", 200, False),
    ],
)
def test_the_ledger_page_lists_deals_not_attributed(
    deals_world, partner_deal, close_won, client_for, actor, status, listed
):
    deal = partner_deal(name="Harbor Freight refresh")
    close_won(deal, on=CLOSED)

    response = client_for(member(deals_world, actor)).get(reverse("vendor:commission_list"))

    assert response.status_code == status
    if status != 200:
        return
    body = response.content.decode()
    assert ("Not attributed: no plan in force on 2026-03-10" in body) is listed
    assert ("Harbor Freight refresh" in body) is listed
    assert ('data-testid="unattributed-count">1<' in body) is listed


def test_the_list_drops_a_deal_once_attributed(deals_world, partner_deal, close_won, client_for):
    w = deals_world
    close_won(partner_deal(name="Harbor Freight refresh"), on=CLOSED)
    first_plan(w, starts=date(2026, 1, 1))
    commission_attribute_pending(tenant_id=w.tenant.pk)

    body = client_for(w.vendor_admin).get(reverse("vendor:commission_list")).content.decode()
    assert "Not attributed" not in body


def test_the_not_attributed_list_costs_constant_queries(
    deals_world, partner_deal, close_won, client_for, django_assert_num_queries
):
    close_won(partner_deal(), on=CLOSED)

    def add_rows() -> None:
        for _ in range(3):
            close_won(partner_deal(), on=CLOSED)

    assert_constant_queries(
        client_for(deals_world.channel_manager),
        reverse("vendor:commission_list"),
        add_rows,
        django_assert_num_queries,
    )

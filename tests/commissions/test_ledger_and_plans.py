"""The ledger's lifecycle (approve, pay in batches, clawbacks netting after payment) and
plan versions (new from the current one, edits only before the start date, preview)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.errors import Conflict, PermissionDenied, ValidationFailed
from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PayoutBatch, PlanVersion
from commissions.selectors import period_current, period_parse, statement_get
from commissions.services.calculation import quarter_start
from commissions.services.ledger import commission_approve, commission_approve_many, payout_create
from commissions.services.plans import plan_preview, plan_version_create, plan_version_update
from pipeline.services.opportunities import opportunity_reopen
from tests.commissions.conftest import dispatch_last, entries_of


def call(w, service, member, **kwargs):
    with tenant_context(w.tenant):
        return service(tenant=w.tenant, actor=member, **kwargs)


def test_entries_are_approved_then_paid_in_a_batch(deals_world, plan, partner_deal, close_won):
    w = deals_world
    first, second = partner_deal(), partner_deal(amount=Decimal("3000"))
    close_won(first)
    close_won(second)
    ids = [e.pk for deal in (first, second) for e in entries_of(w.tenant, deal)]

    with pytest.raises(Conflict, match="Only approved"):
        call(w, payout_create, w.channel_manager, entry_ids=ids, reference="PAY-1")
    approved, refused = call(w, commission_approve_many, w.channel_manager, entry_ids=ids)
    assert (approved, refused) == (ids, {})
    with pytest.raises(Conflict, match="already approved"):
        call(w, commission_approve, w.channel_manager, entry_id=ids[0])
    batch = call(w, payout_create, w.vendor_admin, entry_ids=ids, reference="PAY-1")

    assert batch.total == Decimal("650.00")
    with tenant_context(w.tenant):
        assert set(CommissionEntry.objects.values_list("status", "payout_id")) == {
            ("paid", batch.pk)
        }
    with pytest.raises(Conflict, match="Only approved"):  # paid once only
        call(w, payout_create, w.vendor_admin, entry_ids=ids, reference="PAY-2")


def test_partners_cannot_approve_or_pay(deals_world, plan, partner_deal, close_won):
    w = deals_world
    deal = partner_deal()
    close_won(deal)
    [entry] = entries_of(w.tenant, deal)
    with pytest.raises(PermissionDenied):
        call(w, commission_approve, w.partner_admin, entry_id=entry.pk)
    with pytest.raises(PermissionDenied):
        call(w, payout_create, w.partner_admin, entry_ids=[entry.pk], reference="X")
    assert entries_of(w.tenant, deal)[0].status == "accrued"


def test_another_tenants_entries_cannot_be_paid(deals_world, plan, partner_deal, close_won):
    w = deals_world
    deal = partner_deal()
    close_won(deal)
    [entry] = entries_of(w.tenant, deal)
    call(w, commission_approve, w.channel_manager, entry_id=entry.pk)
    with tenant_context(w.other_tenant), pytest.raises(ValidationFailed):
        payout_create(
            tenant=w.other_tenant, actor=w.other_tenant_admin, entry_ids=[entry.pk], reference="X"
        )
    assert entries_of(w.tenant, deal)[0].status == "approved"


def test_a_clawback_after_payment_nets_in_the_next_statement(
    deals_world, plan, partner_deal, close_won
):
    w = deals_world
    deal = partner_deal()
    close_won(deal)
    [accrual] = entries_of(w.tenant, deal)
    call(w, commission_approve, w.channel_manager, entry_id=accrual.pk)
    call(w, payout_create, w.channel_manager, entry_ids=[accrual.pk], reference="PAY-9")
    with tenant_context(w.tenant):
        CommissionEntry.objects.filter(pk=accrual.pk).update(
            created_at=timezone.now() - timedelta(days=40)
        )
    with tenant_context(w.tenant):
        opportunity_reopen(tenant=w.tenant, actor=w.channel_manager, opportunity_id=deal.pk)
    dispatch_last(w.tenant, "opportunity.reopened")

    with tenant_context(w.tenant):
        statement = statement_get(
            membership=w.partner_admin, partner=w.partner, period=period_current()
        )
    assert [(e.kind, e.amount, e.status) for e in statement.entries] == [
        ("clawback", Decimal("-500.00"), "accrued")
    ]
    assert (statement.accrued, statement.clawed_back, statement.net) == (
        Decimal(0),
        Decimal("-500.00"),
        Decimal("-500.00"),
    )
    assert statement.by_status == {
        "accrued": Decimal("-500.00"),
        "approved": Decimal(0),
        "paid": Decimal(0),
    }


def test_statements_are_scoped_to_the_member(deals_world, plan, partner_deal, close_won):
    w = deals_world
    mine, admins = partner_deal(), partner_deal(w.partner_admin)
    theirs = partner_deal(w.other_partner_rep)
    for deal in (mine, admins, theirs):
        close_won(deal)
    with tenant_context(w.tenant):
        rep = statement_get(membership=w.partner_rep, partner=w.partner, period=period_current())
        admin = statement_get(
            membership=w.partner_admin, partner=w.partner, period=period_current()
        )
        other = statement_get(
            membership=w.other_partner_admin, partner=w.partner, period=period_current()
        )
    assert [e.opportunity_id for e in rep.entries] == [mine.pk]
    assert sorted(e.opportunity_id for e in admin.entries) == sorted([mine.pk, admins.pk])
    assert other.entries == []
    assert admin.net == Decimal("1000.00")


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    ],
)
def test_periods(value, start, end):
    period = period_parse(value)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("value", ["2026-13", "2026-Q5", "26-11", "2026/11", "", "2026-1"])
def test_bad_periods_are_refused(value):
    with pytest.raises(ValidationFailed):
        period_parse(value)


def test_a_new_version_copies_the_current_one_and_only_changes_before_it_starts(deals_world, plan):
    w = deals_world
    start = timezone.localdate() + timedelta(days=30)
    version = call(
        w,
        plan_version_create,
        w.vendor_admin,
        name="Next year",
        effective_from=start,
        unregistered_multiplier="0.25",
        tier_rates={w.tier.pk: "12.5"},
    )
    with tenant_context(w.tenant):
        rates = {r.tier_id: r.rate for r in version.tier_rates.all()}
        bonuses = {b.product_line.code: b.bonus for b in version.product_bonuses.all()}
    assert rates == {w.tier.pk: Decimal("12.5")}
    assert bonuses == {"cloud": Decimal(2)}
    assert (version.registered_multiplier, version.unregistered_multiplier) == (
        Decimal(1),
        Decimal("0.25"),
    )

    call(w, plan_version_update, w.vendor_admin, version_id=version.pk, cap_per_deal="5000")
    with pytest.raises(Conflict, match="never changes"):
        call(w, plan_version_update, w.vendor_admin, version_id=plan.pk, name="Rewritten")
    with pytest.raises(ValidationFailed):
        call(
            w,
            plan_version_create,
            w.vendor_admin,
            name="Backdated",
            effective_from=timezone.localdate(),
        )
    with pytest.raises(PermissionDenied):
        call(w, plan_version_update, w.channel_manager, version_id=version.pk, name="X")
    with pytest.raises(ValidationFailed):
        call(
            w,
            plan_version_update,
            w.vendor_admin,
            version_id=version.pk,
            tier_rates={w.other_tenant_partner.tier_id: "5"},
        )
    with tenant_context(w.tenant):
        assert PlanVersion.objects.get(pk=plan.pk).name == "Standard"
        assert PlanVersion.objects.get(pk=version.pk).cap_per_deal == Decimal(5000)


def test_preview_compares_a_version_with_what_last_quarter_accrued(
    deals_world, plan, partner_deal, close_won
):
    w = deals_world
    last_quarter = quarter_start(quarter_start(timezone.localdate()) - timedelta(days=1))
    deal = partner_deal(amount=Decimal("10000"))
    close_won(deal, on=last_quarter + timedelta(days=5))
    richer = call(
        w,
        plan_version_create,
        w.vendor_admin,
        name="Richer",
        effective_from=timezone.localdate() + timedelta(days=10),
        tier_rates={w.tier.pk: "20"},
    )
    preview = call(w, plan_preview, w.channel_manager, version_id=richer.pk)
    assert [(row.opportunity.pk, row.accrued, row.would_pay) for row in preview.rows] == [
        (deal.pk, Decimal("500.00"), Decimal("1000.00"))
    ]
    assert (preview.accrued_total, preview.would_pay_total) == (
        Decimal("500.00"),
        Decimal("1000.00"),
    )
    with tenant_context(w.tenant):
        assert not PayoutBatch.objects.exists()


def test_the_preview_costs_the_same_queries_for_any_number_of_deals(
    deals_world, plan, partner_deal, close_won
):
    w = deals_world
    last_quarter = quarter_start(quarter_start(timezone.localdate()) - timedelta(days=1))

    def preview_queries() -> int:
        with tenant_context(w.tenant), CaptureQueriesContext(connection) as queries:
            plan_preview(tenant=w.tenant, actor=w.channel_manager, version_id=plan.pk)
        return len(queries)

    close_won(partner_deal(), on=last_quarter + timedelta(days=2))
    one_deal = preview_queries()
    for day in (3, 4, 5, 6):
        close_won(partner_deal(w.partner_admin), on=last_quarter + timedelta(days=day))
    assert preview_queries() == one_deal

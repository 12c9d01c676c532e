"""Helpers of the commission API tests: a ledger built through the real flow (deals closed
as won, their events attributed), URLs, and "nothing changed" snapshots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import AuditEntry, Tenant
from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PayoutBatch, PlanVersion, TierRate
from commissions.services.ledger import commission_approve
from pipeline.models import Opportunity
from pipeline.services.opportunities import opportunity_close_won, opportunity_reopen
from tests.commissions.conftest import PLAN_START, dispatch_last, entries_of
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory, make_ready_to_win

URL = "/api/v1/commissions/"
STATEMENT_URL = "/api/v1/commission-statements/"
PAYOUT_URL = "/api/v1/payouts/"
NOT_FOUND_BODY = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def entry_url(entry_id: int, action: str = "") -> str:
    return f"{URL}{entry_id}/" + (f"{action}/" if action else "")


@dataclass
class Ledger:
    """One accrual each: the rep's deal (10,000 → 500.00), the partner admin's (20,000 →
    1,000.00), the other partner's (30,000 → 1,500.00) and Globex's (40,000 → 2,000.00)."""

    rep: CommissionEntry
    admin: CommissionEntry
    other: CommissionEntry
    foreign: CommissionEntry


def foreign_accrual(world: World, amount: Decimal) -> CommissionEntry:
    """An accrual of the other tenant (Globex), through its own plan, close and event."""
    tenant, member = world.other_tenant, world.other_tenant_partner_admin
    with tenant_context(tenant):
        if not PlanVersion.objects.filter(tenant=tenant).exists():
            version = PlanVersion.objects.create(
                tenant=tenant, name="Globex", effective_from=PLAN_START
            )
            tier = member.partner.tier
            TierRate.objects.create(tenant=tenant, version=version, tier=tier, rate=Decimal(10))
    deal = OpportunityFactory(
        tenant=tenant, partner=member.partner, owner=member.user, amount=amount
    )
    make_ready_to_win(tenant, deal.pk)
    with tenant_context(tenant):
        opportunity_close_won(
            tenant=tenant,
            actor=world.other_tenant_admin,
            opportunity_id=deal.pk,
            close_date=timezone.localdate(),
        )
    dispatch_last(tenant, "opportunity.won")
    [entry] = entries_of(tenant, deal)
    return entry


def build_ledger(world: World, partner_deal: Callable, close_won: Callable) -> Ledger:
    def accrual(member: Any, amount: str) -> CommissionEntry:
        deal = partner_deal(member, amount=Decimal(amount))
        close_won(deal)
        [entry] = entries_of(world.tenant, deal)
        return entry

    return Ledger(
        rep=accrual(world.partner_rep, "10000"),
        admin=accrual(world.partner_admin, "20000"),
        other=accrual(world.other_partner_rep, "30000"),
        foreign=foreign_accrual(world, Decimal("40000")),
    )


def approve(world: World, *entries: CommissionEntry) -> None:
    with tenant_context(world.tenant):
        for entry in entries:
            commission_approve(tenant=world.tenant, actor=world.channel_manager, entry_id=entry.pk)


def reopen(world: World, entry: CommissionEntry) -> CommissionEntry:
    """Reopen the entry's deal; returns the clawback the reopened event writes."""
    with tenant_context(world.tenant):
        opportunity_reopen(
            tenant=world.tenant, actor=world.channel_manager, opportunity_id=entry.opportunity_id
        )
    dispatch_last(world.tenant, "opportunity.reopened")
    with tenant_context(world.tenant):
        return CommissionEntry.objects.get(reverses=entry)


def set_created_at(tenant: Tenant, entry: CommissionEntry, when: Any) -> None:
    with tenant_context(tenant):
        CommissionEntry.objects.filter(pk=entry.pk).update(created_at=when)


def amounts(response) -> list[str]:
    return [row["amount"] for row in response.json()["results"]]


def ledger_state(tenant: Tenant) -> list[Any]:
    """Every entry as the fields a request could change, the payout batches, and the audit
    rows (but the API tokens' own: a test client is made after the snapshot)."""
    with tenant_context(tenant):
        entries = list(
            CommissionEntry.objects.order_by("id").values_list(
                "id", "status", "amount", "approved_at", "approved_by_id", "payout_id"
            )
        )
        batches = list(PayoutBatch.objects.order_by("id").values_list("id", "reference", "total"))
        audit = AuditEntry.objects.exclude(verb__startswith="api_token_").count()
        return [entries, batches, audit, Opportunity.objects.count()]

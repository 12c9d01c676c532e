"""Rows for the home-page tests, written straight to the tables (the services that make
them are tested elsewhere): registrations, deals, co-sell requests and ledger entries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import DomainEvent, Membership, Tenant
from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry
from deals.models import DealRegistration
from pipeline.models import CoSellRequest, Opportunity, Stage
from tests.pipeline.factories import OpportunityFactory, cosell_type

Status = DealRegistration.Status
TODAY = timezone.localdate


def registration(
    member: Membership, status: str, *, hours_waiting: int = 1, ends_in: int | None = None, **f: Any
) -> DealRegistration:
    now = timezone.now()
    with tenant_context(member.tenant):
        return DealRegistration.objects.create(
            tenant=member.tenant,
            partner=member.partner,
            owner=member.user,
            customer_name=f.pop("customer_name", f"Customer of {member.user.email} {status}"),
            currency="USD",
            status=status,
            submitted_at=now - timedelta(hours=hours_waiting),
            first_submitted_at=now - timedelta(hours=hours_waiting),
            created_at=now - timedelta(hours=hours_waiting),
            protected_until=TODAY() + timedelta(days=ends_in) if ends_in is not None else None,
            **f,
        )


def deal(
    tenant: Tenant,
    member: Membership | None,
    *,
    amount: str | None = "1000.00",
    close: date | None = None,
    idle_days: int = 0,
    status: str = Opportunity.Status.OPEN,
    **f: Any,
) -> Opportunity:
    idle_since = timezone.now() - timedelta(days=idle_days)
    with tenant_context(tenant):
        return OpportunityFactory(
            tenant=tenant,
            partner=member.partner if member else None,
            owner=member.user if member else f.pop("owner"),
            amount=Decimal(amount) if amount is not None else None,
            expected_close_date=close,
            stage_entered_at=idle_since,
            last_activity_at=idle_since,
            status=status,
            **f,
        )


def protect(opportunity: Opportunity, member: Membership, ends_in: int) -> DealRegistration:
    return registration(member, Status.APPROVED, ends_in=ends_in, opportunity=opportunity)


def cosell(opportunity: Opportunity, status: str = CoSellRequest.Status.REQUESTED) -> None:
    with tenant_context(opportunity.tenant_id):
        CoSellRequest.objects.create(
            tenant_id=opportunity.tenant_id,
            opportunity=opportunity,
            resource_type=cosell_type(opportunity.tenant),
            need_by=TODAY() + timedelta(days=10),
            status=status,
        )


def ledger_entry(
    opportunity: Opportunity,
    amount: str,
    status: str = CommissionEntry.Status.ACCRUED,
    created_at: Any = None,
) -> CommissionEntry:
    with tenant_context(opportunity.tenant_id):
        event = DomainEvent.objects.create(tenant_id=opportunity.tenant_id, name="test.won")
        return CommissionEntry.objects.create(
            tenant_id=opportunity.tenant_id,
            opportunity=opportunity,
            partner_id=opportunity.partner_id,
            owner_id=opportunity.owner_id,
            kind=CommissionEntry.Kind.ACCRUAL,
            amount=Decimal(amount),
            currency="USD",
            source_event=event,
            status=status,
            approved_at=timezone.now() if status != CommissionEntry.Status.ACCRUED else None,
            closed_on=TODAY(),
            created_at=created_at or timezone.now(),
        )


def stale_after(tenant: Tenant, days: int = 30) -> None:
    """Every open stage of the tenant goes stale after `days` idle days."""
    with tenant_context(tenant):
        Stage.objects.for_tenant(tenant).filter(kind="open").update(stale_after_days=days)

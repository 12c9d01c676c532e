"""The "Commission" panel of a deal's page, in both portals (registered with the pipeline's
panel hook in `CommissionsConfig.ready()`).

An open partner deal shows what it would earn if it closed today at its amount — the
same calculation attribution runs (`selectors.would_earn`). A won deal shows what was
accrued instead: its ledger entries, each with its breakdown. Direct deals show nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accounts.models import Membership
from commissions.models import CommissionEntry
from commissions.selectors import would_earn
from pipeline.models import Opportunity
from pipeline.panels import deal_panel


@dataclass(frozen=True)
class DealCommission:
    """What the panel shows: `would_earn` (a breakdown as JSON, or None with a reason) for
    an open deal; the deal's entries and their net otherwise."""

    is_open: bool
    would_earn: dict[str, Any] | None
    unavailable: str
    entries: list[CommissionEntry]
    currency: str

    @property
    def net(self) -> Decimal:
        return sum((entry.amount for entry in self.entries), Decimal(0))


def deal_entries(opportunity: Opportunity, membership: Membership) -> list[CommissionEntry]:
    return list(
        CommissionEntry.objects.visible_to(membership)
        .filter(opportunity=opportunity)
        .select_related("payout")
        .order_by("id")
    )


@deal_panel("commissions/panels/deal_commission.html")
def deal_commission(opportunity: Opportunity, membership: Membership) -> dict[str, Any] | None:
    if opportunity.partner_id is None:
        return None
    entries = deal_entries(opportunity, membership)
    is_open = opportunity.status == Opportunity.Status.OPEN
    if opportunity.status == Opportunity.Status.LOST and not entries:
        return None
    breakdown, unavailable = None, ""
    if is_open:
        calculated = would_earn(opportunity=opportunity)
        breakdown = calculated.as_json() if calculated is not None else None
        if opportunity.amount is None:
            unavailable = "Enter an amount to see what this deal would earn."
        elif calculated is None:
            unavailable = "No commission plan is in force today."
    currency = membership.tenant.currency
    return {"commission": DealCommission(is_open, breakdown, unavailable, entries, currency)}

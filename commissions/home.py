"""What commissions add to the portal homes (registered in `CommissionsConfig.ready()`).

Vendor home: accrued entries waiting for approval, with their amount. Partner home: what
my deals earned this quarter (accruals net of clawbacks, by the entry's date, as the
statement counts). Each figure links to the ledger filtered to exactly those entries.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum

from accounts.models import Membership
from commissions.models import CommissionEntry
from commissions.selectors import period_current
from partners.home import HomeTile, home_tiles, link


@home_tiles("vendor", order=30)
def vendor_commission_tiles(membership: Membership) -> list[HomeTile]:
    accrued = CommissionEntry.Status.ACCRUED
    waiting = (
        CommissionEntry.objects.visible_to(membership)
        .filter(status=accrued)
        .aggregate(count=Count("pk"), amount=Sum("amount", default=Decimal(0)))
    )
    return [
        HomeTile(
            "commissions-to-approve",
            "Commissions to approve",
            waiting["count"],
            link("vendor:commission_list", status=accrued),
            amount=waiting["amount"],
            currency=membership.tenant.currency,
            attention=True,
            note="entries",
        )
    ]


@home_tiles("partner", order=30)
def partner_commission_tiles(membership: Membership) -> list[HomeTile]:
    quarter = period_current("quarter")
    earned = (
        CommissionEntry.objects.visible_to(membership)
        .filter(quarter.contains())
        .aggregate(count=Count("pk"), amount=Sum("amount", default=Decimal(0)))
    )
    return [
        HomeTile(
            "commissions-earned",
            f"Earned this quarter ({quarter.label})",
            earned["count"],
            link("partner:commission_list", period=quarter.label),
            amount=earned["amount"],
            currency=membership.tenant.currency,
            note="entries",
        )
    ]

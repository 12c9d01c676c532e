"""Reads of commissions: scoped ledger lists, periods, statements, totals per partner, and
what an open deal would earn if it closed today (the same calculation as attribution)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from accounts.errors import ValidationFailed
from accounts.models import Membership, Tenant
from commissions.models import CommissionEntry, PlanVersion, UnattributedWin
from commissions.services.calculation import Breakdown, commission_calculate
from partners.models import PartnerOrganization
from pipeline.models import Opportunity

PERIOD = re.compile(r"^(\d{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$")


def entry_list_for(*, membership: Membership) -> QuerySet[CommissionEntry]:
    return (
        CommissionEntry.objects.visible_to(membership)
        .select_related("opportunity", "partner", "payout", "owner")
        .order_by("-id")
    )


@dataclass(frozen=True)
class Period:
    """A month (`2026-11`) or a quarter (`2026-Q4`)."""

    label: str
    start: date
    end: date  # inclusive

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_current_timezone()
        start = datetime.combine(self.start, time.min, tzinfo=zone)
        return start, datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone)

    def contains(self) -> Q:
        start, end = self.bounds
        return Q(created_at__gte=start, created_at__lt=end)


def period_parse(value: str) -> Period:
    match = PERIOD.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValidationFailed(
            "A period is a month (2026-11) or a quarter (2026-Q4).",
            fields={"period": ["YYYY-MM or YYYY-Qn."]},
        )
    year = int(match[1])
    if match[2]:
        first = int(match[2])
        last = first
    else:
        first = 3 * int(match[3]) - 2
        last = first + 2
    try:  # years 0000 and 9999's last period fall outside `date`
        start = date(year, first, 1)
        following = date(year + (last == 12), last % 12 + 1, 1)
    except ValueError:
        raise ValidationFailed(
            "That period is out of range.", fields={"period": ["YYYY-MM or YYYY-Qn."]}
        ) from None
    return Period(value.strip(), start, following - timedelta(days=1))


def period_current(kind: str = "month") -> Period:
    today = timezone.localdate()
    if kind == "quarter":
        return period_parse(f"{today.year}-Q{(today.month - 1) // 3 + 1}")
    return period_parse(f"{today:%Y-%m}")


@dataclass
class Statement:
    """A partner's ledger for one period: its entries, totals by status, and the net."""

    partner: PartnerOrganization
    period: Period
    currency: str
    entries: list[CommissionEntry]
    by_status: dict[str, Decimal] = field(default_factory=dict)
    accrued: Decimal = Decimal(0)
    clawed_back: Decimal = Decimal(0)

    @property
    def net(self) -> Decimal:
        return self.accrued + self.clawed_back


def statement_get(
    *, membership: Membership, partner: PartnerOrganization, period: Period
) -> Statement:
    """Entries created in the period (a clawback after payment lands in the statement of
    the period it was written in, netting against that period's accruals)."""
    entries = list(
        entry_list_for(membership=membership)
        .filter(partner=partner)
        .filter(period.contains())
        .order_by("created_at", "id")
    )
    statement = Statement(partner, period, membership.tenant.currency, entries)
    for status in CommissionEntry.Status:
        statement.by_status[status.value] = Decimal(0)
    for entry in entries:
        statement.by_status[entry.status] += entry.amount
        if entry.kind == CommissionEntry.Kind.ACCRUAL:
            statement.accrued += entry.amount
        else:
            statement.clawed_back += entry.amount
    return statement


@dataclass(frozen=True)
class PartnerTotal:
    partner_id: int
    partner_name: str
    accrued: Decimal
    approved: Decimal
    paid: Decimal
    net: Decimal


def totals_by_partner(*, tenant: Tenant, period: Period) -> list[PartnerTotal]:
    """Per partner, the period's entries summed by status (one grouped query)."""
    rows = (
        CommissionEntry.objects.for_tenant(tenant)
        .filter(period.contains())
        .values("partner_id", "partner__name")
        .annotate(
            accrued=Sum("amount", filter=Q(status="accrued")),
            approved=Sum("amount", filter=Q(status="approved")),
            paid=Sum("amount", filter=Q(status="paid")),
            net=Sum("amount"),
        )
        .order_by("partner__name")
    )
    zero = Decimal(0)
    return [
        PartnerTotal(
            row["partner_id"],
            row["partner__name"],
            row["accrued"] or zero,
            row["approved"] or zero,
            row["paid"] or zero,
            row["net"] or zero,
        )
        for row in rows
    ]


def would_earn(*, opportunity: Opportunity) -> Breakdown | None:
    """What an open partner deal would earn if it closed today at its amount."""
    if opportunity.status != Opportunity.Status.OPEN or opportunity.amount is None:
        return None
    return commission_calculate(
        opportunity=opportunity, amount=opportunity.amount, close_date=timezone.localdate()
    )


def plan_versions(*, tenant: Tenant) -> list[PlanVersion]:
    return list(
        PlanVersion.objects.for_tenant(tenant)
        .prefetch_related("tier_rates__tier", "product_bonuses__product_line")
        .order_by("-effective_from")
    )


UNATTRIBUTED_SHOWN = 100


@dataclass(frozen=True)
class Unattributed:
    """Won partner deals no plan covered on their close date, oldest first (at most
    UNATTRIBUTED_SHOWN of them) and how many there are in all."""

    rows: list[UnattributedWin]
    count: int


def unattributed_list(*, membership: Membership) -> Unattributed:
    """For vendor roles only: partner people never see another deal's attribution state."""
    if not membership.is_vendor:
        return Unattributed([], 0)
    waiting = UnattributedWin.objects.for_tenant(membership.tenant_id).filter(
        resolved_at__isnull=True
    )
    rows = list(
        waiting.select_related("opportunity", "partner").order_by("closed_on", "id")[
            :UNATTRIBUTED_SHOWN
        ]
    )
    return Unattributed(rows, waiting.count())


@dataclass(frozen=True)
class VersionSpan:
    """When a version applies: its state today and its last day (None: no later version)."""

    state: str  # in_force | upcoming | ended
    until: date | None

    @property
    def editable(self) -> bool:
        return self.state == "upcoming"


def plan_spans(*, tenant: Tenant) -> dict[int, VersionSpan]:
    """Every version's span, from one query of the start dates."""
    today = timezone.localdate()
    starts = list(
        PlanVersion.objects.for_tenant(tenant)
        .order_by("-effective_from")
        .values_list("pk", "effective_from")
    )
    in_force = next((pk for pk, start in starts if start <= today), None)
    spans: dict[int, VersionSpan] = {}
    later: date | None = None
    for pk, start in starts:
        state = "in_force" if pk == in_force else ("upcoming" if start > today else "ended")
        spans[pk] = VersionSpan(state, later - timedelta(days=1) if later else None)
        later = start
    return spans

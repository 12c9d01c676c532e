"""The partner portal's forecast: a partner admin's organization beside the tenant's median
partner; a partner rep's own deals.

The median of each figure is taken across the tenant's partner organizations: every
active partner, plus any other partner with deals in the period, a partner without deals
counting as zero. Only the median leaves this module: never another partner's figure,
name or the number of partners.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from statistics import median

from accounts.models import Membership, Role
from analytics.models import Scope
from analytics.periods import Period
from analytics.selectors.calibration_cache import calibration_now
from analytics.selectors.forecast import FIGURES, ZERO, ForecastRow, rollup, targets_of, total
from analytics.selectors.forecast_groups import aggregate_kept
from partners.models import PartnerOrganization
from pipeline.models import Opportunity


@dataclass
class PartnerForecast:
    period: Period
    currency: str
    own: ForecastRow
    median: ForecastRow | None  # partner admins only


def median_row(rows: list[ForecastRow], partner_ids: set[int]) -> ForecastRow:
    """Each figure's median over `partner_ids` (a partner without a row counts as zero)."""
    by_partner = {row.key: row for row in rows if row.key is not None}
    everyone = partner_ids | {key for key in by_partner if isinstance(key, int)}
    result = ForecastRow(key=None, label="Median partner")
    for name in FIGURES:
        values = [getattr(by_partner[p], name) if p in by_partner else ZERO for p in everyone]
        setattr(result, name, Decimal(median(values)).quantize(Decimal("0.01")) if values else ZERO)
    return result


def partner_forecast(*, membership: Membership, period: Period) -> PartnerForecast:
    tenant = membership.tenant
    calibration = calibration_now(tenant=tenant)
    is_admin = membership.role == Role.PARTNER_ADMIN
    label = str(membership.partner) if is_admin else "Your deals"
    own = total(Opportunity.objects.visible_to(membership), period, calibration, label)
    if not is_admin:
        return PartnerForecast(period, tenant.currency, own, None)
    own.key = membership.partner_id
    own.target = targets_of(tenant, period).get((Scope.PARTNER, membership.partner_id))
    partner_deals = Opportunity.objects.for_tenant(tenant).filter(partner__isnull=False)
    kept = aggregate_kept(tenant.pk, period.start, period.end)
    base = [group for group in kept if group.partner_id is not None]
    rows = rollup(partner_deals, period, "partner", calibration, base=base)
    active = PartnerOrganization.objects.for_tenant(tenant).filter(
        status=PartnerOrganization.Status.ACTIVE
    )
    median = median_row(rows, set(active.values_list("id", flat=True)))
    return PartnerForecast(period, tenant.currency, own, median)

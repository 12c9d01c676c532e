"""The effectiveness metrics of partner pipeline: each figure defined once, here, with the
formula the pages show beside it; the SQL that computes them is in metrics_sql.py.

Figures are grouped by partner, tier, region (the partner's) and product line (the deal's
registration's lines: a deal with two lines counts in both). Results are cached for
METRICS_CACHE_SECONDS per tenant, scope, filters and period. Vendor roles see their
tenant; a partner admin sees their organization beside the **median across partners** of
each figure (shown only when at least MEDIAN_MIN_PARTNERS partners have the figure, so a
median never is one other partner's figure in disguise); a partner rep sees their own deals.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from accounts.models import Membership, Role, Tenant
from analytics.periods import Period
from analytics.selectors.metrics_sql import Scope, grouped_rows, median_won_cycle
from deals.models import ProductLine
from partners.models import PartnerOrganization, PartnerTier, Region
from pipeline.models import Stage

CLOSE_DATE_TOLERANCE_DAYS = 92  # "within one quarter" of the close date first registered
DEFAULT_CYCLE_DAYS = 90  # the expected cycle while a tenant has won nothing yet
MEDIAN_MIN_PARTNERS = 3
# Figures are computed from the whole history (seconds at a million deals on a busy machine)
# and kept this long in the cache, keyed by tenant, scope, filters and period.
METRICS_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Figure:
    code: str
    label: str
    unit: str  # percent, days or money
    formula: str


FIGURES: tuple[Figure, ...] = (
    Figure(
        "qualification_rate",
        "Qualified at registration",
        "percent",
        "Registrations first submitted in the period with budget, decision maker, need and "
        "timeline all given ÷ registrations first submitted in the period.",
    ),
    Figure(
        "stage_days",
        "Median days in stage",
        "days",
        "Median of the days deals spent in an open stage, over the stage visits that ended "
        "(the deal moved on) in the period; per stage, against its stale-after days.",
    ),
    Figure(
        "conversion_rate",
        "Stage-to-stage conversion",
        "percent",
        "Deals that entered an open stage in the period and later entered a further stage "
        "(not Closed Lost) ÷ deals that entered that stage in the period.",
    ),
    Figure("win_rate", "Win rate", "percent", "Won ÷ (won + lost), deals closed in the period."),
    Figure(
        "average_deal_size",
        "Average deal size",
        "money",
        "Mean amount of the deals won in the period.",
    ),
    Figure(
        "close_date_accuracy",
        "Close-date accuracy",
        "percent",
        f"Won deals that closed within {CLOSE_DATE_TOLERANCE_DAYS} days of the close date first "
        "registered (the first recorded close date, else the registration's) ÷ won deals "
        "with such a date, closed in the period.",
    ),
    Figure(
        "pipeline_age",
        "Pipeline older than the cycle",
        "percent",
        "Amount of today's open deals created longer ago than the expected cycle ÷ today's "
        "open amount. Expected cycle: the tenant's median days from creation to won "
        f"({DEFAULT_CYCLE_DAYS} while nothing has been won).",
    ),
    Figure(
        "push_rate",
        "Push rate",
        "percent",
        "Deals whose close date moved into a later month at least once in the period ÷ "
        "deals open at some time in the period.",
    ),
)
FIGURE_BY_CODE = {figure.code: figure for figure in FIGURES}
FACTS_ORDER = ("qualification", "velocity", "conversion", "closed", "age", "push")
PLACES = {"percent": Decimal("0.1"), "days": Decimal("0.1"), "money": Decimal("0.01")}

GROUPINGS: tuple[tuple[str, str], ...] = (
    ("partner", "Partner"),
    ("tier", "Tier"),
    ("region", "Region"),
    ("product_line", "Product line"),
)


def rounded(code: str, value: Any) -> Decimal | None:
    """A figure's value as shown and compared: percent and days to 0.1, money to 0.01."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(PLACES[FIGURE_BY_CODE[code].unit])


@dataclass
class MetricRow:
    key: str
    label: str
    values: dict[str, Decimal | None]
    basis: dict[str, int]  # how many registrations, visits or deals each figure rests on


@dataclass
class StageRow:
    stage: Stage
    stage_days: Decimal | None
    visits: int
    conversion_rate: Decimal | None
    entered: int
    median_stage_days: Decimal | None = None  # across partners (partner admins)
    median_conversion_rate: Decimal | None = None

    @property
    def over_threshold(self) -> bool:
        limit = self.stage.stale_after_days
        return limit is not None and self.stage_days is not None and self.stage_days > limit


@dataclass
class Metrics:
    period: Period
    expected_cycle_days: Decimal
    total: MetricRow
    stages: list[StageRow]
    groups: dict[str, list[MetricRow]] = field(default_factory=dict)
    medians: dict[str, Decimal | None] | None = None  # partner admins: across partners


@dataclass(frozen=True)
class MetricFilters:
    partner: PartnerOrganization | None = None
    tier: PartnerTier | None = None
    region: str = ""
    product_line: ProductLine | None = None


def expected_cycle_days(tenant: Tenant) -> Decimal:
    """The expected cycle, in one place: the median won cycle of the tenant's partner deals."""
    key = cache_key("cycle", Scope(tenant_id=tenant.pk))
    if (cached := cache.get(key)) is not None:
        return cached
    value = median_won_cycle(tenant.pk)
    cycle = Decimal(DEFAULT_CYCLE_DAYS if value is None else str(value)).quantize(Decimal("0.1"))
    cache.set(key, cycle, METRICS_CACHE_SECONDS)
    return cycle


def _params(period: Period, cycle: Decimal, now: datetime | None) -> dict[str, Any]:
    zone = timezone.get_current_timezone()
    return {
        "start": datetime.combine(period.start, time.min, tzinfo=zone),
        "end": datetime.combine(period.end, time.min, tzinfo=zone),
        "start_day": period.start,
        "end_day": period.end,
        "now": now or timezone.now(),
        "given_now": now is not None,
        "cycle": float(cycle),
        "tolerance": CLOSE_DATE_TOLERANCE_DAYS,
    }


def cache_key(kind: str, scope: Scope, *parts: Any) -> str:
    """Every input of a cached result is in its key: the tenant, then a digest of the whole
    scope (partner, owner, filters) and the other inputs."""
    digest = hashlib.sha256(repr((scope, *parts)).encode()).hexdigest()
    return f"metrics:v1:{kind}:{scope.tenant_id}:{digest}"


def _collect(
    scope: Scope, dims: Iterable[str], params: dict[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Every figure's rows for the dimensions, from the cache unless `now` was given."""
    dims = list(dims)
    key = cache_key("rows", scope, params["start"], params["end"], params["cycle"], *dims)
    live = not params["given_now"]
    if live and (cached := cache.get(key)) is not None:
        return cached
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for facts in FACTS_ORDER:
        for group, values in grouped_rows(facts, scope, dims, params).items():
            merged.setdefault(group, {}).update(values)
    if live:
        cache.set(key, merged, METRICS_CACHE_SECONDS)
    return merged


def _row(key: str, label: str, values: dict[str, Any]) -> MetricRow:
    return MetricRow(
        key=key,
        label=label,
        values={f.code: rounded(f.code, values.get(f.code)) for f in FIGURES},
        basis={f.code: int(values.get(f"{f.code}_n") or 0) for f in FIGURES},
    )


def _stage_rows(stages: list[Stage], rows: dict[tuple[str, str], dict[str, Any]]) -> list[StageRow]:
    result = []
    for stage in stages:
        values = rows.get(("stage", str(stage.pk)), {})
        result.append(
            StageRow(
                stage=stage,
                stage_days=rounded("stage_days", values.get("stage_days")),
                visits=int(values.get("stage_days_n") or 0),
                conversion_rate=rounded("conversion_rate", values.get("conversion_rate")),
                entered=int(values.get("conversion_rate_n") or 0),
            )
        )
    return result


def open_stages(tenant: Tenant) -> list[Stage]:
    return list(Stage.objects.for_tenant(tenant).filter(kind=Stage.Kind.OPEN).order_by("position"))


def _labels(tenant: Tenant) -> dict[str, dict[str, str]]:
    partners = PartnerOrganization.objects.for_tenant(tenant).values_list("pk", "name")
    tiers = PartnerTier.objects.for_tenant(tenant).values_list("pk", "name")
    lines = ProductLine.objects.for_tenant(tenant).values_list("pk", "name")
    return {
        "partner": {str(pk): name for pk, name in partners},
        "tier": {str(pk): name for pk, name in tiers},
        "region": dict(Region.choices),
        "product_line": {str(pk): name for pk, name in lines},
    }


def _scope(tenant: Tenant, filters: MetricFilters, **narrowed: Any) -> Scope:
    return Scope(
        tenant_id=tenant.pk,
        partner_id=filters.partner.pk if filters.partner else None,
        tier_id=filters.tier.pk if filters.tier else None,
        region=filters.region,
        product_line_id=filters.product_line.pk if filters.product_line else None,
        **narrowed,
    )


def metrics_for_tenant(
    *, tenant: Tenant, period: Period, filters: MetricFilters, now: datetime | None = None
) -> Metrics:
    """Vendor roles: every figure in total, per stage and per grouping."""
    cycle = expected_cycle_days(tenant)
    dims = ("total", "stage", *(name for name, _ in GROUPINGS))
    rows = _collect(_scope(tenant, filters), dims, _params(period, cycle, now))
    labels = _labels(tenant)
    groups = {
        name: sorted(
            (
                _row(key, labels[name].get(key, key), values)
                for (dim, key), values in rows.items()
                if dim == name
            ),
            key=lambda row: row.label.lower(),
        )
        for name, _ in GROUPINGS
    }
    return Metrics(
        period=period,
        expected_cycle_days=cycle,
        total=_row("", "All partners", rows.get(("total", ""), {})),
        stages=_stage_rows(open_stages(tenant), rows),
        groups=groups,
    )


def partner_median(values: Iterable[Any]) -> Decimal | None:
    """The median across partners, or None when fewer than MEDIAN_MIN_PARTNERS have one."""
    present = [Decimal(str(value)) for value in values if value is not None]
    if len(present) < MEDIAN_MIN_PARTNERS:
        return None
    return statistics.median(present)


def _medians(rows: dict[tuple[str, str], dict[str, Any]], stages: list[StageRow]) -> dict:
    partner_rows = [values for (dim, _), values in rows.items() if dim == "partner"]
    medians = {
        f.code: rounded(f.code, partner_median(v.get(f.code) for v in partner_rows))
        for f in FIGURES
    }
    for stage_row in stages:
        suffix = f":{stage_row.stage.pk}"
        per_partner = [
            v for (d, k), v in rows.items() if d == "partner_stage" and k.endswith(suffix)
        ]
        stage_row.median_stage_days = rounded(
            "stage_days", partner_median(v.get("stage_days") for v in per_partner)
        )
        stage_row.median_conversion_rate = rounded(
            "conversion_rate", partner_median(v.get("conversion_rate") for v in per_partner)
        )
    return medians


def metrics_for_partner(
    *, membership: Membership, period: Period, filters: MetricFilters, now: datetime | None = None
) -> Metrics:
    """Partner people: their organization's figures (a rep's: of the deals they own); for
    partner admins beside the median across the tenant's partners (filters other than the
    partner apply to both sides)."""
    tenant = membership.tenant
    cycle = expected_cycle_days(tenant)
    params = _params(period, cycle, now)
    is_rep = membership.role == Role.PARTNER_REP
    owner = {"owner_id": membership.user_id} if is_rep else {}
    shared = MetricFilters(
        tier=filters.tier, region=filters.region, product_line=filters.product_line
    )
    own_scope = _scope(tenant, shared, **owner)
    own_scope = Scope(**{**own_scope.__dict__, "partner_id": membership.partner_id})
    own = _collect(own_scope, ("total", "stage"), params)
    metrics = Metrics(
        period=period,
        expected_cycle_days=cycle,
        total=_row(
            "", "Your organization" if not is_rep else "Your deals", own.get(("total", ""), {})
        ),
        stages=_stage_rows(open_stages(tenant), own),
    )
    if not is_rep:
        everyone = _collect(_scope(tenant, shared), ("partner", "partner_stage"), params)
        metrics.medians = _medians(everyone, metrics.stages)
    return metrics

"""The forecast's one scan of the period's deals, pre-aggregated, then grouped.

The deals are summed per (partner, stage, status, category override) with no join, so
PostgreSQL answers from the covering partial indexes of pipeline 0011 (open deals by
expected close date, won deals by close date) with index-only scans: a few thousand
groups instead of ~200k deals at a million. The row a group belongs to (tier, region,
channel manager) and its label come from the small partner table; the effective category
from the stage table. Two groupings need more than the partner: product line (the deal's
registration, joined in the aggregate itself) and region for direct deals (the
customer's country, one extra aggregate over direct deals only).

The definitions (which deal is in which row) are those of dimensions.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db.models import CharField, Count, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, NullIf

from analytics.selectors.dimensions import DIMENSIONS, customer_region
from deals.models import RegistrationProductLine
from partners.models import PartnerOrganization, Region
from pipeline.models import ForecastCategory, Opportunity, OpportunityRollup, Stage

REGION_LABELS = dict(Region.choices)


@dataclass(frozen=True)
class Group:
    """Σ amount of the period's deals of one partner × stage × status × category."""

    partner_id: int | None
    stage_id: int  # 0 for won deals (their stage does not count)
    status: str
    category: str
    amount: Decimal
    deals: int
    key: Any = None  # product line code / direct deal's region, when aggregated by it
    label: str | None = None


def _open(deals: QuerySet, start: Any, end: Any) -> QuerySet:
    return deals.filter(
        status=Opportunity.Status.OPEN, expected_close_date__gte=start, expected_close_date__lt=end
    )


def _won(deals: QuerySet, start: Any, end: Any) -> QuerySet:
    return deals.filter(status=Opportunity.Status.WON, closed_on__gte=start, closed_on__lt=end)


def aggregate(deals: QuerySet, start: Any, end: Any, **extra: Any) -> list[Group]:
    """Two aggregates (open, won), each an index-only scan when `extra` is empty, and the
    categories of their stages."""
    names = list(extra)
    open_rows = (
        _open(deals, start, end)
        .values("partner_id", "stage_id", "forecast_category_override", **extra)
        .annotate(total=Sum("amount"), deals=Count("pk"))
        .order_by()
    )
    won_rows = (
        _won(deals, start, end)
        .values("partner_id", **extra)
        .annotate(total=Sum("amount"), deals=Count("pk"))
        .order_by()
    )
    open_rows = list(open_rows)
    stage_ids = {row["stage_id"] for row in open_rows}
    stages = dict(Stage.objects.filter(pk__in=stage_ids).values_list("id", "forecast_category"))
    groups = [
        Group(
            partner_id=row["partner_id"],
            stage_id=row["stage_id"],
            status=Opportunity.Status.OPEN,
            category=row["forecast_category_override"] or stages[row["stage_id"]],
            amount=row["total"] or Decimal("0.00"),
            deals=row["deals"],
            key=row[names[0]] if names else None,
            label=row[names[1]] if len(names) > 1 else None,
        )
        for row in open_rows
    ]
    groups += [
        Group(
            partner_id=row["partner_id"],
            stage_id=0,
            status=Opportunity.Status.WON,
            category=ForecastCategory.CLOSED,
            amount=row["total"] or Decimal("0.00"),
            deals=row["deals"],
            key=row[names[0]] if names else None,
            label=row[names[1]] if len(names) > 1 else None,
        )
        for row in won_rows
    ]
    return groups


def aggregate_kept(tenant_id: int, start: Any, end: Any) -> list[Group]:
    """`aggregate` of all the tenant's deals, read from the rollup the database keeps
    (pipeline.OpportunityRollup, per month: periods are whole months): the same groups
    from a few thousand rows instead of the period's deals. One query, and the stages'."""
    rows = list(
        OpportunityRollup.objects.filter(
            tenant_id=tenant_id, month__gte=start, month__lt=end, status__in=("open", "won")
        )
        .values("status", "partner_id", "stage_id", "category_override")
        .annotate(total=Sum("amount"), count=Sum("deals"))
        .filter(count__gt=0)
        .order_by()
    )
    stage_ids = {row["stage_id"] for row in rows if row["status"] == Opportunity.Status.OPEN}
    stages = dict(Stage.objects.filter(pk__in=stage_ids).values_list("id", "forecast_category"))
    return [
        Group(
            partner_id=row["partner_id"],
            stage_id=row["stage_id"],
            status=row["status"],
            category=ForecastCategory.CLOSED
            if row["status"] == Opportunity.Status.WON
            else row["category_override"] or stages[row["stage_id"]],
            amount=row["total"],
            deals=row["count"],
        )
        for row in rows
    ]


def _partners(ids: set[int]) -> dict[int, dict[str, Any]]:
    manager = Coalesce(
        NullIf(F("channel_manager__full_name"), Value("")),
        F("channel_manager__email"),
        output_field=CharField(),
    )
    rows = (
        PartnerOrganization.objects.filter(pk__in=ids)
        .values("id", "name", "tier_id", "region", "channel_manager_id")
        .annotate(tier_name=F("tier__name"), manager=manager)
    )
    return {row["id"]: dict(row) for row in rows}


# group_by → (partner row → (key, label))
BY_PARTNER: dict[str, Callable[[dict[str, Any]], tuple[Any, str | None]]] = {
    "partner": lambda p: (p["id"], p["name"]),
    "tier": lambda p: (p["tier_id"], p["tier_name"]),
    "region": lambda p: (p["region"], REGION_LABELS.get(p["region"])),
    "channel_manager": lambda p: (p["channel_manager_id"], p["manager"]),
}


def keyed_groups(
    deals: QuerySet, start: Any, end: Any, group_by: str | None, base: list[Group] | None = None
) -> list[tuple[Any, str | None, Group]]:
    """(row key, row label, group) of every group of the period; key None without
    `group_by` (the total) and for the dimension's empty key. `base`: the period's
    `aggregate` when the caller has it already (product line reuses it)."""
    if group_by is None:
        return [
            (None, None, group)
            for group in (aggregate(deals, start, end) if base is None else base)
        ]
    if group_by == "product_line":
        return by_product_line(deals, start, end, base)
    groups = aggregate(deals, start, end) if base is None else base
    if group_by == "region":  # direct deals take their customer's region
        groups = [g for g in groups if g.partner_id is not None]
        direct = deals.filter(partner__isnull=True)
        groups += aggregate(direct, start, end, customer_region=customer_region())
    partners = _partners({g.partner_id for g in groups if g.partner_id is not None})
    out = []
    for group in groups:
        if group.partner_id is None:
            key = group.key
            out.append((key, REGION_LABELS.get(key) if key else None, group))
            continue
        key, label = BY_PARTNER[group_by](partners[group.partner_id])
        out.append((key, label, group))
    return out


def by_product_line(
    deals: QuerySet, start: Any, end: Any, base: list[Group] | None = None
) -> list[tuple[Any, str | None, Group]]:
    """The deals naming product lines, per line (inner joins from their registrations, so
    only deals with lines are joined); the rest ("No product line") as every deal's groups
    minus those of the deals with lines."""
    spec = DIMENSIONS["product_line"]
    # From the registrations' side: only those linked to a deal (an index scan).
    linked = RegistrationProductLine.objects.filter(registration__opportunity__isnull=False)
    lined = deals.filter(pk__in=linked.values("registration__opportunity_id"))
    groups = aggregate(lined, start, end, line=spec.key, line_name=spec.label)
    out: list[tuple[Any, str | None, Group]] = [(g.key, g.label, g) for g in groups]
    with_lines = {_identity(g): g for g in aggregate(lined, start, end)}
    for group in aggregate(deals, start, end) if base is None else base:
        named = with_lines.get(_identity(group))
        if named is None:
            out.append((None, None, group))
        elif named.deals < group.deals:
            rest = replace(
                group, amount=group.amount - named.amount, deals=group.deals - named.deals
            )
            out.append((None, None, rest))
    return out


def _identity(group: Group) -> tuple[int | None, int, str, str]:
    return (group.partner_id, group.stage_id, group.status, group.category)

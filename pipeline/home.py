"""What the pipeline adds to the portal homes (registered in `PipelineConfig.ready()`).

Vendor home: the open pipeline's value, deals closing this month, stale deals and co-sell
requests nobody has answered yet. Partner home: my open deals, and the deals that need an
update (stale, or their expected close date has passed). Each figure links to the list
filtered to exactly the rows it counts.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from accounts.models import Membership
from partners.home import HomeTile, home_section, home_tiles, link
from pipeline.models import CoSellRequest, Opportunity
from pipeline.selectors import opportunity_list_for, stale_after

OPEN = Q(status=Opportunity.Status.OPEN)
NEEDS_UPDATE_SHOWN = 10


def this_month() -> tuple[date, date]:
    today = timezone.localdate()
    last_day = calendar.monthrange(today.year, today.month)[1]
    return today.replace(day=1), today.replace(day=last_day)


def pipeline_figures(membership: Membership) -> dict[str, Any]:
    """Open, closing this month, stale and past their close date: one query."""
    first, last = this_month()
    closing = OPEN & Q(expected_close_date__range=(first, last))
    past_close = OPEN & Q(expected_close_date__lt=timezone.localdate())
    stale = OPEN & (Q(stale_at__lt=timezone.now()) | past_close)  # as `stale_after()` says
    return (
        Opportunity.objects.visible_to(membership)
        .annotate(stale_at=stale_after()["stale_at"])
        .aggregate(
            open=Count("pk", filter=OPEN),
            open_value=Sum("amount", filter=OPEN, default=Decimal(0)),
            closing=Count("pk", filter=closing),
            closing_value=Sum("amount", filter=closing, default=Decimal(0)),
            stale=Count("pk", filter=stale),
            past_close=Count("pk", filter=past_close),
        )
    )


@home_tiles("vendor", order=20)
def vendor_pipeline_tiles(membership: Membership) -> list[HomeTile]:
    figures = pipeline_figures(membership)
    first, last = this_month()
    currency = membership.tenant.currency
    waiting = (
        CoSellRequest.objects.visible_to(membership)
        .filter(status=CoSellRequest.Status.REQUESTED)
        .aggregate(requests=Count("pk"), deals=Count("opportunity", distinct=True))
    )
    pipeline = "vendor:pipeline"
    deals = waiting["deals"]
    return [
        HomeTile(
            "pipeline-open",
            "Open pipeline",
            figures["open"],
            link(pipeline, status="open"),
            amount=figures["open_value"],
            currency=currency,
        ),
        HomeTile(
            "pipeline-closing",
            "Closing this month",
            figures["closing"],
            link(pipeline, status="open", close_from=first, close_to=last),
            amount=figures["closing_value"],
            currency=currency,
        ),
        HomeTile(
            "pipeline-stale",
            "Stale deals",
            figures["stale"],
            link(pipeline, stale="yes"),
            attention=True,
        ),
        HomeTile(
            "cosell-waiting",
            "Co-sell requests waiting",
            waiting["requests"],
            link(pipeline, cosell="requested"),
            attention=True,
            note=f"on {deals} deal{'s' * (deals != 1)}" if waiting["requests"] else "",
        ),
    ]


@home_tiles("partner", order=10)
def partner_pipeline_tiles(membership: Membership) -> list[HomeTile]:
    figures = pipeline_figures(membership)
    mine = "partner:opportunity_list"
    yesterday = timezone.localdate() - timedelta(days=1)
    return [
        HomeTile(
            "deals-open",
            "My open deals",
            figures["open"],
            link(mine, status="open"),
            amount=figures["open_value"],
            currency=membership.tenant.currency,
        ),
        HomeTile(
            "deals-stale", "Stale deals", figures["stale"], link(mine, stale="yes"), attention=True
        ),
        HomeTile(
            "deals-past-close",
            "Close date passed",
            figures["past_close"],
            link(mine, status="open", close_to=yesterday),
            attention=True,
        ),
    ]


@home_section("partner", "pipeline/home/partner_needs_update.html", order=30)
def partner_deals_needing_update(membership: Membership) -> dict[str, Any] | None:
    """Open deals that are stale or whose expected close date has passed, oldest first."""
    deals = list(
        opportunity_list_for(membership=membership)
        .filter(stale=True)
        .order_by("expected_close_date", "stale_at", "id")[:NEEDS_UPDATE_SHOWN]
    )
    if not deals:
        return None
    today = timezone.localdate()
    rows = [
        {
            "deal": deal,
            "close_passed": deal.expected_close_date is not None
            and deal.expected_close_date < today,
        }
        for deal in deals
    ]
    return {"rows": rows, "all_url": link("partner:opportunity_list", stale="yes")}

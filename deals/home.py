"""What deal registration adds to the portal homes (registered in `DealsConfig.ready()`).

Vendor home: registrations waiting for review, those past the review SLA, and protections
ending this week. Partner home: protections ending this week, registrations waiting for
the partner's information, in the vendor's review and drafts, and the open deals with
their protection countdown, soonest ending first. Each figure links to
the list filtered to exactly the rows it counts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Membership
from deals.models import DealRegistration
from deals.services.configuration import registration_settings_for
from partners.home import HomeTile, home_section, home_tiles, link
from pipeline.models import Opportunity

Status = DealRegistration.Status
PROTECTION_WEEK = 7  # "this week": ends today or within the next six days
OPEN_DEALS_SHOWN = 10
WAITING_SHOWN = 5


def protection_ends_window() -> tuple[Any, Any]:
    today = timezone.localdate()
    return today, today + timedelta(days=PROTECTION_WEEK - 1)


def overdue_before(membership: Membership) -> Any:
    """Registrations submitted before this moment are past the tenant's review SLA."""
    hours = registration_settings_for(membership.tenant).review_sla_hours
    return timezone.now() - timedelta(hours=hours)


def submitted_at() -> Coalesce:
    return Coalesce(F("submitted_at"), F("created_at"))


@home_tiles("vendor", order=10)
def vendor_registration_tiles(membership: Membership) -> list[HomeTile]:
    overdue = overdue_before(membership)
    first, last = protection_ends_window()
    in_review = Q(status=Status.IN_REVIEW)
    counts = (
        DealRegistration.objects.visible_to(membership)
        .annotate(waiting_since=submitted_at())
        .aggregate(
            waiting=Count("pk", filter=in_review),
            overdue=Count("pk", filter=in_review & Q(waiting_since__lt=overdue)),
            ending=Count(
                "pk",
                filter=Q(status=Status.APPROVED, protected_until__range=(first, last)),
            ),
        )
    )
    queue = "vendor:registration_queue"
    return [
        HomeTile(
            "registrations-waiting",
            "Registrations waiting for review",
            counts["waiting"],
            link(queue),
            attention=True,
        ),
        HomeTile(
            "registrations-overdue",
            "Reviews overdue (past the SLA)",
            counts["overdue"],
            link(queue, overdue=1),
            attention=True,
        ),
        HomeTile(
            "protections-ending",
            "Protections ending this week",
            counts["ending"],
            link(queue, tab="approved", protection_ends="week"),
        ),
    ]


@home_tiles("partner", order=20)
def partner_registration_tiles(membership: Membership) -> list[HomeTile]:
    first, last = protection_ends_window()
    counts = DealRegistration.objects.visible_to(membership).aggregate(
        info=Count("pk", filter=Q(status=Status.INFO_REQUESTED)),
        drafts=Count("pk", filter=Q(status=Status.DRAFT)),
        in_review=Count("pk", filter=Q(status=Status.IN_REVIEW)),
        ending=Count("pk", filter=Q(status=Status.APPROVED, protected_until__range=(first, last))),
    )
    mine = "partner:registration_list"
    return [
        HomeTile(
            "protections-ending",
            "Protections ending this week",
            counts["ending"],
            link(mine, status=Status.APPROVED, protection_ends="week"),
            attention=True,
            note="move the deal on or ask for an extension",
        ),
        HomeTile(
            "registrations-info-requested",
            "Registrations waiting for your information",
            counts["info"],
            link(mine, status=Status.INFO_REQUESTED),
            attention=True,
        ),
        HomeTile(
            "registrations-in-review",
            "Registrations in the vendor's review",
            counts["in_review"],
            link(mine, status=Status.IN_REVIEW),
        ),
        HomeTile(
            "registrations-drafts",
            "Drafts not submitted yet",
            counts["drafts"],
            link(mine, status=Status.DRAFT),
        ),
    ]


@home_section("partner", "deals/home/partner_open_deals.html", order=10)
def partner_open_deals(membership: Membership) -> dict[str, Any]:
    """My open deals, protection ending soonest first (deals without protection last)."""
    today = timezone.localdate()
    deals = list(
        Opportunity.objects.visible_to(membership)
        .filter(status=Opportunity.Status.OPEN)
        .select_related("stage", "customer", "registration")
        .order_by(F("registration__protected_until").asc(nulls_last=True), "id")[:OPEN_DEALS_SHOWN]
    )
    rows = []
    for deal in deals:
        registration = getattr(deal, "registration", None)
        until = registration.protected_until if registration is not None else None
        rows.append(
            {
                "deal": deal,
                "protected_until": until,
                "days_left": (until - today).days if until else None,
            }
        )
    return {"rows": rows, "all_url": link("partner:opportunity_list", status="open")}


@home_section("partner", "deals/home/partner_waiting.html", order=20)
def partner_waiting_registrations(membership: Membership) -> dict[str, Any] | None:
    """Registrations the vendor sent back for more information (the partner's turn)."""
    registrations = list(
        DealRegistration.objects.visible_to(membership)
        .filter(status=Status.INFO_REQUESTED)
        .order_by("decided_at", "id")[:WAITING_SHOWN]
    )
    if not registrations:
        return None
    return {
        "registrations": registrations,
        "all_url": link("partner:registration_list", status=Status.INFO_REQUESTED),
    }

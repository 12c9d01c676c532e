"""Stale-deal alerts: the hourly scan that flags stale open deals, and the daily digest.

A deal is stale when it is open and either idle (no stage change or activity) for longer
than its stage's stale-after days, or past its expected close date (the expressions are
`pipeline.selectors.stale_after`). Each deal and reason alerts once per period: the day
of the scan for idle deals, the slipped close date itself for a passed close date. The
unique constraint of StaleAlert decides (INSERT … ON CONFLICT DO NOTHING): only the scan
whose insert wins notifies, so overlapping scans never alert twice.

Every service here expects its caller (a task, a test) to have pinned the tenant with
`tenant_context`: one transaction per tenant and call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Tenant, User
from accounts.services.notifications import active_member, active_member_ids, notification_create
from partners.selectors import partner_managers
from pipeline.models import Opportunity, StaleAlert, StaleDigest
from pipeline.selectors import stale_after

REASON = StaleAlert.Reason
DIGEST_LOOKBACK = timedelta(days=7)  # a digest never reaches further back than this
BATCH = 500

INSERT_ALERTS = """
    INSERT INTO pipeline_stalealert (tenant_id, opportunity_id, reason, period, created_at)
    SELECT %s, opportunity_id, reason, period, %s
    FROM unnest(%s::bigint[], %s::varchar[], %s::date[]) AS new(opportunity_id, reason, period)
    ON CONFLICT (tenant_id, opportunity_id, reason, period) DO NOTHING
    RETURNING opportunity_id, reason
"""


@dataclass(frozen=True)
class StaleScanResult:
    alerts: int  # new StaleAlert rows
    notifications: int  # in-app notifications created for them


def _already_alerted(reason: str, period: date | OuterRef) -> Exists:
    return Exists(
        StaleAlert.objects.filter(
            tenant_id=OuterRef("tenant_id"),
            opportunity_id=OuterRef("pk"),
            reason=reason,
            period=period,
        )
    )


class AlertKey(NamedTuple):
    opportunity_id: int
    reason: str
    period: date


def stale_candidates(*, tenant: Tenant, now: datetime) -> list[AlertKey]:
    """(opportunity id, reason, period) of every open stale deal not yet alerted for it."""
    today = timezone.localdate(now)
    open_deals = Opportunity.objects.for_tenant(tenant).filter(status=Opportunity.Status.OPEN)
    idle = (
        open_deals.annotate(stale_at=stale_after(now)["stale_at"])
        .filter(stale_at__lt=now)
        .exclude(_already_alerted(REASON.IDLE, today))
        .values_list("pk", flat=True)
    )
    slipped = (
        open_deals.filter(expected_close_date__lt=today)
        .exclude(_already_alerted(REASON.CLOSE_DATE_PASSED, OuterRef("expected_close_date")))
        .values_list("pk", "expected_close_date")
    )
    return [AlertKey(pk, REASON.IDLE.value, today) for pk in idle.iterator(chunk_size=2000)] + [
        AlertKey(pk, REASON.CLOSE_DATE_PASSED.value, period)
        for pk, period in slipped.iterator(chunk_size=2000)
        if period is not None  # never: filtered on; for the type checker
    ]


def _insert_alerts(tenant: Tenant, rows: list[AlertKey], now: datetime) -> list[tuple[int, str]]:
    """Insert the alerts; returns (opportunity id, reason) of those this call inserted."""
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_ALERTS,
            [
                tenant.pk,
                now,
                [row.opportunity_id for row in rows],
                [row.reason for row in rows],
                [row.period for row in rows],
            ],
        )
        return [(pk, reason) for pk, reason in cursor.fetchall()]


def _message(opportunity: Opportunity, reason: str) -> str:
    if reason == REASON.IDLE:
        return (
            f"“{opportunity.name}” is stale: no stage change or activity in "
            f"{opportunity.stage.name} for over {opportunity.stage.stale_after_days} days."
        )
    return (
        f"“{opportunity.name}” is past its expected close date "
        f"({opportunity.expected_close_date.isoformat()})."  # type: ignore[union-attr]
    )


def _deal_url(opportunity: Opportunity, *, partner_portal: bool) -> str:
    """The deal's page in the person's portal ("" while the portal has no such page)."""
    portal = "partner" if partner_portal else "vendor"
    try:
        return reverse(f"{portal}:opportunity_detail", args=[opportunity.pk])
    except NoReverseMatch:
        return ""


def _alert_recipients(opportunity: Opportunity) -> list[tuple[User, str]]:
    """(person, deal url): the owner, and the partner's channel manager (not for direct deals;
    notification_create leaves out anyone without an active membership)."""
    owner = opportunity.owner
    people = [(owner, _deal_url(opportunity, partner_portal=not opportunity.is_direct))]
    partner = opportunity.partner
    if partner is not None and partner.channel_manager_id is not None:
        # Their channel manager, or the active ones once that manager left.
        people += [
            (manager, _deal_url(opportunity, partner_portal=False))
            for manager in partner_managers(partner=partner)
            if manager.pk != owner.pk
        ]
    return [(person, url) for person, url in people if person.is_active]


def _notify(tenant: Tenant, inserted: list[tuple[int, str]]) -> int:
    deals = Opportunity.objects.for_tenant(tenant).select_related(
        "stage", "owner", "partner__channel_manager"
    )
    by_id = {d.pk: d for d in deals.filter(pk__in={pk for pk, _ in inserted})}
    count = 0
    for pk, reason in inserted:
        opportunity = by_id[pk]
        for person, url in _alert_recipients(opportunity):
            count += len(
                notification_create(
                    tenant=tenant,
                    recipients=[person],
                    verb=f"opportunity_stale_{reason}",
                    message=_message(opportunity, reason),
                    url=url,
                    email=False,
                )
            )
    return count


def stale_scan(*, tenant: Tenant, now: datetime | None = None) -> StaleScanResult:
    """Alert (once per deal, reason and period) on every open stale deal of the tenant."""
    now = now or timezone.now()
    candidates = stale_candidates(tenant=tenant, now=now)
    alerts = notified = 0
    for start in range(0, len(candidates), BATCH):
        inserted = _insert_alerts(tenant, candidates[start : start + BATCH], now)
        alerts += len(inserted)
        notified += _notify(tenant, inserted)
    return StaleScanResult(alerts=alerts, notifications=notified)


# --- The daily digest ------------------------------------------------------------------------


def _alerts_of(recipient_id: int) -> Q:
    return Q(opportunity__owner_id=recipient_id) | Q(
        opportunity__partner__channel_manager_id=recipient_id
    )


def _recent_alerts(*, tenant: Tenant, after: datetime, until: datetime) -> QuerySet:
    """Alerts created in (after, until] on deals that are still open."""
    return StaleAlert.objects.for_tenant(tenant).filter(
        created_at__gt=after,
        created_at__lte=until,
        opportunity__status=Opportunity.Status.OPEN,
    )


def _people_with_new_alerts(*, tenant: Tenant, now: datetime) -> set[int]:
    """Active people (owners, channel managers) with alerts since their last digest."""
    last = dict(
        StaleDigest.objects.for_tenant(tenant)
        .values("recipient_id")
        .annotate(until=Max("until"))
        .values_list("recipient_id", "until")
    )
    rows = _recent_alerts(tenant=tenant, after=now - DIGEST_LOOKBACK, until=now).values_list(
        "created_at", "opportunity__owner_id", "opportunity__partner__channel_manager_id"
    )
    people: set[int] = set()
    for created_at, *recipients in rows.iterator(chunk_size=2000):
        for person in recipients:
            if person is not None and (person not in last or created_at > last[person]):
                people.add(person)
    return active_member_ids(tenant_id=tenant.pk, user_ids=people)


def stale_digest_prepare(*, tenant: Tenant, now: datetime | None = None) -> list[int]:
    """Record today's digest for each person with new alerts (once per person and day);
    returns the ids of every digest still to send, for the worker."""
    now = now or timezone.now()
    StaleDigest.objects.bulk_create(
        [
            StaleDigest(tenant=tenant, recipient_id=pk, day=timezone.localdate(now), until=now)
            for pk in sorted(_people_with_new_alerts(tenant=tenant, now=now))
        ],
        ignore_conflicts=True,  # the constraint keeps it to one digest per person and day
    )
    return list(
        StaleDigest.objects.for_tenant(tenant)
        .filter(active_member(tenant.pk), sent_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )


@dataclass
class DigestLine:
    opportunity: Opportunity
    url: str
    reasons: list[str] = field(default_factory=list)


def digest_lines(*, tenant: Tenant, digest: StaleDigest) -> list[DigestLine]:
    """The deals of a digest, with their reasons: the person's alerts since the last one."""
    previous = (
        StaleDigest.objects.for_tenant(tenant)
        .filter(recipient_id=digest.recipient_id, day__lt=digest.day)
        .aggregate(until=Max("until"))["until"]
    )
    after = max(filter(None, [previous, digest.until - DIGEST_LOOKBACK]))
    alerts = (
        _recent_alerts(tenant=tenant, after=after, until=digest.until)
        .filter(_alerts_of(digest.recipient_id))
        .select_related("opportunity__customer", "opportunity__stage")
        .order_by("opportunity__name", "opportunity_id", "reason", "period")
    )
    lines: dict[int, DigestLine] = {}
    for alert in alerts:
        deal = alert.opportunity
        partner_portal = deal.owner_id == digest.recipient_id and not deal.is_direct
        line = lines.setdefault(
            deal.pk, DigestLine(deal, _deal_url(deal, partner_portal=partner_portal))
        )
        if alert.get_reason_display() not in line.reasons:
            line.reasons.append(alert.get_reason_display())
    return list(lines.values())


def _send(recipient: User, lines: Iterable[DigestLine]) -> None:
    lines = list(lines)
    noun = "deal needs" if len(lines) == 1 else "deals need"
    send_mail(
        subject=f"[PRM] {len(lines)} stale {noun} your attention",
        message=render_to_string(
            "email/stale_digest.txt",
            {"recipient": recipient, "lines": lines, "site_url": settings.SITE_URL},
        ),
        from_email=None,
        recipient_list=[recipient.email],
    )


def stale_digest_send(*, tenant: Tenant, digest_id: int) -> bool:
    """Send one digest exactly once (row lock + sent_at guard). True if an e-mail went out;
    a digest whose deals have all closed meanwhile is marked sent without one."""
    digest = (
        StaleDigest.objects.for_tenant(tenant)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("recipient")
        .filter(pk=digest_id, sent_at__isnull=True)
        .first()
    )
    if digest is None or not active_member_ids(tenant_id=tenant.pk, user_ids=[digest.recipient_id]):
        return False  # e.g. their membership was deactivated after the digest was prepared
    lines = digest_lines(tenant=tenant, digest=digest)
    if lines:
        _send(digest.recipient, lines)
    digest.deal_count, digest.sent_at = len(lines), timezone.now()
    digest.save(update_fields=["deal_count", "sent_at"])
    return bool(lines)

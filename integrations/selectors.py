"""Reads of integrations: webhook endpoints and their deliveries, as a vendor admin sees them."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from accounts.models import Membership, Tenant
from integrations.models import (
    FeedCounter,
    FeedEntry,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)


def webhook_endpoint_list_for(*, membership: Membership) -> QuerySet[WebhookEndpoint]:
    """The tenant's endpoints, with their failed and pending delivery counts (one query)."""
    return (
        WebhookEndpoint.objects.visible_to(membership)
        .annotate(
            failed_count=Count("deliveries", filter=Q(deliveries__status="failed")),
            pending_count=Count("deliveries", filter=Q(deliveries__status="pending")),
        )
        .order_by("status", "-id")
    )


def webhook_delivery_list_for(*, membership: Membership) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.visible_to(membership).defer("body").order_by("-id")


def webhook_attempt_list(*, delivery: WebhookDelivery, limit: int = 50) -> list[WebhookAttempt]:
    return list(
        WebhookAttempt.objects.for_tenant(delivery.tenant_id)
        .filter(delivery=delivery)
        .order_by("-attempted_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class FeedPage:
    entries: list[FeedEntry]
    next_after: int


def feed_read(
    *, tenant: Tenant, after: int = 0, types: list[str] | None = None, limit: int = 100
) -> FeedPage:
    """Entries after `after`, oldest first. `next_after` is where to resume: the last entry
    returned, or, when the page is not full, the last number committed when reading began
    (everything up to it was considered, so filtered-out entries are not read again)."""
    last = FeedCounter.objects.filter(tenant=tenant).values_list("last", flat=True).first()
    committed = last or 0
    entries = FeedEntry.objects.filter(tenant=tenant, seq__gt=after, seq__lte=committed)
    if types:
        entries = entries.filter(event_type__in=types)
    rows = list(entries.order_by("seq")[:limit])
    if len(rows) == limit:
        return FeedPage(rows, rows[-1].seq)
    return FeedPage(rows, max(after, committed))

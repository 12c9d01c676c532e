"""Reads of integrations: webhook endpoints and their deliveries, as a vendor admin sees them."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts.models import Membership
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


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

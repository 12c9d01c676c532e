"""Working a deal: the activity timeline (co-sell requests: cosell_requests.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.errors import NotFound, PermissionDenied, ValidationFailed
from accounts.models import Membership, Tenant
from pipeline.models import Activity, Opportunity


def _visible(tenant: Tenant, actor: Membership, opportunity_id: int) -> Opportunity:
    opportunity = (
        Opportunity.objects.visible_to(actor)
        .select_related("partner", "owner")
        .filter(tenant=tenant, pk=opportunity_id)
        .first()
    )
    if opportunity is None:
        raise NotFound
    return opportunity


@transaction.atomic
def activity_add(
    *,
    tenant: Tenant,
    actor: Membership,
    opportunity_id: int,
    kind: str,
    body: str,
    occurred_at: datetime | None = None,
    vendor_internal: bool = False,
) -> Activity:
    opportunity = _visible(tenant, actor, opportunity_id)
    if kind not in Activity.Kind.values:
        raise ValidationFailed("Unknown activity kind.", fields={"kind": ["Choose a kind."]})
    body = body.strip()
    if not body or len(body) > 5000:
        raise ValidationFailed(
            "Describe the activity (at most 5000 characters).",
            fields={"body": ["1 to 5000 characters."]},
        )
    if vendor_internal and not actor.is_vendor:
        raise PermissionDenied("Only the vendor's people write internal notes.")
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed(
            "An activity cannot happen in the future.", fields={"occurred_at": ["Now or earlier."]}
        )
    activity = Activity.objects.create(
        tenant=tenant,
        opportunity=opportunity,
        kind=kind,
        body=body,
        occurred_at=occurred_at,
        author=actor.user,
        vendor_internal=vendor_internal,
    )
    Opportunity.objects.filter(pk=opportunity.pk, last_activity_at__lt=occurred_at).update(
        last_activity_at=occurred_at
    )
    return activity

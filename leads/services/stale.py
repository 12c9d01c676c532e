"""Stale leads and the vendor's actions on many leads at once.

An accepted lead (accepted, contacted, qualified) not updated within the tenant's window
(`RoutingPolicy.stale_after_days` business days) is stale; the vendor may pull it back:
it leaves the partner for the routing queue (that partner is never offered it again), the
audit log keeps who, when and from whom, and the partner's active people are told.

The worker's sweep (`leads_stale_flag`, beat hourly) flags each lead as it goes stale
(`Lead.stale_flagged_at`) and tells the partner's channel manager (if an active member)
once per lead going stale: a flagged lead is not flagged again until it is updated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.errors import Conflict, NotFound, ValidationFailed
from accounts.models import Membership, Role, Tenant, User
from accounts.permissions import require_vendor
from accounts.services.audit import audit_record
from accounts.services.notifications import notification_create
from leads.models import Lead
from leads.services.offers import offer_withdraw
from leads.services.policy import routing_policy_for, stale_cutoff
from leads.services.routing import lead_route_again

STALE_FLAG_BATCH = 500


@transaction.atomic
def leads_stale_flag(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Flag the tenant's leads that went stale since the last sweep and tell each one's
    channel manager; how many were flagged. Running it again flags nothing more."""
    now = now or timezone.now()
    cutoff = stale_cutoff(routing_policy_for(tenant), now)
    going = list(
        Lead.objects.for_tenant(tenant)
        .filter(status__in=Lead.WORKING, updated_at__lt=cutoff)
        .filter(Q(stale_flagged_at__isnull=True) | Q(stale_flagged_at__lt=F("updated_at")))
        .select_for_update(of=("self",), skip_locked=True)
        .order_by("id")
        .values_list("pk", "company_name", "updated_at", "partner__channel_manager")[
            :STALE_FLAG_BATCH
        ]
    )
    if not going:
        return 0
    Lead.objects.for_tenant(tenant).filter(pk__in=[row[0] for row in going]).update(
        stale_flagged_at=now
    )
    managers = {
        user.pk: user
        for user in User.objects.filter(pk__in={row[3] for row in going if row[3] is not None})
    }
    for lead_id, company, since, manager_id in going:
        if manager_id in managers:
            notification_create(
                tenant=tenant,
                recipients=[managers[manager_id]],
                verb="lead_stale",
                message=f"The lead {company} has had no update since "
                f"{timezone.localtime(since):%Y-%m-%d}: it is stale and may be pulled back.",
                url=reverse("vendor:lead_detail", args=[lead_id]),
            )
    return len(going)


@transaction.atomic
def lead_pull_back(*, tenant: Tenant, actor: Membership, lead_id: int) -> Lead:
    require_vendor(actor)
    lead = (
        Lead.objects.for_tenant(tenant)
        .select_for_update(of=("self",))
        .select_related("partner")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise NotFound
    if lead.status not in Lead.WORKING:
        raise Conflict(f"The lead is {lead.get_status_display().lower()}: nothing to pull back.")
    cutoff = stale_cutoff(routing_policy_for(tenant))
    if lead.updated_at >= cutoff:
        raise Conflict(
            f"The lead was updated on {timezone.localtime(lead.updated_at):%Y-%m-%d}: "
            "it is not stale."
        )
    partner, since, before = lead.partner, lead.updated_at, lead.status
    assert partner is not None  # noqa: S101 (a working lead has its partner)
    lead.pull_back(reason=f"Pulled back from {partner.name}: no update since {since:%Y-%m-%d}.")
    lead.updated_at = timezone.now()
    lead.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="lead_pulled_back",
        subject=lead,
        before={"status": before, "partner": partner.name, "updated_at": since.isoformat()},
        after={"status": lead.status, "partner": None, "updated_at": lead.updated_at.isoformat()},
    )
    people = [
        m.user
        for m in Membership.objects.for_tenant(tenant)
        .filter(partner=partner, is_active=True, role__in=[Role.PARTNER_ADMIN, Role.PARTNER_REP])
        .select_related("user")
    ]
    notification_create(
        tenant=tenant,
        recipients=people,
        verb="lead_pulled_back",
        message=f"The vendor took back the lead {lead.company_name}: it had no update since "
        f"{since:%Y-%m-%d}.",
        url=reverse("partner:lead_inbox"),
    )
    return lead


@dataclass(frozen=True)
class BulkResult:
    done: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


BULK_ACTIONS: dict[str, str] = {
    "route_again": "Route again (from the routing queue)",
    "pull_back": "Pull back (stale leads)",
    "withdraw": "Withdraw the open offer (to the routing queue)",
}
BULK_MAX = 200


def leads_bulk_act(
    *, tenant: Tenant, actor: Membership, action: str, lead_ids: list[int]
) -> BulkResult:
    """One action on each selected lead, one transaction each: every lead is done or
    skipped with the reason; another tenant's lead is skipped as not found."""
    require_vendor(actor)
    services: dict[str, Callable[..., Lead]] = {
        "route_again": lead_route_again,
        "pull_back": lead_pull_back,
        "withdraw": offer_withdraw,
    }
    if action not in services:
        raise ValidationFailed(
            "Choose an action.", fields={"action": [f"One of: {', '.join(BULK_ACTIONS)}."]}
        )
    if not lead_ids or len(lead_ids) > BULK_MAX:
        raise ValidationFailed(
            f"Select 1 to {BULK_MAX} leads.", fields={"lead": [f"Select 1 to {BULK_MAX} leads."]}
        )
    result = BulkResult()
    for lead_id in dict.fromkeys(lead_ids):
        try:
            services[action](tenant=tenant, actor=actor, lead_id=lead_id)
        except NotFound:
            result.skipped[lead_id] = "Not found."
        except (Conflict, ValidationFailed) as error:
            result.skipped[lead_id] = error.message
        else:
            result.done.append(lead_id)
    return result

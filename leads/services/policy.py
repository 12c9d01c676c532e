"""A tenant's routing policy (created with the defaults the first time it is needed, or
when the tenant is created) and its business calendar."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import Tenant
from leads.business_hours import BusinessCalendar
from leads.models import RoutingPolicy


def routing_policy_for(tenant: Tenant | int) -> RoutingPolicy:
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    policy = RoutingPolicy.objects.for_tenant(tenant_id).first()
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            return RoutingPolicy.objects.create(tenant_id=tenant_id)
    except IntegrityError:  # created meanwhile by another routing
        return RoutingPolicy.objects.for_tenant(tenant_id).get()


def calendar_of(policy: RoutingPolicy) -> BusinessCalendar:
    return BusinessCalendar(
        time_zone=policy.time_zone,
        working_days=tuple(policy.working_days),
        starts_at=policy.day_starts_at,
        ends_at=policy.day_ends_at,
    )


def policy_snapshot(policy: RoutingPolicy) -> dict[str, object]:
    return {
        "version": policy.version,
        "rules": policy.rules,
        "weights": policy.weights,
        "minimum_tier_rank": policy.minimum_tier_rank,
        "max_hops": policy.max_hops,
    }

"""A tenant's routing policy (created with the defaults the first time it is needed, or
when the tenant is created) and its business calendar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import available_timezones

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.cleaning import clean_fields
from accounts.errors import ValidationFailed
from accounts.models import Membership, Tenant
from accounts.permissions import require_vendor_admin
from accounts.services.audit import audit_record
from leads.business_hours import BusinessCalendar
from leads.models import RULES, RoutingPolicy
from leads.routing import SCORE_PARTS, SCORINGS


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


def stale_cutoff(policy: RoutingPolicy, now: datetime | None = None) -> datetime:
    """An accepted lead not updated since this moment is stale: `stale_after_days`
    business days ago, in the policy's time zone and working days."""
    return calendar_of(policy).days_before(now or timezone.now(), policy.stale_after_days)


def policy_snapshot(policy: RoutingPolicy) -> dict[str, object]:
    return {
        "version": policy.version,
        "rules": policy.rules,
        "weights": policy.weights,
        "scoring": policy.scoring,
        "minimum_tier_rank": policy.minimum_tier_rank,
        "max_hops": policy.max_hops,
    }


# --- Changing the policy (vendor admins) -------------------------------------------------------

RULE_NAMES = tuple(name for name, _ in RULES)
WEIGHT_MAX = 10.0


def rules_clean(value: Any) -> list[dict[str, Any]]:
    """An ordered list of {rule, required}; each known rule at most once, at least one."""
    if not isinstance(value, list) or not value:
        raise _invalid("rules", "An ordered list of {rule, required}, at least one.")
    seen: set[str] = set()
    chain = []
    for step in value:
        ok = isinstance(step, dict) and set(step) == {"rule", "required"}
        if not ok or step["rule"] not in RULE_NAMES or not isinstance(step["required"], bool):
            raise _invalid("rules", f"Each step: a rule of {', '.join(RULE_NAMES)} and required.")
        if step["rule"] in seen:
            raise _invalid("rules", f"The rule {step['rule']} appears twice.")
        seen.add(step["rule"])
        chain.append({"rule": step["rule"], "required": step["required"]})
    return chain


def weights_clean(value: Any) -> dict[str, float]:
    if not isinstance(value, dict) or set(value) != set(SCORE_PARTS):
        raise _invalid("weights", f"A weight for each of {', '.join(SCORE_PARTS)}.")
    weights = {}
    for name in SCORE_PARTS:
        number = value[name]
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise _invalid("weights", f"{name}: a number from 0 to {WEIGHT_MAX:g}.")
        if not 0 <= float(number) <= WEIGHT_MAX or number != number:
            raise _invalid("weights", f"{name}: a number from 0 to {WEIGHT_MAX:g}.")
        weights[name] = float(number)
    return weights


def scoring_clean(value: Any) -> str:
    if value not in SCORINGS:
        raise _invalid("scoring", f"One of {', '.join(SCORINGS)}.")
    return str(value)


def _whole(name: str, low: int, high: int) -> Callable[[Any], int]:
    def clean(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _invalid(name, f"A whole number from {low} to {high}.")
        return value

    return clean


def time_zone_clean(value: Any) -> str:
    if not isinstance(value, str) or value not in available_timezones():
        raise _invalid("time_zone", "An IANA time zone, e.g. Europe/Berlin.")
    return value


def working_days_clean(value: Any) -> list[int]:
    ok = isinstance(value, list) and all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in value
    )
    if not ok or not value:
        raise _invalid("working_days", "Days of the week, 0 (Monday) to 6 (Sunday), at least one.")
    return sorted(set(value))


CLEANERS: dict[str, Callable[[Any], Any]] = {
    "rules": rules_clean,
    "weights": weights_clean,
    "scoring": scoring_clean,
    "minimum_tier_rank": _whole("minimum_tier_rank", 0, 32767),
    "max_hops": _whole("max_hops", 1, 20),
    "reminder_hours": _whole("reminder_hours", 0, 720),
    "time_zone": time_zone_clean,
    "working_days": working_days_clean,
    "day_starts_at": _whole("day_starts_at", 0, 23),
    "day_ends_at": _whole("day_ends_at", 1, 24),
    "stale_after_days": _whole("stale_after_days", 1, 250),
}


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={field: [message]})


@transaction.atomic
def routing_policy_update(*, tenant: Tenant, actor: Membership, **changes: Any) -> RoutingPolicy:
    """Change the routing policy; its version grows by one (offers keep the one they were
    decided under). ValidationFailed names every bad field; nothing changes then."""
    require_vendor_admin(actor)
    cleaned, errors = clean_fields(changes, CLEANERS)
    policy = RoutingPolicy.objects.select_for_update().get(pk=routing_policy_for(tenant).pk)
    starts = cleaned.get("day_starts_at", policy.day_starts_at)
    if not errors and starts >= cleaned.get("day_ends_at", policy.day_ends_at):
        errors["day_ends_at"] = ["The working day must end after it starts."]
    if errors:
        raise ValidationFailed("Check the highlighted fields.", fields=errors)
    before = policy_snapshot(policy)
    for name, value in cleaned.items():
        setattr(policy, name, value)
    policy.version += 1
    policy.updated_at = timezone.now()
    policy.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="routing_policy_updated",
        subject=policy,
        before={k: str(v) for k, v in before.items()},
        after={k: str(v) for k, v in policy_snapshot(policy).items()},
    )
    return policy

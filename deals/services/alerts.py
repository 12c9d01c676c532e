"""The beat jobs' services: protection expiry, expiry reminders (14, 7 and 1 days before)
and review-SLA escalation. A sweep may run as often as it likes: a reminder is written once
per registration, kind and protection end (RegistrationAlert's unique constraint), an
escalation once per submission (`escalated_at`, cleared by a resubmission)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Tenant
from accounts.services.events import event_record
from deals.models import DealRegistration, RegistrationAlert
from deals.services.configuration import registration_settings_for
from deals.services.protection import claims_release
from deals.services.timeline import (
    reviewers_of,
    tell_partner,
    tell_vendor,
    timeline_record,
    vendor_admins_of,
)
from pipeline.models import Opportunity

# (days left at most, alert kind), from the latest reminder to the earliest.
REMINDERS = (
    (1, RegistrationAlert.Kind.EXPIRY_1),
    (7, RegistrationAlert.Kind.EXPIRY_7),
    (14, RegistrationAlert.Kind.EXPIRY_14),
)
BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    expired: int = 0
    reminded: int = 0
    escalated: int = 0


def _alert_once(registration: DealRegistration, kind: str, period) -> bool:  # noqa: ANN001
    try:
        with transaction.atomic():
            RegistrationAlert.objects.create(
                tenant_id=registration.tenant_id,
                registration=registration,
                kind=kind,
                period=period,
            )
    except IntegrityError:
        return False
    return True


def _approved(tenant: Tenant):  # noqa: ANN202
    return (
        DealRegistration.objects.for_tenant(tenant)
        .filter(status=DealRegistration.Status.APPROVED)
        .select_related("owner", "partner", "tenant")
    )


@transaction.atomic
def protection_expire(*, tenant: Tenant) -> int:
    """End lapsed protection (unless the deal is closed), freeing customer × product line."""
    today = timezone.localdate()
    lapsed = (
        _approved(tenant)
        .filter(protected_until__lt=today)
        .exclude(opportunity__status__in=[Opportunity.Status.WON, Opportunity.Status.LOST])
        .select_for_update(of=("self",), skip_locked=True, no_key=True)
        .order_by("protected_until", "id")[:BATCH]
    )
    expired = 0
    for registration in lapsed:
        registration.expire()
        registration.save()
        claims_release(registration)
        timeline_record(
            registration,
            verb="expired",
            actor=None,
            from_status=DealRegistration.Status.APPROVED,
            message=f"Protection ended on {registration.protected_until}.",
        )
        event_record(
            tenant=tenant,
            name="registration.expired",
            subject=registration,
            payload={
                "partner_id": registration.partner_id,
                "protected_until": str(registration.protected_until),  # ISO date
            },
        )
        tell_partner(
            registration,
            verb="registration_expired",
            message=f"Protection of your registration for {registration.customer_name} has "
            "ended; the customer is open to other partners again.",
        )
        expired += 1
    return expired


@transaction.atomic
def protection_remind(*, tenant: Tenant) -> int:
    """Remind submitters 14, 7 and 1 days before their protection ends (in-app and e-mail)."""
    today = timezone.localdate()
    due = _approved(tenant).filter(
        protected_until__gte=today, protected_until__lte=today + timedelta(days=14)
    )
    reminded = 0
    for registration in due.order_by("protected_until", "id")[:BATCH]:
        left = (registration.protected_until - today).days  # type: ignore[operator]
        kind = next(kind for limit, kind in REMINDERS if left <= limit)
        if not _alert_once(registration, kind, registration.protected_until):
            continue
        when = "tomorrow" if left == 1 else ("today" if left == 0 else f"in {left} days")
        tell_partner(
            registration,
            verb="protection_reminder",
            message=f"Protection of {registration.customer_name} ends {when} "
            f"({registration.protected_until}). Move the deal on or request an extension.",
        )
        reminded += 1
    return reminded


@transaction.atomic
def review_escalate(*, tenant: Tenant) -> int:
    """Registrations in review past the tenant's SLA: flagged and escalated once."""
    settings = registration_settings_for(tenant)
    cutoff = timezone.now() - timedelta(hours=settings.review_sla_hours)
    overdue = list(
        DealRegistration.objects.for_tenant(tenant)
        .filter(
            status=DealRegistration.Status.IN_REVIEW,
            submitted_at__lt=cutoff,
            escalated_at__isnull=True,
        )
        .select_related("partner__channel_manager", "tenant")
        .select_for_update(of=("self",), skip_locked=True, no_key=True)
        .order_by("submitted_at")[:BATCH]
    )
    admins = vendor_admins_of(tenant.pk)
    for registration in overdue:
        registration.escalated_at = timezone.now()
        registration.save(update_fields=["escalated_at"])
        tell_vendor(
            registration,
            verb="registration_sla_breached",
            message=f"Review overdue (over {settings.review_sla_hours} h): "
            f"{registration.customer_name} from {registration.partner.name}.",
            recipients=[*admins, *reviewers_of(registration)],
        )
    return len(overdue)

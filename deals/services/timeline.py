"""What every registration change writes besides itself: a timeline entry, an audit row,
and the notifications of the people on each side.

Texts that reach the partner never name another partner or its data: findings are told
by their kind and the date the first registration was made.
"""

from __future__ import annotations

from django.urls import reverse

from accounts.models import Membership, Role, User
from accounts.services.audit import audit_record, snapshot
from accounts.services.notifications import notification_create
from deals.models import DealRegistration, RegistrationEvent
from partners.selectors import partner_managers

AUDITED = [
    "status",
    "decision_code",
    "override_reason",
    "protected_until",
    "extensions_granted",
]


def timeline_record(
    registration: DealRegistration,
    *,
    verb: str,
    actor: User | None,
    from_status: str,
    reason_code: str = "",
    message: str = "",
) -> RegistrationEvent:
    """One timeline entry (and, for people's actions, an audit row)."""
    event = RegistrationEvent.objects.create(
        tenant_id=registration.tenant_id,
        registration=registration,
        verb=verb,
        from_status=from_status,
        to_status=registration.status,
        actor=actor,
        reason_code=reason_code,
        message=message[:2000],
    )
    audit_record(
        tenant=registration.tenant,
        actor=actor,
        verb=f"registration_{verb}",
        subject=registration,
        before={"status": from_status},
        after=snapshot(registration, AUDITED),
    )
    return event


def registration_url(registration: DealRegistration, portal: str) -> str:
    return reverse(f"{portal}:registration_detail", args=[registration.pk])


def tell_partner(registration: DealRegistration, *, verb: str, message: str) -> None:
    """The submitter hears about their registration (in the app and by e-mail)."""
    notification_create(
        tenant=registration.tenant,
        recipients=[registration.owner],
        verb=verb,
        message=message,
        url=registration_url(registration, "partner"),
    )


def reviewers_of(registration: DealRegistration) -> list[User]:
    """The partner's channel manager while an active member, else every active channel
    manager (else the admins)."""
    return partner_managers(partner=registration.partner)


def vendor_admins_of(tenant_id: int) -> list[User]:
    return [
        m.user
        for m in Membership.objects.for_tenant(tenant_id)
        .filter(is_active=True, role=Role.VENDOR_ADMIN)
        .select_related("user")
    ]


def tell_vendor(
    registration: DealRegistration, *, verb: str, message: str, recipients: list[User]
) -> None:
    notification_create(
        tenant=registration.tenant,
        recipients=recipients,
        verb=verb,
        message=message,
        url=registration_url(registration, "vendor"),
    )

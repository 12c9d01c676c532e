"""The vendor's side of a registration: approve, reject with a reason, ask for more
information, mark as a duplicate, bulk-approve the clean ones, revert a decision (vendor
admins), and decide extension requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.errors import Conflict, NotFound, ValidationFailed
from accounts.models import Membership, Tenant
from accounts.permissions import require_vendor, require_vendor_admin
from accounts.services.events import event_record
from deals.models import DealRegistration, Extension, RejectionReason
from deals.services.blocking import (
    ApprovalBlocked,
    approve_alongside,
    lock_with_linked,
    override_reason_clean,
    protection_blockers,
)
from deals.services.configuration import registration_settings_for
from deals.services.protection import approve_locked, claims_release
from deals.services.registrations import registration_lock
from deals.services.timeline import tell_partner, timeline_record

MESSAGE_MAX = 2000


def _message(value: str, *, field: str = "message", required: bool = False) -> str:
    text = (value or "").strip() if isinstance(value, str) else None
    if text is None or len(text) > MESSAGE_MAX or (required and not text):
        raise ValidationFailed(
            "Write a message for the partner." if required else "The message is too long.",
            fields={field: [f"{'1' if required else '0'} to {MESSAGE_MAX} characters."]},
        )
    return text


def _refuse_unless_in_review(registration: DealRegistration, action: str) -> None:
    if registration.status != DealRegistration.Status.IN_REVIEW:
        raise Conflict(
            f"Only a registration in review can be {action}; this one is "
            f"{registration.get_status_display().lower()}."
        )


@transaction.atomic
def registration_approve(
    *,
    tenant: Tenant,
    actor: Membership,
    registration_id: int,
    note: str = "",
    override_reason: str = "",
) -> DealRegistration:
    """Approve and protect. Refused (ApprovalBlocked) while another partner's approved
    registration protects the customer on a shared product line, unless a vendor role
    approves it anyway with an `override_reason` (deals/services/blocking.py). A reason
    given when nothing blocks is not recorded: the approval is a plain one."""
    require_vendor(actor)
    note = _message(note, field="note")
    override_reason = override_reason_clean(override_reason)
    registration = registration_lock(tenant=tenant, actor=actor, registration_id=registration_id)
    _refuse_unless_in_review(registration, "approved")
    lock_with_linked(registration)
    blockers = protection_blockers(registration)
    if not blockers:
        return approve_locked(registration, actor=actor.user, note=note, auto=False)
    if not override_reason:
        raise ApprovalBlocked(blockers)
    return approve_alongside(
        registration,
        actor=actor.user,
        note=note,
        override_reason=override_reason,
        blockers=blockers,
    )


@transaction.atomic
def registration_reject(
    *, tenant: Tenant, actor: Membership, registration_id: int, reason_code: str, message: str = ""
) -> DealRegistration:
    require_vendor(actor)
    message = _message(message)
    reason = (
        RejectionReason.objects.for_tenant(tenant)
        .filter(code=reason_code if isinstance(reason_code, str) else "", is_active=True)
        .first()
    )
    if reason is None:
        raise ValidationFailed(
            "Choose one of the rejection reasons.", fields={"reason_code": ["Unknown reason."]}
        )
    registration = registration_lock(tenant=tenant, actor=actor, registration_id=registration_id)
    _refuse_unless_in_review(registration, "rejected")
    registration.reject(by=actor.user, code=reason.code, message=message)
    return _decided(
        registration,
        actor=actor,
        verb="rejected",
        reason_code=reason.code,
        text=f"Your registration for {registration.customer_name} was rejected: "
        f"{reason.label}." + (f" {message}" if message else ""),
        message=message,
    )


@transaction.atomic
def registration_request_info(
    *, tenant: Tenant, actor: Membership, registration_id: int, message: str
) -> DealRegistration:
    require_vendor(actor)
    message = _message(message, required=True)
    registration = registration_lock(tenant=tenant, actor=actor, registration_id=registration_id)
    _refuse_unless_in_review(registration, "sent back for information")
    registration.request_info(by=actor.user, message=message)
    return _decided(
        registration,
        actor=actor,
        verb="info_requested",
        reason_code="info_requested",
        text=f"The vendor needs more information on your registration for "
        f"{registration.customer_name}: {message}",
        message=message,
    )


@transaction.atomic
def registration_mark_duplicate(
    *,
    tenant: Tenant,
    actor: Membership,
    registration_id: int,
    original_id: int,
    message: str = "",
) -> DealRegistration:
    """Reject as a duplicate of another registration of the same tenant."""
    require_vendor(actor)
    message = _message(message)
    original = (
        DealRegistration.objects.for_tenant(tenant)
        .filter(pk=original_id)
        .exclude(pk=registration_id)
        .first()
        if isinstance(original_id, int) and not isinstance(original_id, bool)
        else None
    )
    if original is None:
        raise ValidationFailed(
            "Name the registration this one duplicates.", fields={"original_id": ["Not found."]}
        )
    registration = registration_lock(tenant=tenant, actor=actor, registration_id=registration_id)
    _refuse_unless_in_review(registration, "marked as a duplicate")
    registration.mark_duplicate(by=actor.user, original=original, message=message)
    first = original.first_registered_at.date().isoformat()
    return _decided(
        registration,
        actor=actor,
        verb="marked_duplicate",
        reason_code="duplicate",
        text=f"Your registration for {registration.customer_name} was rejected as a duplicate "
        f"of a registration first made on {first}." + (f" {message}" if message else ""),
        message=message,
    )


def _decided(
    registration: DealRegistration,
    *,
    actor: Membership,
    verb: str,
    reason_code: str,
    text: str,
    message: str,
) -> DealRegistration:
    from_status = DealRegistration.Status.IN_REVIEW
    registration.updated_at = timezone.now()
    registration.save()
    timeline_record(
        registration,
        verb=verb,
        actor=actor.user,
        from_status=from_status,
        reason_code=reason_code,
        message=message,
    )
    event_record(
        tenant=registration.tenant,
        name=f"registration.{verb}",
        subject=registration,
        payload={"partner_id": registration.partner_id, "reason_code": reason_code},
    )
    tell_partner(registration, verb=f"registration_{verb}", message=text)
    return registration


@dataclass(frozen=True)
class BulkApproval:
    approved: list[int]
    skipped: dict[int, str]


def registration_bulk_approve(
    *, tenant: Tenant, actor: Membership, registration_ids: list[int], note: str = ""
) -> BulkApproval:
    """Approve each registration in review that has no findings, one transaction each; the
    others are skipped with the reason. One blocked by another partner's protection (even
    through a later registration's finding) is never approved here: the reason names the
    blocking finding."""
    require_vendor(actor)
    approved: list[int] = []
    skipped: dict[int, str] = {}
    for registration_id in dict.fromkeys(registration_ids):
        with transaction.atomic():
            candidate = (
                DealRegistration.objects.visible_to(actor).filter(pk=registration_id).first()
            )
            if candidate is None:
                skipped[registration_id] = "Not found."
                continue
            blockers = protection_blockers(candidate)
            if blockers:
                skipped[registration_id] = ApprovalBlocked(blockers).message
                continue
            if candidate.findings.exists():
                skipped[registration_id] = "Has screening findings: decide it on its own page."
                continue
            try:
                registration_approve(
                    tenant=tenant, actor=actor, registration_id=registration_id, note=note
                )
            except (Conflict, NotFound, ValidationFailed) as error:
                skipped[registration_id] = error.message
                continue
            approved.append(registration_id)
    return BulkApproval(approved, skipped)


@transaction.atomic
def registration_revert(
    *, tenant: Tenant, actor: Membership, registration_id: int, note: str
) -> DealRegistration:
    """A vendor admin takes back an approval or a rejection: the registration is in review
    again, its protection released. Its opportunity, if any, stays and is reused."""
    require_vendor_admin(actor)
    note = _message(note, field="note", required=True)
    registration = registration_lock(tenant=tenant, actor=actor, registration_id=registration_id)
    if registration.status not in (
        DealRegistration.Status.APPROVED,
        DealRegistration.Status.REJECTED,
    ):
        raise Conflict(
            "Only an approval or a rejection can be reverted; this registration is "
            f"{registration.get_status_display().lower()}."
        )
    from_status = registration.status
    registration.revert()
    claims_release(registration)
    registration.updated_at = timezone.now()
    registration.save()
    timeline_record(
        registration,
        verb="reverted",
        actor=actor.user,
        from_status=from_status,
        message=note,
    )
    tell_partner(
        registration,
        verb="registration_reverted",
        message=f"The vendor reopened the review of your registration for "
        f"{registration.customer_name}: {note}",
    )
    return registration


# --- Extensions -------------------------------------------------------------------------------


def _lock_extension(tenant: Tenant, actor: Membership, registration_id: int, extension_id: int):  # noqa: ANN202
    extension = (
        Extension.objects.visible_to(actor)
        .select_for_update(of=("self",), no_key=True)
        .filter(tenant=tenant, pk=extension_id, registration_id=registration_id)
        .first()
    )
    if extension is None:
        raise NotFound
    if extension.status != Extension.Status.REQUESTED:
        raise Conflict(f"This extension request is already {extension.status}.")
    return extension


@transaction.atomic
def extension_grant(
    *, tenant: Tenant, actor: Membership, registration_id: int, extension_id: int
) -> Extension:
    """Add the tenant's extension days to the protection (up to the maximum count)."""
    require_vendor(actor)
    registration = registration_lock(tenant=tenant, actor=actor, registration_id=registration_id)
    extension = _lock_extension(tenant, actor, registration_id, extension_id)
    settings = registration_settings_for(tenant)
    if registration.status != DealRegistration.Status.APPROVED:
        raise Conflict("Only a protected (approved) registration can be extended.")
    if registration.extensions_granted >= settings.max_extensions:
        raise Conflict(f"The most extensions allowed ({settings.max_extensions}) are granted.")
    extension.grant(by=actor.user, days=settings.extension_days)
    extension.save()
    registration.protected_until += timedelta(days=settings.extension_days)  # type: ignore[operator,assignment]
    registration.extensions_granted += 1
    registration.updated_at = timezone.now()
    registration.save()
    until = registration.protected_until.isoformat()  # type: ignore[union-attr]
    timeline_record(
        registration,
        verb="extension_granted",
        actor=actor.user,
        from_status=registration.status,
        message=f"Protected until {until}.",
    )
    tell_partner(
        registration,
        verb="extension_granted",
        message=f"Extension granted: {registration.customer_name} is protected until {until}.",
    )
    return extension


@transaction.atomic
def extension_decline(
    *, tenant: Tenant, actor: Membership, registration_id: int, extension_id: int, reason: str = ""
) -> Extension:
    require_vendor(actor)
    reason = _message(reason, field="reason")[:500]
    registration = registration_lock(tenant=tenant, actor=actor, registration_id=registration_id)
    extension = _lock_extension(tenant, actor, registration_id, extension_id)
    extension.decline(by=actor.user, reason=reason)
    extension.save()
    timeline_record(
        registration,
        verb="extension_declined",
        actor=actor.user,
        from_status=registration.status,
        message=reason,
    )
    tell_partner(
        registration,
        verb="extension_declined",
        message=f"Extension declined for {registration.customer_name}; protection ends "
        f"{registration.protected_until}." + (f" {reason}" if reason else ""),
    )
    return extension

"""Protection: approval claims customer × product line and opens the opportunity;
extensions, expiry, and the release of the scope when protection ends.

`approve_locked` is the one way into `approved` (manual, automatic, or after a revert).
It first writes the ProtectionClaim rows, whose partial unique constraint lets exactly one
registration hold a key × product line; `claims_take` turns a violation into
ProtectionTaken (409) before anything else has changed.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.errors import Conflict
from accounts.models import Membership, User
from accounts.services.events import event_record
from deals.models import DealRegistration, OverrideReason, ProtectionClaim
from deals.services.keys import registration_keys
from deals.services.timeline import tell_partner, timeline_record
from pipeline.models import Opportunity
from pipeline.services.opportunities import opportunity_create

DEFAULT_PROTECTION_DAYS = 90


class ProtectionTaken(Conflict):
    code = "protection_taken"


def protection_end(registration: DealRegistration, *, start: date | None = None) -> date:
    days = registration.partner.tier.protection_days or DEFAULT_PROTECTION_DAYS
    return (start or timezone.localdate()) + timedelta(days=days)


def claims_take(registration: DealRegistration, *, share_with: Collection[int] = ()) -> None:
    """Claim every exact key × product line; ProtectionTaken if another registration holds
    one. Those held by the `share_with` registrations (an approval anyway) stay theirs."""
    keys = registration_keys(registration).exact
    shared = (
        set(
            ProtectionClaim.objects.filter(
                registration_id__in=share_with, is_active=True
            ).values_list("key", "product_line_id")
        )
        if share_with
        else set()
    )
    try:
        with transaction.atomic():
            ProtectionClaim.objects.bulk_create(
                ProtectionClaim(
                    tenant_id=registration.tenant_id,
                    registration=registration,
                    key=key,
                    product_line=line,
                )
                for key in keys
                for line in registration.product_lines.all()
                if (key, line.pk) not in shared
            )
    except IntegrityError as error:
        raise ProtectionTaken(
            "Another registration already holds protection for this customer and product "
            "line. Decide that one first (reject, or wait for it to end)."
        ) from error


def claims_release(registration: DealRegistration) -> int:
    return ProtectionClaim.objects.filter(registration=registration, is_active=True).update(
        is_active=False
    )


def _submitter_membership(registration: DealRegistration) -> Membership:
    membership = (
        Membership.objects.for_tenant(registration.tenant_id)
        .filter(user_id=registration.owner_id)
        .select_related("user", "tenant")
        .first()
    )
    if membership is None:  # the submitter left the tenant: the deal is still theirs
        raise Conflict("The submitter is no longer a member of this tenant.")
    return membership


def _open_opportunity(registration: DealRegistration) -> Opportunity:
    lines = ", ".join(line.name for line in registration.product_lines.all())
    name = f"{registration.customer_name} — {lines}" if lines else registration.customer_name
    return opportunity_create(
        tenant=registration.tenant,
        actor=_submitter_membership(registration),
        customer=registration.customer,  # type: ignore[arg-type]
        name=name[:200],
        owner=registration.owner,
        partner_id=registration.partner_id,
        currency=registration.currency,
        amount=registration.amount,
        expected_close_date=registration.expected_close_date,
        budget_confirmed=registration.budget_confirmed,
        decision_maker=registration.decision_maker,
        need=registration.need,
        timeline=registration.timeline,
    )


def approve_locked(
    registration: DealRegistration,
    *,
    actor: User | None,
    note: str,
    auto: bool,
    override_reason: str = "",
    share_with: Collection[int] = (),
) -> DealRegistration:
    """Approve a locked registration: claim its scope, protect it, open (or keep) its
    opportunity in the first stage, tell the partner. ProtectionTaken, with nothing
    changed, when another registration holds the scope. With an `override_reason` it is
    approved alongside the `share_with` registrations (deals/services/blocking.py)."""
    from_status = registration.status
    claims_take(registration, share_with=share_with)
    alongside = OverrideReason(override_reason).label.lower() if override_reason else ""
    decision = (
        f"Approved alongside an earlier registration: {alongside}." + (f" {note}" if note else "")
        if alongside
        else note
    )
    registration.approve(
        by=actor,
        note=decision,
        protected_until=protection_end(registration),
        auto=auto,
        override_reason=override_reason,
    )
    if registration.opportunity_id is None:
        registration.opportunity = _open_opportunity(registration)
    registration.updated_at = timezone.now()
    registration.save()
    until = registration.protected_until.isoformat()  # type: ignore[union-attr]
    timeline_record(
        registration,
        verb="auto_approved" if auto else ("approved_alongside" if alongside else "approved"),
        actor=actor,
        from_status=from_status,
        reason_code=override_reason or "approved",
        message=decision
        or ("Approved automatically: screening found no conflict." if auto else ""),
    )
    event_record(
        tenant=registration.tenant,
        name="registration.approved",
        subject=registration,
        payload={
            "partner_id": registration.partner_id,
            "opportunity_id": registration.opportunity_id,
            "protected_until": until,
            "auto": auto,
            "override_reason": override_reason,
        },
    )
    tell_partner(
        registration,
        verb="registration_approved",
        message=f"Your registration for {registration.customer_name} is approved"
        + (f" alongside an earlier registration ({alongside})" if alongside else "")
        + f" and protected until {until}."
        + (f" Note: {note}" if note else ""),
    )
    return registration

"""Writes of the partners app: tiers, partner organizations, invitations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed

from accounts.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from accounts.models import PARTNER_ROLES, VENDOR_ROLES, Membership, Role, Tenant, User
from accounts.permissions import require_role, require_vendor_admin
from accounts.queue import enqueue_on_commit
from accounts.services.audit import audit_record, snapshot
from accounts.services.memberships import role_check
from accounts.services.notifications import notification_create
from accounts.tenancy import activate, tenant_context
from partners.models import (
    LEAD_CAPACITY_DEFAULT,
    LEAD_CAPACITY_MAX,
    Invitation,
    PartnerOrganization,
    PartnerTier,
)
from partners.regions import region_for_country

TIER_FIELDS = [
    "name",
    "rank",
    "auto_approval_limit",
    "protection_days",
    "lead_capacity",
    "lead_acceptance_hours",
]
LIMIT_MAX = Decimal("999999999999.99")
PROTECTION_DAYS = (1, 730)
LEAD_ACCEPTANCE_HOURS = (1, 720)
# A tier's whole-number rules: (lowest, highest, what the error says).
TIER_NUMBERS = {
    "protection_days": (*PROTECTION_DAYS, "A whole number of days from {} to {}."),
    "lead_capacity": (0, LEAD_CAPACITY_MAX, "A whole number of leads from {} to {}."),
    "lead_acceptance_hours": (*LEAD_ACCEPTANCE_HOURS, "A whole number of hours from {} to {}."),
}
PARTNER_FIELDS = ["name", "tier", "country", "region", "status", "channel_manager"]
INVITATION_SALT = "prm.invitation"


# --- Tiers ----------------------------------------------------------------------------------


@transaction.atomic
def tier_create(
    *,
    tenant: Tenant,
    actor: Membership,
    name: str,
    rank: int,
    auto_approval_limit: Decimal | None = None,
    protection_days: int = 90,
    lead_capacity: int = LEAD_CAPACITY_DEFAULT,
    lead_acceptance_hours: int = 48,
) -> PartnerTier:
    require_vendor_admin(actor)
    rules = tier_rules_clean(
        {
            "auto_approval_limit": auto_approval_limit,
            "protection_days": protection_days,
            "lead_capacity": lead_capacity,
            "lead_acceptance_hours": lead_acceptance_hours,
        }
    )
    _ensure_unique_name(PartnerTier, tenant=tenant, name=name, label="tier")
    tier = PartnerTier.objects.create(tenant=tenant, name=name.strip(), rank=rank, **rules)
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="tier_created",
        subject=tier,
        after=snapshot(tier, TIER_FIELDS),
    )
    return tier


@transaction.atomic
def tier_update(*, tenant: Tenant, actor: Membership, tier_id: int, **changes: Any) -> PartnerTier:
    require_vendor_admin(actor)
    changes.update(tier_rules_clean(changes))
    tier = _lock(PartnerTier, tenant=tenant, pk=tier_id)
    if "name" in changes:
        _ensure_unique_name(
            PartnerTier, tenant=tenant, name=changes["name"], label="tier", exclude_id=tier.pk
        )
    before = snapshot(tier, TIER_FIELDS)
    for field in set(changes) & set(TIER_FIELDS):
        setattr(tier, field, changes[field].strip() if field == "name" else changes[field])
    tier.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="tier_updated",
        subject=tier,
        before=before,
        after=snapshot(tier, TIER_FIELDS),
    )
    return tier


def tier_rules_clean(changes: dict[str, Any]) -> dict[str, Any]:
    """The rules of a tier among `changes`, checked: the auto-approval limit is a
    non-negative amount or None (never auto-approve), protection lasts 1 to 730 days, lead
    capacity 0 to 1000, the lead acceptance window 1 to 720 business hours."""
    rules: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if "auto_approval_limit" in changes:
        limit = changes["auto_approval_limit"]
        try:
            rules["auto_approval_limit"] = _limit_clean(limit)
        except ValueError:
            errors["auto_approval_limit"] = ["Empty, or an amount from 0 to 999,999,999,999.99."]
    for name, (low, high, message) in TIER_NUMBERS.items():
        if name not in changes:
            continue
        number = changes[name]
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            errors[name] = [message.format(low, high)]
        else:
            rules[name] = number
    if errors:
        raise ValidationFailed("Check the tier's rules.", fields=errors)
    return rules


def _limit_clean(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool | float) or not isinstance(value, Decimal | int | str):
        raise ValueError(value)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError(value) from error
    if not amount.is_finite() or not 0 <= amount <= LIMIT_MAX or amount != round(amount, 2):
        raise ValueError(value)
    return amount.quantize(Decimal("0.01"))


# --- Partner organizations ------------------------------------------------------------------


def _region_of(country: str) -> str:
    region = region_for_country(country)
    if region is None:
        raise ValidationFailed("Unknown country.", fields={"country": ["Choose a country."]})
    return region


@transaction.atomic
def partner_create(
    *,
    tenant: Tenant,
    actor: Membership,
    name: str,
    tier: PartnerTier,
    country: str,
    region: str | None = None,
    channel_manager: User | None = None,
) -> PartnerOrganization:
    """A new partner; with no region, the country's (partners/regions.py)."""
    require_vendor_admin(actor)
    _ensure_in_tenant(tenant, tier=tier, channel_manager=channel_manager)
    _ensure_unique_name(PartnerOrganization, tenant=tenant, name=name, label="partner")
    partner = PartnerOrganization.objects.create(
        tenant=tenant,
        name=name.strip(),
        tier=tier,
        country=country,
        region=region or _region_of(country),
        channel_manager=channel_manager,
    )
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="partner_created",
        subject=partner,
        after=snapshot(partner, PARTNER_FIELDS),
    )
    return partner


@transaction.atomic
def partner_update(
    *, tenant: Tenant, actor: Membership, partner_id: int, **changes: Any
) -> PartnerOrganization:
    require_vendor_admin(actor)
    partner = _lock(PartnerOrganization, tenant=tenant, pk=partner_id)
    _ensure_in_tenant(
        tenant, tier=changes.get("tier"), channel_manager=changes.get("channel_manager")
    )
    if "name" in changes:
        _ensure_unique_name(
            PartnerOrganization,
            tenant=tenant,
            name=changes["name"],
            label="partner",
            exclude_id=partner.pk,
        )
        changes["name"] = changes["name"].strip()
    if "status" in changes:
        raise ValidationFailed(
            "Use suspend or reactivate to change a partner's status.",
            fields={"status": ["Status changes only by suspend/reactivate."]},
        )
    # No region (or an emptied one) with a new country: the region follows the country.
    if ("country" in changes and not changes.get("region")) or changes.get("region") == "":
        changes["region"] = _region_of(changes.get("country", partner.country))
    before = snapshot(partner, PARTNER_FIELDS)
    for field in set(changes) & set(PARTNER_FIELDS):
        setattr(partner, field, changes[field])
    partner.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="partner_updated",
        subject=partner,
        before=before,
        after=snapshot(partner, PARTNER_FIELDS),
    )
    return partner


@transaction.atomic
def partner_set_status(
    *, tenant: Tenant, actor: Membership, partner_id: int, suspended: bool
) -> PartnerOrganization:
    """Suspend (its people lose access to this tenant) or reactivate a partner."""
    require_vendor_admin(actor)
    partner = _lock(PartnerOrganization, tenant=tenant, pk=partner_id)
    change = partner.suspend if suspended else partner.reactivate
    if not can_proceed(change):
        raise Conflict(f"The partner is already {partner.get_status_display().lower()}.")
    before = snapshot(partner, ["status"])
    change()
    partner.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="partner_suspended" if suspended else "partner_reactivated",
        subject=partner,
        before=before,
        after=snapshot(partner, ["status"]),
    )
    return partner


# --- Invitations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationLink:
    invitation: Invitation
    token: str

    @property
    def url(self) -> str:
        return settings.SITE_URL + reverse("invitation_accept", args=[self.token])


def _allowed_invite(actor: Membership, role: str, partner: PartnerOrganization | None) -> None:
    if actor.role == Role.VENDOR_ADMIN:
        return
    if (
        actor.role == Role.PARTNER_ADMIN
        and role in PARTNER_ROLES
        and partner is not None
        and partner.pk == actor.partner_id
    ):
        return
    raise PermissionDenied("Your role does not allow inviting people in that role.")


@transaction.atomic
def invitation_create(
    *,
    tenant: Tenant,
    actor: Membership,
    email: str,
    role: str,
    partner: PartnerOrganization | None = None,
) -> InvitationLink:
    """Invite someone by e-mail; the worker sends the signed, expiring, single-use link."""
    email = email.strip().lower()
    role_check(role=role, has_partner=partner is not None)
    _allowed_invite(actor, role, partner)
    if partner is not None:
        _ensure_in_tenant(tenant, partner=partner)
        if not partner.is_active:
            raise Conflict("The partner organization is suspended.")
    if Membership.objects.for_tenant(tenant).filter(user__email__iexact=email).exists():
        raise Conflict(
            "This person is already a member of this tenant.",
            fields={"email": ["Already a member."]},
        )
    Invitation.objects.for_tenant(tenant).filter(
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__lte=timezone.now(),
    ).update(revoked_at=timezone.now())
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                tenant=tenant,
                email=email,
                role=role,
                partner=partner,
                invited_by=actor.user,
                nonce=secrets.token_hex(16),
                expires_at=timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
            )
    except IntegrityError as error:
        raise Conflict(
            "An invitation to this address is already pending.",
            fields={"email": ["An invitation is already pending."]},
        ) from error
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="invitation_created",
        subject=invitation,
        after={"email": email, "role": role, "partner_id": partner.pk if partner else None},
    )
    enqueue_on_commit("partners.tasks.invitation_send", tenant.pk, invitation.pk)
    return InvitationLink(invitation, invitation_token(invitation))


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(
        {"t": invitation.tenant_id, "i": invitation.pk, "n": invitation.nonce},
        salt=INVITATION_SALT,
        compress=True,
    )


@transaction.atomic
def invitation_resend(*, tenant: Tenant, actor: Membership, invitation_id: int) -> InvitationLink:
    """Send a fresh link (the old one stops working) with a new expiry."""
    require_role(actor, Role.VENDOR_ADMIN, Role.PARTNER_ADMIN)
    invitation = (
        Invitation.objects.visible_to(actor).select_for_update().filter(pk=invitation_id).first()
    )
    if invitation is None:
        raise NotFound
    if invitation.accepted_at or invitation.revoked_at:
        raise Conflict(f"The invitation is already {invitation.status}.")
    invitation.nonce = secrets.token_hex(16)
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    invitation.save(update_fields=["nonce", "expires_at"])
    audit_record(tenant=tenant, actor=actor.user, verb="invitation_resent", subject=invitation)
    enqueue_on_commit("partners.tasks.invitation_send", tenant.pk, invitation.pk)
    return InvitationLink(invitation, invitation_token(invitation))


def invitation_send(*, tenant_id: int, invitation_id: int) -> bool:
    """E-mail a pending invitation's current link (from the worker), once per link.

    The row lock and `last_sent_at` make a task that runs twice send one e-mail; a resend
    issues a new link (new nonce and expiry), which is e-mailed again.
    """
    with tenant_context(tenant_id):
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("tenant", "partner", "invited_by")
            .filter(pk=invitation_id)
            .first()
        )
        if invitation is None or invitation.status != "pending":
            return False
        issued_at = invitation.expires_at - timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
        if invitation.last_sent_at is not None and invitation.last_sent_at >= issued_at:
            return False
        link = InvitationLink(invitation, invitation_token(invitation))
        context = {
            "invitation": invitation,
            "url": link.url,
            "max_age_days": settings.INVITATION_MAX_AGE_DAYS,
        }
        send_mail(
            subject=f"You are invited to {invitation.tenant.name} on PRM",
            message=render_to_string("email/invitation.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
        invitation.last_sent_at = timezone.now()
        invitation.save(update_fields=["last_sent_at"])
        return True


def invitation_send_pending(*, tenant_id: int, older_than_seconds: int = 120) -> list[int]:
    """Pending invitations never e-mailed (their task was lost): for the beat sweep."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    with tenant_context(tenant_id):
        return list(
            Invitation.objects.filter(
                last_sent_at__isnull=True,
                accepted_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=timezone.now(),
                created_at__lt=cutoff,
            )
            .order_by("id")
            .values_list("pk", flat=True)[:500]
        )


@transaction.atomic
def invitation_revoke(*, tenant: Tenant, actor: Membership, invitation_id: int) -> Invitation:
    require_role(actor, Role.VENDOR_ADMIN, Role.PARTNER_ADMIN)
    invitation = (
        Invitation.objects.visible_to(actor).select_for_update().filter(pk=invitation_id).first()
    )
    if invitation is None:
        raise NotFound
    if invitation.status != "pending":
        raise Conflict(f"The invitation is already {invitation.status}.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(tenant=tenant, actor=actor.user, verb="invitation_revoked", subject=invitation)
    return invitation


class InvitationInvalid(ValidationFailed):
    code = "invitation_invalid"


UNUSABLE_INVITATION = {
    "accepted": "This invitation has already been used.",
    "revoked": "This invitation has been withdrawn.",
    "expired": "This invitation has expired. Ask for a new one.",
}


def invitation_from_token(token: str) -> Invitation:
    """The pending invitation a link names; the transaction is pinned to its tenant.

    Forged, tampered, expired, revoked and used links all raise InvitationInvalid.
    """
    max_age = timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
        tenant_id, invitation_id, nonce = int(data["t"]), int(data["i"]), str(data["n"])
    except signing.SignatureExpired as error:
        raise InvitationInvalid("This invitation has expired. Ask for a new one.") from error
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise InvitationInvalid("This invitation link is not valid.") from error
    activate(tenant_id=tenant_id)
    invitation = (
        Invitation.objects.select_related("tenant", "partner")
        .filter(pk=invitation_id, tenant_id=tenant_id)
        .first()
    )
    if invitation is None or not secrets.compare_digest(invitation.nonce, nonce):
        raise InvitationInvalid("This invitation link is not valid.")
    if invitation.status != "pending":
        raise InvitationInvalid(UNUSABLE_INVITATION[invitation.status])
    if invitation.partner and not invitation.partner.is_active:
        raise InvitationInvalid("The partner organization of this invitation is suspended.")
    return invitation


@transaction.atomic
def invitation_accept(
    *, token: str, full_name: str, password: str, existing_user: User | None = None
) -> Membership:
    """Create (or reuse) the user, their membership, and close the invitation, once."""
    invitation = invitation_from_token(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != "pending":
        raise InvitationInvalid(UNUSABLE_INVITATION[invitation.status])
    user = existing_user
    if user is not None and user.email.lower() != invitation.email.lower():
        raise PermissionDenied("This invitation was sent to another e-mail address.")
    if user is None and User.objects.filter(email__iexact=invitation.email).exists():
        raise Conflict(
            "An account with this e-mail address exists. Log in, then open the "
            "invitation link again to accept it."
        )
    if user is None:
        user = User(email=invitation.email, full_name=full_name.strip())
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationFailed(
                "Choose a stronger password.", fields={"password": list(error.messages)}
            ) from error
        user.set_password(password)
        user.save()
    membership = Membership.objects.create(
        tenant=invitation.tenant, user=user, role=invitation.role, partner=invitation.partner
    )
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        tenant=invitation.tenant, actor=user, verb="invitation_accepted", subject=invitation
    )
    if invitation.invited_by is not None:
        notification_create(
            tenant=invitation.tenant,
            recipients=[invitation.invited_by],
            verb="invitation_accepted",
            message=f"{user.display_name} accepted your invitation.",
            email=False,
        )
    return membership


# --- Shared checks ----------------------------------------------------------------------------


def _lock(model: Any, *, tenant: Tenant, pk: int) -> Any:
    obj = model.objects.for_tenant(tenant).select_for_update().filter(pk=pk).first()
    if obj is None:
        raise NotFound
    return obj


def _ensure_unique_name(
    model: Any, *, tenant: Tenant, name: str, label: str, exclude_id: int | None = None
) -> None:
    existing = (
        model.objects.for_tenant(tenant)
        .annotate(lname=Lower("name"))
        .filter(lname=name.strip().lower())
    )
    if exclude_id is not None:
        existing = existing.exclude(pk=exclude_id)
    if existing.exists():
        raise ValidationFailed(
            f"A {label} with this name already exists.",
            fields={"name": [f"A {label} with this name already exists."]},
        )


def _ensure_in_tenant(tenant: Tenant, **objects: Any) -> None:
    for name, obj in objects.items():
        if obj is None:
            continue
        owner = obj.tenant_id if hasattr(obj, "tenant_id") else None
        if name == "channel_manager":
            ok = (
                Membership.objects.for_tenant(tenant)
                .filter(user=obj, role__in=VENDOR_ROLES, is_active=True)
                .exists()
            )
        else:
            ok = owner == tenant.pk
        if not ok:
            raise ValidationFailed(
                f"Unknown {name.replace('_', ' ')}.", fields={name: ["Not found in this tenant."]}
            )

"""Which membership a request acts as, and changes to people's memberships."""

from __future__ import annotations

from django.db import transaction

from accounts.errors import NotFound, PermissionDenied, ValidationFailed
from accounts.models import PARTNER_ROLES, VENDOR_ROLES, Membership, Role, Tenant, User
from accounts.services.audit import audit_record, snapshot
from accounts.tenancy import activate

ACTIVE_TENANT_SESSION_KEY = "active_tenant_id"


def role_check(*, role: str, has_partner: bool) -> None:
    """A role must exist; partner roles need a partner organization, vendor roles none."""
    if role not in Role.values:
        raise ValidationFailed("Unknown role.", fields={"role": ["Choose a valid role."]})
    if role in PARTNER_ROLES and not has_partner:
        raise ValidationFailed(
            "Partner roles need a partner organization.",
            fields={"partner_id": ["Required for partner roles."]},
        )
    if role in VENDOR_ROLES and has_partner:
        raise ValidationFailed(
            "Vendor roles belong to no partner organization.",
            fields={"partner_id": ["Must be empty for vendor roles."]},
        )


def memberships_of(user: User) -> list[Membership]:
    """Every active membership of a user, across tenants (RLS lets a user see their own)."""
    return list(
        Membership.objects.filter(user=user, is_active=True)
        .select_related("tenant")
        .order_by("tenant__name", "tenant_id")
    )


def membership_resolve(*, user: User, preferred_tenant_id: int | None) -> Membership | None:
    """The membership a request acts as, with the transaction pinned to its tenant.

    The preferred tenant first, then the others; a membership of a suspended partner
    organization is skipped ("people of a suspended partner cannot use that tenant").
    """
    activate(tenant_id=None, user_id=user.pk)
    candidates = sorted(memberships_of(user), key=lambda m: m.tenant_id != preferred_tenant_id)
    for membership in candidates:
        activate(tenant_id=membership.tenant_id, user_id=user.pk)
        if (
            membership.partner_id is None
            or Membership.objects.filter(pk=membership.pk, partner__status="active").exists()
        ):
            return membership
    activate(tenant_id=None, user_id=user.pk)
    return None


def membership_usable(*, user: User, tenant_id: int) -> Membership:
    """The user's membership in a tenant they want to switch to, or NotFound."""
    membership = next((m for m in memberships_of(user) if m.tenant_id == tenant_id), None)
    if membership is None:
        raise NotFound("You are not a member of that tenant.")
    activate(tenant_id=tenant_id, user_id=user.pk)
    if (
        membership.partner_id
        and not Membership.objects.filter(pk=membership.pk, partner__status="active").exists()
    ):
        raise PermissionDenied("Your partner organization is suspended in that tenant.")
    return membership


@transaction.atomic
def membership_set_active(
    *, tenant: Tenant, actor: Membership, membership_id: int, active: bool
) -> Membership:
    """Deactivate or reactivate a person. Partner admins manage their own organization only."""
    if actor.role not in (Role.VENDOR_ADMIN, Role.PARTNER_ADMIN):
        raise PermissionDenied("Your role does not allow managing people.")
    membership = (
        Membership.objects.visible_to(actor).select_for_update().filter(pk=membership_id).first()
    )
    if membership is None:
        raise NotFound
    if membership.pk == actor.pk:
        raise PermissionDenied("You cannot deactivate yourself.")
    before = snapshot(membership, ["is_active"])
    membership.is_active = active
    membership.save(update_fields=["is_active"])
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="activated" if active else "deactivated",
        subject=membership,
        before=before,
        after=snapshot(membership, ["is_active"]),
    )
    return membership

"""Reads of the partners app: portal home figures, lists, and the scoped choice lists."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.errors import NotFound
from accounts.models import VENDOR_ROLES, Membership, Notification, Role, Tenant, User
from partners.models import Invitation, PartnerOrganization, PartnerTier

HOME_LIST_SIZE = 5


# --- Choice lists (every form and filter is scoped to the tenant) ----------------------------


def tier_choices(*, tenant: Tenant) -> QuerySet[PartnerTier]:
    return PartnerTier.objects.for_tenant(tenant).order_by("-rank", "name")


def partner_choices(*, tenant: Tenant, active_only: bool = False) -> QuerySet[PartnerOrganization]:
    partners = PartnerOrganization.objects.for_tenant(tenant).order_by("name")
    if active_only:
        partners = partners.filter(status=PartnerOrganization.Status.ACTIVE)
    return partners


def partner_managers(*, partner: PartnerOrganization) -> list[User]:
    """Who looks after the partner for the vendor: its channel manager while their vendor
    membership of the tenant is active; once they leave or are deactivated (or with none
    assigned), every active channel manager of the tenant; with none, the vendor admins."""
    vendor = Membership.objects.for_tenant(partner.tenant_id).filter(
        is_active=True, user__is_active=True, role__in=VENDOR_ROLES
    )
    if (
        partner.channel_manager_id is not None
        and vendor.filter(user_id=partner.channel_manager_id).exists()
    ):
        return [partner.channel_manager]  # type: ignore[list-item]
    for role in (Role.CHANNEL_MANAGER, Role.VENDOR_ADMIN):
        people = [m.user for m in vendor.filter(role=role).select_related("user").order_by("id")]
        if people:
            return people
    return []


def channel_manager_choices(*, tenant: Tenant) -> QuerySet[User]:
    """Users with an active vendor-side membership of the tenant."""
    return (
        User.objects.filter(
            memberships__tenant=tenant,
            memberships__role__in=VENDOR_ROLES,
            memberships__is_active=True,
        )
        .order_by("full_name", "email")
        .distinct()
    )


# --- Lists -----------------------------------------------------------------------------------


def invitations_pending(invitations: QuerySet[Invitation]) -> QuerySet[Invitation]:
    return invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def invitations_with_status(invitations: QuerySet[Invitation], status: str) -> QuerySet[Invitation]:
    """Narrow to one `Invitation.status` value, computed in the database."""
    now = timezone.now()
    lookups = {
        "pending": Q(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now),
        "accepted": Q(accepted_at__isnull=False),
        "revoked": Q(accepted_at__isnull=True, revoked_at__isnull=False),
        "expired": Q(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now),
    }
    return invitations.filter(lookups[status])


def latest_notifications(
    *, tenant: Tenant, user: User, limit: int = HOME_LIST_SIZE
) -> list[Notification]:
    return list(
        Notification.objects.for_tenant(tenant)
        .filter(recipient=user)
        .order_by("-created_at", "-id")[:limit]
    )


# --- Portal homes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VendorHome:
    active_partners: int
    suspended_partners: int
    tiers: int
    people: int
    pending_invitations: int
    recent_partners: list[PartnerOrganization]
    invitations: list[Invitation]
    notifications: list[Notification]


def vendor_home(*, tenant: Tenant, user: User) -> VendorHome:
    partners = PartnerOrganization.objects.for_tenant(tenant)
    status = partners.aggregate(
        active=Count("pk", filter=Q(status=PartnerOrganization.Status.ACTIVE)),
        suspended=Count("pk", filter=Q(status=PartnerOrganization.Status.SUSPENDED)),
    )
    pending = invitations_pending(Invitation.objects.for_tenant(tenant))
    return VendorHome(
        active_partners=status["active"],
        suspended_partners=status["suspended"],
        tiers=PartnerTier.objects.for_tenant(tenant).count(),
        people=Membership.objects.for_tenant(tenant).filter(is_active=True).count(),
        pending_invitations=pending.count(),
        recent_partners=list(
            partners.select_related("tier").order_by("-created_at", "-id")[:HOME_LIST_SIZE]
        ),
        invitations=list(
            pending.select_related("partner").order_by("-created_at", "-id")[:HOME_LIST_SIZE]
        ),
        notifications=latest_notifications(tenant=tenant, user=user),
    )


@dataclass(frozen=True)
class PartnerHome:
    partner: PartnerOrganization
    people: list[Membership]
    invitations: list[Invitation]
    notifications: list[Notification]


def partner_home(
    *, tenant: Tenant, membership: Membership, include_invitations: bool
) -> PartnerHome:
    """The acting person's own organization, its active people and (for admins) invitations."""
    partner = (
        PartnerOrganization.objects.for_tenant(tenant)
        .select_related("tier", "channel_manager")
        .filter(pk=membership.partner_id or 0)
        .first()
    )
    if partner is None:
        raise NotFound("You belong to no partner organization in this tenant.")
    people = (
        Membership.objects.for_tenant(tenant)
        .filter(partner_id=partner.pk, is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    invitations: list[Invitation] = []
    if include_invitations:
        invitations = list(
            invitations_pending(
                Invitation.objects.for_tenant(tenant).filter(partner_id=partner.pk)
            ).order_by("-created_at", "-id")[:HOME_LIST_SIZE]
        )
    return PartnerHome(
        partner=partner,
        people=list(people),
        invitations=invitations,
        notifications=latest_notifications(tenant=tenant, user=membership.user),
    )


def partner_people(*, tenant: Tenant, partner: PartnerOrganization) -> QuerySet[Membership]:
    """Everyone of one partner organization (for the vendor's partner page)."""
    return (
        Membership.objects.for_tenant(tenant)
        .filter(partner_id=partner.pk)
        .select_related("user")
        .order_by("-is_active", "user__full_name", "user__email")
    )


def partner_invitations(*, tenant: Tenant, partner: PartnerOrganization) -> QuerySet[Invitation]:
    return (
        invitations_pending(Invitation.objects.for_tenant(tenant).filter(partner_id=partner.pk))
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def active_people_count() -> Coalesce:
    """Active people of each partner row, as a correlated subquery.

    Unlike a joined Count(), it is evaluated only for the rows a page shows, and the
    paginator's count() drops it, so a long partner list stays cheap.
    """
    people = (
        Membership.objects.filter(partner=OuterRef("pk"), is_active=True)
        .order_by()
        .values("partner")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(people), 0)

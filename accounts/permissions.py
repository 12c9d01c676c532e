"""Role checks shared by services, views and APIs."""

from __future__ import annotations

from accounts.errors import PermissionDenied
from accounts.models import PARTNER_ROLES, VENDOR_ROLES, Membership, Role


def require_role(membership: Membership, *roles: str) -> None:
    if membership.role not in roles:
        raise PermissionDenied("Your role does not allow this.")


def require_vendor(membership: Membership) -> None:
    require_role(membership, *VENDOR_ROLES)


def require_vendor_admin(membership: Membership) -> None:
    require_role(membership, Role.VENDOR_ADMIN)


def require_partner(membership: Membership) -> None:
    require_role(membership, *PARTNER_ROLES)

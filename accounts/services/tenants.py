"""Operator writes: new tenants, and people added to a tenant without an invitation.

Used by the `create_tenant`, `create_user` and `seed_demo` commands. `actor` is the person
doing it when there is one; an operator at the command line is `None` in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import IntegrityError, transaction

from accounts.errors import Conflict, PermissionDenied, ValidationFailed
from accounts.models import NAME_MAX, Membership, Role, Tenant, User
from accounts.services.audit import audit_record
from accounts.services.events import event_record
from accounts.services.memberships import role_check
from accounts.tenancy import activate

SLUG_MAX = 50


@dataclass(frozen=True)
class MembershipCreated:
    membership: Membership
    user_created: bool


@dataclass(frozen=True)
class TenantCreated:
    tenant: Tenant
    admin: MembershipCreated


def _invalid(field: str, error: ValidationError) -> ValidationFailed:
    return ValidationFailed(error.messages[0], fields={field: list(error.messages)})


def _clean_email(email: str) -> str:
    email = User.objects.normalize_email(email.strip()).lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise _invalid("email", error) from error
    return email


def _clean_tenant(*, slug: str, name: str) -> tuple[str, str]:
    slug, name = slug.strip().lower(), name.strip()
    try:
        validate_slug(slug)
    except ValidationError as error:
        raise _invalid("slug", error) from error
    if len(slug) > SLUG_MAX:
        raise ValidationFailed(
            f"The slug may have at most {SLUG_MAX} characters.",
            fields={"slug": [f"At most {SLUG_MAX} characters."]},
        )
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed(
            f"The name must have 1 to {NAME_MAX} characters.",
            fields={"name": [f"1 to {NAME_MAX} characters."]},
        )
    return slug, name


def _user_get_or_create(*, email: str, full_name: str, password: str | None) -> tuple[User, bool]:
    """The user with this e-mail (unchanged), or a new one; no password means unusable."""
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, False
    user = User(email=email, full_name=full_name.strip()[:NAME_MAX])
    if password is None:
        user.set_unusable_password()
    else:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationFailed(
                "Choose a stronger password.", fields={"password": list(error.messages)}
            ) from error
        user.set_password(password)
    user.save()
    return user, True


def _check_role(*, tenant: Tenant, role: str, partner_id: int | None) -> None:
    role_check(role=role, has_partner=partner_id is not None)
    if partner_id is not None:
        # The partners app sits above this one: reach its model through the registry.
        partner_model = apps.get_model("partners", "PartnerOrganization")
        if not partner_model._default_manager.filter(tenant=tenant, pk=partner_id).exists():
            raise ValidationFailed(
                "Unknown partner organization.",
                fields={"partner_id": ["Not found in this tenant."]},
            )


@transaction.atomic
def user_create_with_membership(
    *,
    tenant: Tenant,
    actor: User | None,
    email: str,
    role: str,
    partner_id: int | None = None,
    password: str | None = None,
    full_name: str = "",
) -> MembershipCreated:
    """Give a person (new, or found by e-mail) a role in a tenant.

    The transaction must be pinned to `tenant` (`tenant_context`). An existing user keeps
    their name and password.
    """
    email = _clean_email(email)
    _check_role(tenant=tenant, role=role, partner_id=partner_id)
    if Membership.objects.for_tenant(tenant).filter(user__email__iexact=email).exists():
        raise Conflict(
            "This person is already a member of this tenant.",
            fields={"email": ["Already a member."]},
        )
    user, user_created = _user_get_or_create(email=email, full_name=full_name, password=password)
    membership = Membership.objects.create(
        tenant=tenant, user=user, role=role, partner_id=partner_id
    )
    audit_record(
        tenant=tenant,
        actor=actor,
        verb="membership_created",
        subject=membership,
        after={"email": email, "role": role, "partner_id": partner_id},
    )
    return MembershipCreated(membership, user_created)


@transaction.atomic
def tenant_create(
    *,
    actor: User | None,
    slug: str,
    name: str,
    admin_email: str,
    admin_password: str | None = None,
    admin_full_name: str = "",
) -> TenantCreated:
    """A new tenant with its first vendor admin; pins the transaction to the new tenant."""
    slug, name = _clean_tenant(slug=slug, name=name)
    admin_email = _clean_email(admin_email)
    if Tenant.objects.filter(slug=slug).exists():
        raise Conflict(
            f"A tenant with the slug {slug!r} already exists.", fields={"slug": ["Already taken."]}
        )
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(slug=slug, name=name)
    except IntegrityError as error:
        raise Conflict(
            f"A tenant with the slug {slug!r} already exists.", fields={"slug": ["Already taken."]}
        ) from error
    activate(tenant_id=tenant.pk, user_id=actor.pk if actor else None)
    audit_record(
        tenant=tenant,
        actor=actor,
        verb="tenant_created",
        subject=tenant,
        after={"slug": slug, "name": name},
    )
    event_record(tenant=tenant, name="tenant.created", subject=tenant)  # pipeline adds stages
    admin = user_create_with_membership(
        tenant=tenant,
        actor=actor,
        email=admin_email,
        role=Role.VENDOR_ADMIN,
        password=admin_password,
        full_name=admin_full_name,
    )
    return TenantCreated(tenant, admin)


@transaction.atomic
def tenant_fiscal_year_set(*, tenant: Tenant, actor: Membership, month: Any) -> Tenant:
    """Set the month the tenant's fiscal year starts in (vendor admins; audited)."""
    if actor.role != Role.VENDOR_ADMIN:
        raise PermissionDenied("Only a vendor admin can change the fiscal year.")
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        message = "A month from 1 (January) to 12 (December)."
        raise ValidationFailed(message, fields={"fiscal_year_start_month": [message]})
    before = {"fiscal_year_start_month": tenant.fiscal_year_start_month}
    Tenant.objects.filter(pk=tenant.pk).update(fiscal_year_start_month=month)
    tenant.fiscal_year_start_month = month
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="fiscal_year_changed",
        subject=tenant,
        before=before,
        after={"fiscal_year_start_month": month},
    )
    return tenant

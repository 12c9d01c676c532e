"""CRM users (Salesforce Users, HubSpot owners) and the members of ours they are, per
connection: a deal's CRM owner comes back as that member, and our owner goes to the CRM as
that CRM user. A CRM user is matched automatically when their e-mail is an active vendor
member's e-mail in this tenant; a vendor admin may set or clear the member on the
settings page (then the automatic match leaves it alone). Only active members of the
connection's own tenant are ever mapped or used."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.errors import NotFound, ValidationFailed
from accounts.models import Membership, Tenant
from accounts.permissions import require_vendor_admin
from accounts.services.audit import audit_record
from integrations.crm.base import CrmUser
from integrations.models import CrmConnection, CrmUserMapping


def _members(tenant_id: int):  # noqa: ANN202 (a queryset)
    return Membership.objects.filter(
        tenant_id=tenant_id, is_active=True, user__is_active=True, partner__isnull=True
    )


def crm_users_refresh(connection: CrmConnection, users: list[CrmUser]) -> None:
    """Record the CRM's users and match the ones no admin set by e-mail (inside the
    caller's short transaction; the CRM was read before it)."""
    by_email: dict[str, int] = {}
    for membership_id, email in _members(connection.tenant_id).values_list("pk", "user__email"):
        by_email.setdefault(email.lower(), membership_id)
    known = {m.crm_user_id: m for m in CrmUserMapping.objects.filter(connection=connection)}
    now = timezone.now()
    for user in users:
        mapping = known.get(user.crm_id) or CrmUserMapping(
            tenant_id=connection.tenant_id, connection=connection, crm_user_id=user.crm_id
        )
        matched = mapping.membership_id
        if not mapping.set_by_admin:
            matched = by_email.get(user.email.lower()) if user.email else None
        current = (mapping.name, mapping.email, mapping.membership_id)
        if mapping.pk and current == (user.name[:255], user.email[:254], matched):
            continue
        mapping.name, mapping.email = user.name[:255], user.email[:254]
        mapping.membership_id = matched
        mapping.updated_at = now
        mapping.save()


def member_user_of(connection: CrmConnection, crm_user_id: str) -> int | None:
    """Our user id for a CRM user, if mapped to an active member of this tenant."""
    if not crm_user_id:
        return None
    return (
        CrmUserMapping.objects.filter(
            connection=connection,
            crm_user_id=crm_user_id,
            membership__in=_members(connection.tenant_id),
        )
        .values_list("membership__user_id", flat=True)
        .first()
    )


def crm_users_by_member(connection: CrmConnection) -> dict[str, str]:
    """Our user id (as a string) → CRM user id, for the mapped active members."""
    rows = CrmUserMapping.objects.filter(
        connection=connection, membership__in=_members(connection.tenant_id)
    ).values_list("membership__user_id", "crm_user_id")
    return {str(user_id): crm_id for user_id, crm_id in rows}


def crm_user_describe(connection: CrmConnection, crm_user_id: str) -> str:
    mapping = CrmUserMapping.objects.filter(connection=connection, crm_user_id=crm_user_id).first()
    if mapping is None:
        return crm_user_id
    who = ", ".join(p for p in (mapping.name, mapping.email) if p)
    return f"{crm_user_id} ({who})" if who else crm_user_id


@transaction.atomic
def crm_user_map(
    *, tenant: Tenant, actor: Membership, mapping_id: int, membership_id: int | None
) -> CrmUserMapping:
    """A vendor admin sets (or, with None, clears) the member a CRM user is. Another
    tenant's mapping is a 404; a member who is not an active vendor member here, a 400."""
    require_vendor_admin(actor)
    mapping = (
        CrmUserMapping.objects.for_tenant(tenant).select_for_update().filter(pk=mapping_id).first()
    )
    if mapping is None:
        raise NotFound
    if membership_id is not None and not _members(tenant.pk).filter(pk=membership_id).exists():
        raise ValidationFailed(
            "Choose an active member of your own team.",
            fields={"membership": ["Not an active member here."]},
        )
    before = {"membership_id": mapping.membership_id, "set_by_admin": mapping.set_by_admin}
    mapping.membership_id = membership_id
    mapping.set_by_admin = True
    mapping.updated_at = timezone.now()
    mapping.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="crm_user_mapped",
        subject=mapping,
        before=before,
        after={"membership_id": membership_id, "set_by_admin": True},
    )
    return mapping

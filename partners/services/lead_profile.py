"""What lead routing needs of a partner: territories, specializations, certifications and
lead capacity. Partner admins keep their own organization's up to date; vendor roles any
partner's. Only vendor roles set a partner's lead capacity (empty: the tier's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django_countries import countries

from accounts.cleaning import clean_fields
from accounts.errors import PermissionDenied, ValidationFailed
from accounts.models import Membership, Role, Tenant
from accounts.services.audit import audit_record, snapshot
from partners.catalog import product_line_codes
from partners.models import LEAD_CAPACITY_MAX, Certification, PartnerOrganization, Region

PROFILE_FIELDS = ["territories", "specializations", "lead_capacity"]
TERRITORIES_MAX = 300
CERTIFICATIONS_MAX = 100
CERTIFICATION_NAME_MAX = 200
REGION_CODES = frozenset(Region.values)


@dataclass(frozen=True)
class CertificationData:
    product_line: str
    name: str
    expires_on: date


def territories_clean(value: Any) -> list[str]:
    """Country codes and region codes, upper-cased, each once, in the order given."""
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise _invalid("territories", "A list of country codes (US) and region codes (EMEA).")
    if len(value) > TERRITORIES_MAX:
        raise _invalid("territories", f"At most {TERRITORIES_MAX} territories.")
    codes = list(dict.fromkeys(code.strip().upper() for code in value))
    unknown = [code for code in codes if code not in REGION_CODES and code not in countries]
    if unknown:
        shown = ", ".join(code[:12] for code in unknown[:5])
        raise _invalid("territories", f"Unknown country or region: {shown}.")
    return codes


def specializations_clean(*, tenant: Tenant, value: Any) -> list[str]:
    """Codes of the tenant's active product lines, each once."""
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise _invalid("specializations", "A list of product-line codes.")
    codes = list(dict.fromkeys(code.strip() for code in value))
    unknown = sorted(set(codes) - product_line_codes(tenant.pk))
    if unknown:
        shown = ", ".join(code[:40] for code in unknown[:5])
        raise _invalid("specializations", f"Unknown product line: {shown}.")
    return codes


def certifications_clean(*, tenant: Tenant, value: Any) -> list[CertificationData]:
    if not isinstance(value, list) or len(value) > CERTIFICATIONS_MAX:
        raise _invalid("certifications", f"A list of at most {CERTIFICATIONS_MAX} certifications.")
    known = product_line_codes(tenant.pk)
    cleaned = []
    for item in value:
        if not isinstance(item, CertificationData):
            raise _invalid("certifications", "Each needs product_line, name and expires_on.")
        if item.product_line not in known:
            raise _invalid("certifications", f"Unknown product line: {item.product_line[:40]}.")
        cleaned.append(item)
    return cleaned


def lead_capacity_clean(value: Any) -> int | None:
    ok = value is None or (
        isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LEAD_CAPACITY_MAX
    )
    if not ok:
        raise _invalid("lead_capacity", f"A whole number from 0 to {LEAD_CAPACITY_MAX}, or null.")
    return value


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={field: [message]})


def _may_edit(actor: Membership, partner: PartnerOrganization, changes: dict[str, Any]) -> None:
    if actor.is_vendor:
        return
    own_admin = actor.role == Role.PARTNER_ADMIN and actor.partner_id == partner.pk
    if not own_admin:
        raise PermissionDenied("Your role does not allow this.")
    if "lead_capacity" in changes:
        raise PermissionDenied("Only the vendor sets a partner's lead capacity.")


@transaction.atomic
def partner_lead_profile_update(
    *, tenant: Tenant, actor: Membership, partner_id: int, **changes: Any
) -> PartnerOrganization:
    """Change territories, specializations, certifications (replaced as a whole) and, for
    vendor roles, the lead capacity. ValidationFailed names every refused field; nothing
    is stored then."""
    partner = (
        PartnerOrganization.objects.for_tenant(tenant)
        .select_for_update()
        .select_related("tier")
        .filter(pk=partner_id)
        .first()
    )
    if partner is None:
        raise PermissionDenied("Your role does not allow this.")
    _may_edit(actor, partner, changes)
    cleaned = _clean(tenant, changes)
    before = _profile(partner)
    for field in set(cleaned) & set(PROFILE_FIELDS):
        setattr(partner, field, cleaned[field])
    partner.save()
    if "certifications" in cleaned:
        _replace_certifications(tenant, partner, cleaned["certifications"])
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="partner_lead_profile_updated",
        subject=partner,
        before=before,
        after=_profile(partner),
    )
    return partner


def _clean(tenant: Tenant, changes: dict[str, Any]) -> dict[str, Any]:
    cleaners = {
        "territories": territories_clean,
        "specializations": lambda v: specializations_clean(tenant=tenant, value=v),
        "certifications": lambda v: certifications_clean(tenant=tenant, value=v),
        "lead_capacity": lead_capacity_clean,
    }
    cleaned, errors = clean_fields(changes, cleaners)
    if errors:
        raise ValidationFailed("Check the highlighted fields.", fields=errors)
    return cleaned


def _replace_certifications(
    tenant: Tenant, partner: PartnerOrganization, items: list[CertificationData]
) -> None:
    Certification.objects.for_tenant(tenant).filter(partner=partner).delete()
    Certification.objects.bulk_create(
        Certification(
            tenant=tenant,
            partner=partner,
            product_line=item.product_line,
            name=item.name,
            expires_on=item.expires_on,
        )
        for item in {(c.product_line, c.name): c for c in items}.values()
    )


def _profile(partner: PartnerOrganization) -> dict[str, Any]:
    certifications = Certification.objects.for_tenant(partner.tenant_id).filter(partner=partner)
    return {
        "territories": ", ".join(partner.territories),
        "specializations": ", ".join(partner.specializations),
        **snapshot(partner, ["lead_capacity"]),
        "certifications": [
            f"{c.product_line}:{c.name}:{c.expires_on.isoformat()}" for c in certifications
        ],
    }

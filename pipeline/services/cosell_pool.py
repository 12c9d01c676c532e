"""The co-sell pool, configured by vendor admins: kinds of help with their eligibility
rules, the people who give them (types, regions, product lines, weekly capacity), their
days away, and the tenant's first-contact clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.errors import Conflict, NotFound, ValidationFailed
from accounts.models import VENDOR_ROLES, Membership, Tenant
from accounts.permissions import require_vendor_admin
from accounts.services.audit import audit_record, snapshot
from partners.models import Region
from pipeline.defaults import DEFAULT_COSELL_TYPES
from pipeline.models import (
    CoSellResource,
    CoSellResourceType,
    CoSellResourceTypeStage,
    CoSellSettings,
    CoSellUnavailability,
    Stage,
)

CAPACITY_MAX = 200
LIST_MAX = 20


def cosell_install_defaults(*, tenant: Tenant) -> bool:
    """Give a tenant the default kinds of help (rules on its stages by name) and clock,
    once. True if installed."""
    with transaction.atomic():
        CoSellSettings.objects.get_or_create(tenant=tenant)
        if CoSellResourceType.objects.for_tenant(tenant).exists():
            return False
        stages = {s.name.lower(): s for s in Stage.objects.for_tenant(tenant).filter(kind="open")}
        # two inserts, not a create and a many-to-many set per kind: every new tenant (and
        # every test world) runs this
        kinds = CoSellResourceType.objects.bulk_create(
            [
                CoSellResourceType(
                    tenant=tenant,
                    code=code,
                    name=name,
                    min_amount=Decimal(floor) if floor else None,
                    hours_per_request=hours,
                    position=position,
                )
                for position, (code, name, _, floor, hours) in enumerate(DEFAULT_COSELL_TYPES, 1)
            ]
        )
        CoSellResourceTypeStage.objects.bulk_create(
            [
                CoSellResourceTypeStage(tenant=tenant, resource_type=kind, stage=stages[n.lower()])
                for kind, (*_, names, _, _) in zip(kinds, DEFAULT_COSELL_TYPES, strict=True)
                for n in names
                if n.lower() in stages
            ]
        )
    return True


# --- Kinds of help and their rules --------------------------------------------------------------


def _name(value: object, field: str = "name", limit: int = 100) -> str:
    text = str(value or "").strip()
    if not text or len(text) > limit:
        raise ValidationFailed(
            f"A {field} of 1 to {limit} characters.", fields={field: [f"1 to {limit} characters."]}
        )
    return text


def _open_stages(tenant: Tenant, stage_ids: Iterable[int]) -> list[Stage]:
    ids = set(stage_ids)
    stages = list(Stage.objects.for_tenant(tenant).filter(pk__in=ids, kind="open"))
    if len(stages) != len(ids):
        raise ValidationFailed("Choose open stages.", fields={"stages": ["Not found."]})
    return stages


@transaction.atomic
def cosell_type_save(
    *,
    tenant: Tenant,
    actor: Membership,
    type_id: int | None = None,
    name: str,
    stage_ids: Iterable[int] = (),
    min_amount: Decimal | None = None,
    hours_per_request: int = 4,
    is_active: bool = True,
    code: str = "",
) -> CoSellResourceType:
    """Create (no `type_id`) or change a kind of help and its eligibility rule."""
    require_vendor_admin(actor)
    name = _name(name)
    if min_amount is not None and min_amount < 0:
        raise ValidationFailed("Zero or more.", fields={"min_amount": ["Zero or more."]})
    if not 1 <= int(hours_per_request) <= 80:
        raise ValidationFailed("1 to 80 hours.", fields={"hours_per_request": ["1 to 80."]})
    stages = _open_stages(tenant, stage_ids)
    if type_id is None:
        kind = CoSellResourceType(tenant=tenant, code=_code(tenant, code or name))
        before: dict[str, Any] = {}
    else:
        found = (
            CoSellResourceType.objects.for_tenant(tenant).select_for_update().filter(pk=type_id)
        ).first()
        if found is None:
            raise NotFound
        kind = found
        before = snapshot(kind, ["name", "min_amount", "hours_per_request", "is_active"])
    kind.name, kind.min_amount = name, min_amount
    kind.hours_per_request, kind.is_active = int(hours_per_request), is_active
    kind.save()
    kind.stages.set(stages, through_defaults={"tenant_id": kind.tenant_id})
    after = snapshot(kind, ["name", "min_amount", "hours_per_request", "is_active"])
    after["stages"] = sorted(s.name for s in stages)
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="cosell_type_saved",
        subject=kind,
        before=before,
        after=after,
    )
    return kind


def _code(tenant: Tenant, text: str) -> str:
    from django.utils.text import slugify

    base = slugify(text).replace("-", "_")[:36] or "help"
    code, n = base, 1
    while CoSellResourceType.objects.for_tenant(tenant).filter(code=code).exists():
        n += 1
        code = f"{base}_{n}"
    return code


# --- People of the pool -------------------------------------------------------------------------


def _clean_pool_fields(tenant: Tenant, data: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "types" in data:
        ids = {t.pk if isinstance(t, CoSellResourceType) else t for t in data["types"]}
        types = list(CoSellResourceType.objects.for_tenant(tenant).filter(pk__in=ids))
        if not ids or len(types) != len(ids):
            raise ValidationFailed(
                "Choose the kinds of help the person gives.", fields={"types": ["Not found."]}
            )
        cleaned["types"] = types
    if "regions" in data:
        regions = sorted(set(data["regions"]))
        if any(r not in Region.values for r in regions):
            raise ValidationFailed(
                "Regions are NA, LATAM, EMEA or APAC.", fields={"regions": ["Unknown region."]}
            )
        cleaned["regions"] = regions
    if "product_lines" in data:
        lines = sorted({str(p).strip() for p in data["product_lines"]} - {""})
        if len(lines) > LIST_MAX or any(len(p) > 40 for p in lines):
            raise ValidationFailed(
                "At most 20 product-line codes of 40 characters.",
                fields={"product_lines": ["Too many or too long."]},
            )
        cleaned["product_lines"] = lines
    if "weekly_capacity" in data:
        capacity = data["weekly_capacity"]
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise ValidationFailed("A whole number.", fields={"weekly_capacity": ["Integer."]})
        if not 1 <= capacity <= CAPACITY_MAX:
            raise ValidationFailed(
                f"Weekly capacity is 1 to {CAPACITY_MAX}.",
                fields={"weekly_capacity": [f"1 to {CAPACITY_MAX}."]},
            )
        cleaned["weekly_capacity"] = capacity
    if "capacity_unit" in data:
        if data["capacity_unit"] not in CoSellResource.CapacityUnit.values:
            raise ValidationFailed(
                "Engagements or hours.", fields={"capacity_unit": ["engagements or hours."]}
            )
        cleaned["capacity_unit"] = data["capacity_unit"]
    if "is_active" in data:
        cleaned["is_active"] = bool(data["is_active"])
    return cleaned


POOL_AUDITED = ["regions", "product_lines", "weekly_capacity", "capacity_unit", "is_active"]


@transaction.atomic
def cosell_resource_create(
    *, tenant: Tenant, actor: Membership, person_id: int, **fields: Any
) -> CoSellResource:
    """Put a vendor person in the pool with the kinds of help they give, their regions and
    product lines and their weekly capacity."""
    require_vendor_admin(actor)
    person = (
        Membership.objects.for_tenant(tenant)
        .filter(pk=person_id, role__in=VENDOR_ROLES, is_active=True)
        .first()
    )
    if person is None:
        raise ValidationFailed(
            "Choose an active person of the vendor.", fields={"person_id": ["Not found."]}
        )
    fields.setdefault("types", [])
    fields.setdefault("weekly_capacity", None)
    cleaned = _clean_pool_fields(tenant, fields)
    types = cleaned.pop("types")
    try:
        with transaction.atomic():
            resource = CoSellResource.objects.create(tenant=tenant, person=person, **cleaned)
    except IntegrityError as error:
        raise Conflict("The person is already in the pool.") from error
    resource.types.set(types, through_defaults={"tenant_id": resource.tenant_id})
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="cosell_resource_added",
        subject=resource,
        after=snapshot(resource, POOL_AUDITED),
    )
    return resource


@transaction.atomic
def cosell_resource_update(
    *, tenant: Tenant, actor: Membership, resource_id: int, **fields: Any
) -> CoSellResource:
    require_vendor_admin(actor)
    resource = (
        CoSellResource.objects.for_tenant(tenant).select_for_update().filter(pk=resource_id)
    ).first()
    if resource is None:
        raise NotFound
    cleaned = _clean_pool_fields(tenant, fields)
    before = snapshot(resource, POOL_AUDITED)
    types = cleaned.pop("types", None)
    for name, value in cleaned.items():
        setattr(resource, name, value)
    resource.save()
    if types is not None:
        resource.types.set(types, through_defaults={"tenant_id": resource.tenant_id})
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="cosell_resource_changed",
        subject=resource,
        before=before,
        after=snapshot(resource, POOL_AUDITED),
    )
    return resource


@transaction.atomic
def cosell_unavailability_add(
    *, tenant: Tenant, actor: Membership, resource_id: int, start: date, end: date, note: str = ""
) -> CoSellUnavailability:
    require_vendor_admin(actor)
    resource = CoSellResource.objects.for_tenant(tenant).filter(pk=resource_id).first()
    if resource is None:
        raise NotFound
    if end < start:
        raise ValidationFailed("The end is before the start.", fields={"end": ["On or after."]})
    if (end - start).days > 366:
        raise ValidationFailed("At most a year at a time.", fields={"end": ["Within a year."]})
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed("At most 200 characters.", fields={"note": ["At most 200."]})
    period = CoSellUnavailability.objects.create(
        tenant=tenant, resource=resource, start=start, end=end, note=note
    )
    audit_record(tenant=tenant, actor=actor.user, verb="cosell_unavailable", subject=resource)
    return period


@transaction.atomic
def cosell_unavailability_remove(*, tenant: Tenant, actor: Membership, period_id: int) -> None:
    require_vendor_admin(actor)
    period = CoSellUnavailability.objects.for_tenant(tenant).filter(pk=period_id).first()
    if period is None:
        raise NotFound
    resource = period.resource
    period.delete()
    audit_record(tenant=tenant, actor=actor.user, verb="cosell_available", subject=resource)


@transaction.atomic
def cosell_settings_update(
    *,
    tenant: Tenant,
    actor: Membership,
    sla_business_days: int,
    large_deal_sla_business_days: int,
    large_deal_amount: Decimal,
) -> CoSellSettings:
    require_vendor_admin(actor)
    for field, value in (
        ("sla_business_days", sla_business_days),
        ("large_deal_sla_business_days", large_deal_sla_business_days),
    ):
        if not 1 <= value <= 30:
            raise ValidationFailed("1 to 30 business days.", fields={field: ["1 to 30."]})
    if large_deal_amount < 0:
        raise ValidationFailed("Zero or more.", fields={"large_deal_amount": ["Zero or more."]})
    settings, _ = CoSellSettings.objects.select_for_update().get_or_create(tenant=tenant)
    fields = ["sla_business_days", "large_deal_sla_business_days", "large_deal_amount"]
    before = snapshot(settings, fields)
    settings.sla_business_days = sla_business_days
    settings.large_deal_sla_business_days = large_deal_sla_business_days
    settings.large_deal_amount = large_deal_amount
    settings.updated_at = timezone.now()
    settings.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="cosell_settings_changed",
        subject=settings,
        before=before,
        after=snapshot(settings, fields),
    )
    return settings

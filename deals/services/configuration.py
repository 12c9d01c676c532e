"""Writes of the registration configuration: product lines, rules, rejection reasons.

Every tenant gets its defaults lazily (`registration_settings_for`) and eagerly from the
`tenant.created` event (deals/handlers.py); both are idempotent.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.errors import Conflict, NotFound, ValidationFailed
from accounts.models import Membership, Tenant
from accounts.permissions import require_vendor_admin
from accounts.services.audit import audit_record, snapshot
from deals.defaults import DEFAULT_PRODUCT_LINE, DEFAULT_REJECTION_REASONS
from deals.models import ProductLine, RegistrationSettings, RejectionReason

SETTINGS_FIELDS = ["match_threshold", "review_sla_hours", "extension_days", "max_extensions"]
SETTINGS_LIMITS = {
    "match_threshold": (50, 100),
    "review_sla_hours": (1, 720),
    "extension_days": (1, 365),
    "max_extensions": (0, 10),
}


def registration_defaults_install(*, tenant: Tenant) -> RegistrationSettings:
    """The tenant's settings, default rejection reasons and a first product line, once."""
    with transaction.atomic():
        settings, created = RegistrationSettings.objects.get_or_create(tenant=tenant)
        if created:
            RejectionReason.objects.bulk_create(
                [
                    RejectionReason(tenant=tenant, code=code, label=label)
                    for code, label in DEFAULT_REJECTION_REASONS
                ],
                ignore_conflicts=True,
            )
            if not ProductLine.objects.for_tenant(tenant).exists():
                code, name = DEFAULT_PRODUCT_LINE
                ProductLine.objects.create(tenant=tenant, code=code, name=name)
    return settings


def registration_settings_for(tenant: Tenant) -> RegistrationSettings:
    settings = RegistrationSettings.objects.for_tenant(tenant).first()
    return settings or registration_defaults_install(tenant=tenant)


@transaction.atomic
def registration_settings_update(
    *, tenant: Tenant, actor: Membership, **changes: Any
) -> RegistrationSettings:
    require_vendor_admin(actor)
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed("Unknown fields.", fields={f: ["Unknown field."] for f in unknown})
    for field, value in changes.items():
        low, high = SETTINGS_LIMITS[field]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationFailed(
                f"{field.replace('_', ' ').capitalize()} must be between {low} and {high}.",
                fields={field: [f"A whole number from {low} to {high}."]},
            )
    settings = registration_settings_for(tenant)
    settings = RegistrationSettings.objects.select_for_update().get(pk=settings.pk)
    before = snapshot(settings, SETTINGS_FIELDS)
    for field, value in changes.items():
        setattr(settings, field, value)
    settings.updated_at = timezone.now()
    settings.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="registration_settings_updated",
        subject=settings,
        before=before,
        after=snapshot(settings, SETTINGS_FIELDS),
    )
    return settings


def _clean_code_and_label(code: str, label: str, *, label_field: str) -> tuple[str, str]:
    code, label = code.strip().lower(), label.strip()
    errors: dict[str, list[str]] = {}
    if (
        not code
        or len(code) > 40
        or not all(c.isascii() and (c.isalnum() or c in "-_") for c in code)
    ):
        errors["code"] = ["1 to 40 lower-case letters, digits, hyphens or underscores."]
    if not label or len(label) > 100:
        errors[label_field] = ["1 to 100 characters."]
    if errors:
        raise ValidationFailed("Check the highlighted fields.", fields=errors)
    return code, label


@transaction.atomic
def product_line_create(*, tenant: Tenant, actor: Membership, code: str, name: str) -> ProductLine:
    require_vendor_admin(actor)
    registration_settings_for(tenant)
    code, name = _clean_code_and_label(code, name, label_field="name")
    try:
        with transaction.atomic():
            line = ProductLine.objects.create(tenant=tenant, code=code, name=name)
    except IntegrityError as error:
        raise ValidationFailed(
            f"A product line with the code “{code}” exists already.",
            fields={"code": ["Already in use."]},
        ) from error
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="product_line_created",
        subject=line,
        after=snapshot(line, ["code", "name", "is_active"]),
    )
    return line


@transaction.atomic
def product_line_update(
    *,
    tenant: Tenant,
    actor: Membership,
    product_line_id: int,
    name: str | None = None,
    is_active: bool | None = None,
) -> ProductLine:
    """Rename or retire (and bring back) a product line; its code never changes."""
    require_vendor_admin(actor)
    line = (
        ProductLine.objects.for_tenant(tenant)
        .select_for_update()
        .filter(pk=product_line_id)
        .first()
    )
    if line is None:
        raise NotFound
    before = snapshot(line, ["code", "name", "is_active"])
    if name is not None:
        _, line.name = _clean_code_and_label(line.code, name, label_field="name")
    if is_active is False and line.is_active:
        others = ProductLine.objects.for_tenant(tenant).filter(is_active=True).exclude(pk=line.pk)
        if not others.exists():
            raise Conflict("Keep at least one active product line: partners register against them.")
    if is_active is not None:
        line.is_active = is_active
    line.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="product_line_updated",
        subject=line,
        before=before,
        after=snapshot(line, ["code", "name", "is_active"]),
    )
    return line


@transaction.atomic
def rejection_reason_create(
    *, tenant: Tenant, actor: Membership, code: str, label: str
) -> RejectionReason:
    require_vendor_admin(actor)
    registration_settings_for(tenant)
    code, label = _clean_code_and_label(code, label, label_field="label")
    try:
        with transaction.atomic():
            reason = RejectionReason.objects.create(tenant=tenant, code=code, label=label)
    except IntegrityError as error:
        raise ValidationFailed(
            f"A rejection reason with the code “{code}” exists already.",
            fields={"code": ["Already in use."]},
        ) from error
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="rejection_reason_created",
        subject=reason,
        after=snapshot(reason, ["code", "label", "is_active"]),
    )
    return reason


@transaction.atomic
def rejection_reason_set_active(
    *, tenant: Tenant, actor: Membership, reason_id: int, is_active: bool
) -> RejectionReason:
    require_vendor_admin(actor)
    reason = (
        RejectionReason.objects.for_tenant(tenant).select_for_update().filter(pk=reason_id).first()
    )
    if reason is None:
        raise NotFound
    if not is_active and reason.is_active:
        active = RejectionReason.objects.for_tenant(tenant).filter(is_active=True)
        if not active.exclude(pk=reason.pk).exists():
            raise Conflict("Keep at least one active rejection reason.")
    before = snapshot(reason, ["is_active"])
    reason.is_active = is_active
    reason.save(update_fields=["is_active"])
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="rejection_reason_updated",
        subject=reason,
        before=before,
        after=snapshot(reason, ["is_active"]),
    )
    return reason

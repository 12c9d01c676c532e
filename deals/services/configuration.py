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


# Product lines and rejection reasons are both a tenant's list of codes with a label: created
# once (the code never changes), renamed, retired and brought back, one always active.
CODE_LISTS: dict[type, tuple[str, str, str]] = {
    # model: (label field, noun, why one must stay active)
    ProductLine: ("name", "product line", "partners register against them"),
    RejectionReason: ("label", "rejection reason", "rejections need one"),
}


def _code_row_create(
    model: type[ProductLine | RejectionReason],
    *,
    tenant: Tenant,
    actor: Membership,
    code: str,
    label: str,
) -> Any:
    require_vendor_admin(actor)
    registration_settings_for(tenant)
    label_field, noun, _ = CODE_LISTS[model]
    code, label = _clean_code_and_label(code, label, label_field=label_field)
    try:
        with transaction.atomic():
            row = model.objects.create(tenant=tenant, code=code, **{label_field: label})
    except IntegrityError as error:
        raise ValidationFailed(
            f"A {noun} with the code “{code}” exists already.",
            fields={"code": ["Already in use."]},
        ) from error
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb=f"{noun.replace(' ', '_')}_created",
        subject=row,
        after=snapshot(row, ["code", label_field, "is_active"]),
    )
    return row


def _code_row_update(
    model: type[ProductLine | RejectionReason],
    *,
    tenant: Tenant,
    actor: Membership,
    row_id: int,
    label: str | None,
    is_active: bool | None,
) -> Any:
    require_vendor_admin(actor)
    label_field, noun, why = CODE_LISTS[model]
    rows = model.objects.for_tenant(tenant)
    row = rows.select_for_update().filter(pk=row_id).first()
    if row is None:
        raise NotFound
    fields = ["code", label_field, "is_active"]
    before = snapshot(row, fields)
    if label is not None:
        _, cleaned = _clean_code_and_label(row.code, label, label_field=label_field)
        setattr(row, label_field, cleaned)
    retiring = is_active is False and row.is_active
    if retiring and not rows.filter(is_active=True).exclude(pk=row.pk).exists():
        raise Conflict(f"Keep at least one active {noun}: {why}.")
    if is_active is not None:
        row.is_active = is_active
    row.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb=f"{noun.replace(' ', '_')}_updated",
        subject=row,
        before=before,
        after=snapshot(row, fields),
    )
    return row


@transaction.atomic
def product_line_create(*, tenant: Tenant, actor: Membership, code: str, name: str) -> ProductLine:
    return _code_row_create(ProductLine, tenant=tenant, actor=actor, code=code, label=name)


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
    return _code_row_update(
        ProductLine,
        tenant=tenant,
        actor=actor,
        row_id=product_line_id,
        label=name,
        is_active=is_active,
    )


@transaction.atomic
def rejection_reason_create(
    *, tenant: Tenant, actor: Membership, code: str, label: str
) -> RejectionReason:
    return _code_row_create(RejectionReason, tenant=tenant, actor=actor, code=code, label=label)


@transaction.atomic
def rejection_reason_set_active(
    *, tenant: Tenant, actor: Membership, reason_id: int, is_active: bool
) -> RejectionReason:
    return _code_row_update(
        RejectionReason,
        tenant=tenant,
        actor=actor,
        row_id=reason_id,
        label=None,
        is_active=is_active,
    )

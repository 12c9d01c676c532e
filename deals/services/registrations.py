"""The partner's side of a registration: save a draft, edit, submit, withdraw, and ask for
more protection time.

Submitting takes the advisory locks of the customer's exact keys before it stamps the
submission time, so among simultaneous submitters of one customer the order of the
timestamps is the order in which they committed; screening (enqueued on commit) takes the
same locks and so always sees every earlier submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django_countries import countries

from accounts.errors import Conflict, NotFound, ValidationFailed
from accounts.models import NAME_MAX, Membership, Tenant
from accounts.permissions import require_partner
from accounts.queue import enqueue_on_commit
from accounts.services.events import event_record
from deals.models import DealRegistration, Extension, ProductLine
from deals.services.configuration import registration_settings_for
from deals.services.keys import CustomerKeys, lock_keys, registration_keys
from deals.services.protection import claims_release
from deals.services.timeline import reviewers_of, tell_vendor, timeline_record
from pipeline.services.customers import customer_get_or_create
from pipeline.services.opportunities import money_clean

TEXT_LIMITS = {
    "customer_name": NAME_MAX,
    "customer_website": 255,
    "contact_name": NAME_MAX,
    "contact_email": 254,
    "contact_phone": 40,
    "need": 2000,
    "timeline": 200,
    "description": 4000,
}
FIELDS = (
    *TEXT_LIMITS,
    "customer_country",
    "product_lines",
    "amount",
    "currency",
    "expected_close_date",
    "budget_confirmed",
    "decision_maker",
)
EDITABLE_STATUSES = (DealRegistration.Status.DRAFT, DealRegistration.Status.INFO_REQUESTED)
SCREEN_TASK = "deals.tasks.registration_screen"


@dataclass(frozen=True)
class RegistrationData:
    """Cleaned registration fields; `product_lines` are the tenant's active lines."""

    fields: dict[str, Any]
    product_lines: list[ProductLine] | None


def text_clean(
    name: str, value: Any, errors: dict[str, list[str]], limits: dict[str, int] = TEXT_LIMITS
) -> str:
    """A text field stripped, or its error in `errors` (also used for leads)."""
    text = "" if value is None else value
    if not isinstance(text, str):
        errors[name] = ["Text expected."]
        return ""
    text = text.strip()
    if len(text) > limits[name]:
        errors[name] = [f"At most {limits[name]} characters."]
    return text


def _product_lines(tenant: Tenant, codes: Any, errors: dict[str, list[str]]) -> list[ProductLine]:
    if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
        errors["product_lines"] = ["A list of product-line codes."]
        return []
    lines = list(ProductLine.objects.for_tenant(tenant).filter(code__in=codes, is_active=True))
    unknown = sorted(set(codes) - {line.code for line in lines})
    if unknown:
        errors["product_lines"] = [f"Unknown product line: {', '.join(unknown)}."]
    return lines


def _clean_other(name: str, value: Any, errors: dict[str, list[str]], tenant: Tenant) -> Any:
    if name == "customer_country":
        code = (value or "").strip().upper() if isinstance(value, str) else None
        if code is None or (code and code not in countries):
            errors[name] = ["A two-letter ISO country code."]
        return code or ""
    if name == "amount":
        if value in (None, ""):
            return None
        try:
            return money_clean(value)
        except ValidationFailed as error:
            errors[name] = error.fields["amount"]
            return None
    if name == "currency":
        code = (value or tenant.currency) if isinstance(value, str | type(None)) else None
        if code is None or len(code) != 3 or not code.isascii() or not code.isalpha():
            errors[name] = ["A three-letter currency code."]
            return tenant.currency
        return code.upper()
    if name == "expected_close_date":
        if value is not None and not isinstance(value, date):
            errors[name] = ["A date."]
            return None
        return value
    if not isinstance(value, bool):  # budget_confirmed, decision_maker
        errors[name] = ["True or false."]
        return False
    return value


def contact_clean(fields: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """Check (and lower-case) the contact e-mail and check the phone among cleaned fields;
    also used for leads (leads/services/intake.py)."""
    if fields.get("contact_email"):
        try:
            validate_email(fields["contact_email"])
        except DjangoValidationError:
            errors["contact_email"] = ["A valid e-mail address."]
        fields["contact_email"] = fields["contact_email"].lower()
    phone = fields.get("contact_phone", "")
    if phone and not all(c.isdigit() or c in " +-().x/" for c in phone):
        errors["contact_phone"] = ["Digits, spaces and + - ( ) only."]


def registration_clean(*, tenant: Tenant, data: dict[str, Any]) -> RegistrationData:
    """Validate the fields given (all of them or some, for an edit); ValidationFailed lists
    every bad field."""
    unknown = set(data) - set(FIELDS)
    errors: dict[str, list[str]] = {name: ["Unknown field."] for name in sorted(unknown)}
    fields: dict[str, Any] = {}
    lines = None
    for name, value in data.items():
        if name in unknown:
            continue
        if name in TEXT_LIMITS:
            fields[name] = text_clean(name, value, errors)
        elif name == "product_lines":
            lines = _product_lines(tenant, value, errors)
        else:
            fields[name] = _clean_other(name, value, errors, tenant)
    contact_clean(fields, errors)
    if "customer_name" in fields and not fields["customer_name"]:
        errors["customer_name"] = ["Name the end customer."]
    if errors:
        raise ValidationFailed("Check the highlighted fields.", fields=errors)
    return RegistrationData(fields, lines)


def submission_missing(registration: DealRegistration) -> dict[str, list[str]]:
    """What a registration still needs before it can be submitted."""
    missing: dict[str, list[str]] = {}
    if not registration.customer_country:
        missing["customer_country"] = ["Needed to submit."]
    if not registration.product_lines.exists():
        missing["product_lines"] = ["Choose at least one product line."]
    if registration.amount is None:
        missing["amount"] = ["Needed to submit."]
    if registration.expected_close_date is None:
        missing["expected_close_date"] = ["Needed to submit."]
    elif registration.expected_close_date < timezone.localdate():
        missing["expected_close_date"] = ["Today or later."]
    return missing


def _apply(registration: DealRegistration, data: RegistrationData) -> None:
    for name, value in data.fields.items():
        setattr(registration, name, value)
    keys = CustomerKeys.of(
        name=registration.customer_name,
        website=registration.customer_website,
        email=registration.contact_email,
        country=str(registration.customer_country or ""),
    )
    registration.name_normalized, registration.name_core = keys.name_normalized, keys.name_core
    registration.root_domain = keys.root_domain
    registration.updated_at = timezone.now()


@transaction.atomic
def registration_create(
    *, tenant: Tenant, actor: Membership, submit: bool = False, **data: Any
) -> DealRegistration:
    """A partner's new registration, saved as a draft or submitted at once."""
    require_partner(actor)
    registration_settings_for(tenant)
    cleaned = registration_clean(tenant=tenant, data=data)
    if "customer_name" not in cleaned.fields:
        raise ValidationFailed(
            "Name the end customer.", fields={"customer_name": ["This field is required."]}
        )
    registration = DealRegistration(
        tenant=tenant,
        partner_id=actor.partner_id,  # type: ignore[misc]
        owner=actor.user,
        currency=tenant.currency,
    )
    _apply(registration, cleaned)
    registration.save()
    registration.product_lines.set(cleaned.product_lines or [], through_defaults={"tenant": tenant})
    timeline_record(registration, verb="created", actor=actor.user, from_status="")
    if submit:
        _submit(tenant, actor, registration)
    return registration


def registration_lock(
    *, tenant: Tenant, actor: Membership, registration_id: int
) -> DealRegistration:
    """The registration, row-locked, if the actor may see it; else NotFound."""
    registration = (
        DealRegistration.objects.visible_to(actor)
        .select_for_update(of=("self",), no_key=True)
        .select_related("partner__tier", "partner__channel_manager", "owner", "tenant")
        .filter(tenant=tenant, pk=registration_id)
        .first()
    )
    if registration is None:
        raise NotFound
    return registration


@transaction.atomic
def registration_update(
    *, tenant: Tenant, actor: Membership, registration_id: int, **data: Any
) -> DealRegistration:
    """Edit a draft, or a registration the vendor asked more information about."""
    require_partner(actor)
    cleaned = registration_clean(tenant=tenant, data=data)
    registration = registration_lock(tenant=tenant, actor=actor, registration_id=registration_id)
    if registration.status not in EDITABLE_STATUSES:
        raise Conflict(
            f"A registration that is {registration.get_status_display().lower()} cannot be edited."
        )
    _apply(registration, cleaned)
    registration.save()
    if cleaned.product_lines is not None:
        registration.product_lines.set(cleaned.product_lines, through_defaults={"tenant": tenant})
    timeline_record(registration, verb="edited", actor=actor.user, from_status=registration.status)
    return registration


@transaction.atomic
def registration_submit(
    *, tenant: Tenant, actor: Membership, registration_id: int
) -> DealRegistration:
    """Submit a draft (or resubmit after an information request); screening follows."""
    require_partner(actor)
    registration = registration_lock(tenant=tenant, actor=actor, registration_id=registration_id)
    return _submit(tenant, actor, registration)


def _submit(tenant: Tenant, actor: Membership, registration: DealRegistration) -> DealRegistration:
    if registration.status not in EDITABLE_STATUSES:
        raise Conflict(
            f"The registration is {registration.get_status_display().lower()}; only drafts and "
            "registrations with an information request can be submitted."
        )
    if missing := submission_missing(registration):
        raise ValidationFailed("Complete the registration before submitting it.", fields=missing)
    lock_keys(tenant_id=tenant.pk, keys=registration_keys(registration).exact)
    registration.customer, _ = customer_get_or_create(
        tenant=tenant,
        name=registration.customer_name,
        website=registration.customer_website,
        country=str(registration.customer_country or ""),
    )
    from_status = registration.status
    resubmitted = from_status == DealRegistration.Status.INFO_REQUESTED
    registration.submit()
    registration.save()
    timeline_record(
        registration,
        verb="resubmitted" if resubmitted else "submitted",
        actor=actor.user,
        from_status=from_status,
    )
    event_record(
        tenant=tenant,
        name="registration.submitted",
        subject=registration,
        payload={"partner_id": registration.partner_id, "resubmitted": resubmitted},
    )
    enqueue_on_commit(SCREEN_TASK, tenant.pk, registration.pk)
    return registration


@transaction.atomic
def registration_withdraw(
    *, tenant: Tenant, actor: Membership, registration_id: int, note: str = ""
) -> DealRegistration:
    """The partner gives up the registration (and its protection, if it had one)."""
    require_partner(actor)
    registration = registration_lock(tenant=tenant, actor=actor, registration_id=registration_id)
    from_status = registration.status
    if from_status == DealRegistration.Status.APPROVED:
        registration.withdraw_protected()
        claims_release(registration)
    elif from_status in DealRegistration.LIVE or from_status == DealRegistration.Status.DRAFT:
        registration.withdraw_pending()
    else:
        raise Conflict(
            f"A registration that is {registration.get_status_display().lower()} cannot be "
            "withdrawn."
        )
    registration.save()
    timeline_record(
        registration, verb="withdrawn", actor=actor.user, from_status=from_status, message=note
    )
    return registration


@transaction.atomic
def extension_request(
    *, tenant: Tenant, actor: Membership, registration_id: int, reason: str
) -> Extension:
    """Ask for more protection time; a channel manager grants or declines."""
    require_partner(actor)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > 2000:
        raise ValidationFailed(
            "Say why the deal needs more time.", fields={"reason": ["1 to 2000 characters."]}
        )
    registration = registration_lock(tenant=tenant, actor=actor, registration_id=registration_id)
    if registration.status != DealRegistration.Status.APPROVED:
        raise Conflict("Only a protected (approved) registration can be extended.")
    settings = registration_settings_for(tenant)
    if registration.extensions_granted >= settings.max_extensions:
        raise Conflict(
            f"This registration has had the most extensions allowed ({settings.max_extensions})."
        )
    if registration.extensions.filter(status=Extension.Status.REQUESTED).exists():
        raise Conflict("An extension request is already waiting for the vendor.")
    extension = Extension.objects.create(
        tenant=tenant, registration=registration, reason=reason, requested_by=actor.user
    )
    timeline_record(
        registration,
        verb="extension_requested",
        actor=actor.user,
        from_status=registration.status,
        message=reason,
    )
    tell_vendor(
        registration,
        verb="extension_requested",
        message=f"{registration.partner.name} asks to extend the protection of "
        f"{registration.customer_name} (until {registration.protected_until}).",
        recipients=reviewers_of(registration),
    )
    return extension

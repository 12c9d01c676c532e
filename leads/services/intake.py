"""Leads in: a vendor role creates a lead; it is screened for the same customer among live
registrations and open deals (the registrations' own matching, deals/services/screening.py)
and routed by a task enqueued on commit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django_countries import countries

from accounts.errors import ValidationFailed
from accounts.models import NAME_MAX, Membership, Tenant, User
from accounts.permissions import require_vendor
from accounts.queue import enqueue_on_commit
from accounts.services.audit import audit_record
from deals.selectors import active_product_line_codes
from deals.services.candidates import CUSTOMER, REGISTRATION, candidate_rows
from deals.services.configuration import registration_settings_for
from deals.services.keys import CustomerKeys
from deals.services.registrations import contact_clean, text_clean
from deals.services.screening import opportunity_matches, registration_matches
from leads.models import Lead
from leads.services.events import lead_event
from partners.models import Region
from partners.regions import region_for_country
from pipeline.deal_rules import money_clean

TEXT_LIMITS = {
    "company_name": NAME_MAX,
    "company_website": 255,
    "contact_name": NAME_MAX,
    "contact_email": 254,
    "contact_phone": 40,
    "source": 100,
    "notes": 4000,
}
PLAIN_TEXT = ("company_name", "contact_name", "source")  # names: no markup at all
FIELDS = (*TEXT_LIMITS, "country", "region", "product_lines", "estimated_value", "currency")
REGIONS = frozenset(Region.values)
PRODUCT_LINES_MAX = 50
ROUTE_TASK = "leads.tasks.lead_route"


@dataclass(frozen=True)
class LeadMatch:
    kind: str  # "registration" or "opportunity"
    record_id: int
    partner_id: int | None
    score: int


def _text(name: str, value: Any, errors: dict[str, list[str]]) -> str:
    text = text_clean(name, value, errors, TEXT_LIMITS)
    if name not in errors and name in PLAIN_TEXT and ("<" in text or ">" in text):
        errors[name] = ["Plain text only: no < or >."]
    return text


def _product_lines(known: set[str], codes: Any, errors: dict[str, list[str]]) -> list[str]:
    if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
        errors["product_lines"] = ["A list of product-line codes."]
        return []
    if len(codes) > PRODUCT_LINES_MAX:
        errors["product_lines"] = [f"At most {PRODUCT_LINES_MAX} product lines."]
        return []
    unknown = sorted(set(codes) - known)
    if unknown:
        errors["product_lines"] = [f"Unknown product line: {', '.join(c[:40] for c in unknown)}."]
    return list(dict.fromkeys(codes))


def _other(tenant: Tenant, name: str, value: Any, errors: dict[str, list[str]]) -> Any:
    if name == "country":
        code = value.strip().upper() if isinstance(value, str) else ""
        if code not in countries:
            errors[name] = ["A two-letter ISO country code."]
        return code
    if name == "region":
        region = value.strip().upper() if isinstance(value, str) else None
        if region is None or (region and region not in REGIONS):
            errors[name] = [f"One of {', '.join(sorted(REGIONS))}, or empty."]
        return region or ""
    if name == "estimated_value":
        if value in (None, ""):
            return None
        try:
            if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
                raise ValidationFailed("An amount.", fields={name: ["A number."]})
            return money_clean(value, field=name)
        except ValidationFailed as error:
            errors[name] = error.fields[name]
            return None
    code = value if isinstance(value, str) else ""  # currency
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        errors[name] = ["A three-letter currency code."]
        return tenant.currency
    return code.upper()


def lead_clean(
    *, tenant: Tenant, data: dict[str, Any], product_line_codes: set[str] | None = None
) -> dict[str, Any]:
    """Every field checked; ValidationFailed names each bad one. The one rule set of a lead,
    whether it comes from the page, the API or a CSV row (`product_line_codes`: the
    tenant's active codes, read once by a caller that cleans many leads)."""
    errors: dict[str, list[str]] = {n: ["Unknown field."] for n in sorted(set(data) - set(FIELDS))}
    fields: dict[str, Any] = {"currency": tenant.currency}
    for name, value in data.items():
        if name in errors:
            continue
        if name in TEXT_LIMITS:
            fields[name] = _text(name, value, errors)
        elif name == "product_lines":
            known = product_line_codes
            if known is None:
                known = active_product_line_codes(tenant.pk)
            fields[name] = _product_lines(known, value, errors)
        else:
            fields[name] = _other(tenant, name, value, errors)
    if not fields.get("company_name") and "company_name" not in errors:
        errors["company_name"] = ["Name the company."]
    if "country" not in fields:
        errors["country"] = ["A two-letter ISO country code."]
    contact_clean(fields, errors)
    if errors:
        raise ValidationFailed("Check the highlighted fields.", fields=errors)
    return fields


def lead_screen(*, tenant: Tenant, lead: Lead, threshold: int | None = None) -> list[LeadMatch]:
    """Live registrations and open deals of the same customer, with the registrations'
    normalization, lookups and threshold (`threshold`: the tenant's, when the caller read
    it already). Both kinds' candidates come from one round trip."""
    keys = CustomerKeys.of(
        name=lead.company_name,
        website=lead.company_website,
        email=lead.contact_email,
        country=str(lead.country),
    )
    if threshold is None:
        threshold = registration_settings_for(tenant).match_threshold
    rows = candidate_rows(tenant=tenant, keys=keys, threshold=threshold)
    found = [
        LeadMatch("registration", other.pk, other.partner_id, score)
        for other, score, _ in registration_matches(
            tenant=tenant, keys=keys, threshold=threshold, rows=rows[REGISTRATION]
        )
    ]
    found += [
        LeadMatch("opportunity", deal.pk, deal.partner_id, score)
        for deal, score, _ in opportunity_matches(
            tenant=tenant, keys=keys, threshold=threshold, rows=rows[CUSTOMER]
        )
        if deal.status == deal.Status.OPEN
    ]
    return sorted(found, key=lambda m: (-m.score, m.kind != "registration", m.record_id))


def lead_build(
    *,
    tenant: Tenant,
    created_by: User | None,
    fields: dict[str, Any],
    threshold: int | None = None,
    screen: bool = True,
) -> Lead:
    """An unsaved lead from cleaned fields, screened (unless `screen` is false: the caller
    screens many at once, leads/services/screening.py): its matches and preferred partner."""
    lead = Lead(tenant=tenant, created_by=created_by, **fields)
    lead.region = lead.region or region_for_country(str(lead.country)) or ""
    if screen:
        lead_matches_set(lead, lead_screen(tenant=tenant, lead=lead, threshold=threshold))
    return lead


def lead_matches_set(lead: Lead, matches: list[LeadMatch]) -> None:
    """A screened lead's matches, and the partner routing prefers (the best match's)."""
    lead.matches = [m.__dict__ for m in matches]
    lead.preferred_partner_id = next((m.partner_id for m in matches if m.partner_id), None)


@transaction.atomic
def lead_create(*, tenant: Tenant, actor: Membership, data: dict[str, Any]) -> Lead:
    require_vendor(actor)
    fields = lead_clean(tenant=tenant, data=data)
    lead = lead_build(tenant=tenant, created_by=actor.user, fields=fields)
    lead.save()
    audit_record(tenant=tenant, actor=actor.user, verb="lead_created", subject=lead)
    lead_event(tenant=tenant, name="lead.created", lead=lead)
    enqueue_on_commit(ROUTE_TASK, tenant.pk, lead.pk)
    return lead

"""End customers: found by their normalized keys before a new one is created."""

from __future__ import annotations

from django.db import transaction

from accounts.errors import ValidationFailed
from accounts.models import NAME_MAX, Tenant
from pipeline.models import Customer
from pipeline.normalization import normalize_name, root_domain


@transaction.atomic
def customer_get_or_create(
    *, tenant: Tenant, name: str, website: str = "", country: str = ""
) -> tuple[Customer, bool]:
    """The tenant's customer with the same root domain (else the same normalized name and
    country), or a new one. Returns it and whether it was created."""
    name, website = name.strip(), website.strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed(
            f"A customer needs a name of at most {NAME_MAX} characters.",
            fields={"customer_name": [f"1 to {NAME_MAX} characters."]},
        )
    if len(website) > 255:
        raise ValidationFailed(
            "The website is too long.", fields={"customer_website": ["At most 255 characters."]}
        )
    keys = normalize_name(name)
    domain = root_domain(website)
    customers = Customer.objects.for_tenant(tenant)
    existing = (
        customers.filter(root_domain=domain).order_by("pk").first()
        if domain
        else customers.filter(name_normalized=keys.full, root_domain="", country=country)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        return existing, False
    customer = Customer.objects.create(
        tenant=tenant,
        name=name,
        website=website,
        country=country,
        name_normalized=keys.full[:NAME_MAX],
        name_core=keys.core[:NAME_MAX],
        root_domain=domain,
    )
    return customer, True

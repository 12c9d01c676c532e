"""Helpers of the registration API tests: URLs, JSON bodies, "nothing changed" snapshots."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from accounts.models import Tenant
from accounts.tenancy import tenant_context
from deals.models import DealRegistration, Extension, RegistrationEvent
from tests.deals.conftest import registration_data

URL = "/api/v1/registrations/"
UNAUTHORIZED, FORBIDDEN, NOT_FOUND = 401, 403, 404
NOT_FOUND_BODY = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}

# (actor, status) of a request about the partner rep's registration in the first tenant.
VENDOR_MATRIX = [  # deciding: channel managers and vendor admins
    (None, 401),
    ("vendor_admin", 200),
    ("channel_manager", 200),
    ("partner_admin", 403),
    ("partner_rep", 403),
    ("other_partner_admin", 403),
    ("other_tenant_admin", 404),
]
VENDOR_ADMIN_MATRIX = [  # vendor admins only
    (None, 401),
    ("vendor_admin", 200),
    ("channel_manager", 403),
    ("partner_admin", 403),
    ("partner_rep", 403),
    ("other_tenant_admin", 404),
]
PARTNER_MATRIX = [  # acting on it: its partner's members
    (None, 401),
    ("vendor_admin", 403),
    ("channel_manager", 403),
    ("partner_admin", 200),
    ("partner_rep", 200),
    ("other_partner_admin", 404),
    ("other_tenant_partner_admin", 404),
]
VIEWER_MATRIX = [  # reading it: the vendor and its partner; anyone else gets a 404
    (None, 401),
    ("vendor_admin", 200),
    ("channel_manager", 200),
    ("partner_admin", 200),
    ("partner_rep", 200),
    ("other_partner_admin", 404),
    ("other_partner_rep", 404),
    ("other_tenant_admin", 404),
    ("other_tenant_partner_admin", 404),
]


def registration_url(registration_id: int, action: str = "") -> str:
    return f"{URL}{registration_id}/" + (f"{action}/" if action else "")


def json_body(**overrides: Any) -> dict[str, Any]:
    """registration_data() as a JSON request body (dates and amounts as strings)."""
    body = {}
    for key, value in registration_data(**overrides).items():
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        body[key] = value
    return body


def registrations_state(tenant: Tenant) -> list[tuple]:
    """Every registration of a tenant as the fields a request could change, plus how many
    timeline events and extensions exist."""
    with tenant_context(tenant):
        rows = list(
            DealRegistration.objects.order_by("id").values_list(
                "id",
                "status",
                "customer_name",
                "amount",
                "description",
                "decision_code",
                "decision_message",
                "decided_at",
                "protected_until",
                "submitted_at",
                "updated_at",
            )
        )
        extensions = list(Extension.objects.order_by("id").values_list("id", "status"))
        return [rows, extensions, RegistrationEvent.objects.count()]


def set_status(tenant: Tenant, registration_id: int, **fields: Any) -> None:
    """Put a registration in a state directly (the FSM field is protected on instances)."""
    with tenant_context(tenant):
        DealRegistration.objects.filter(pk=registration_id).update(**fields)

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import pytest
from django.utils import timezone

from accounts.models import AuditEntry, DomainEvent, Membership, Notification, Tenant
from accounts.tenancy import tenant_context
from deals.models import DealRegistration, Extension, ProductLine, RegistrationEvent
from deals.services.configuration import registration_defaults_install
from deals.services.registrations import registration_create
from deals.services.screening import registration_screen
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World


@pytest.fixture
def deals_world(world: World) -> World:
    """The world with stages, registration defaults and two more product lines per tenant."""
    for tenant in (world.tenant, world.other_tenant):
        with tenant_context(tenant):
            stages_install_defaults(tenant=tenant)
            registration_defaults_install(tenant=tenant)
            ProductLine.objects.create(tenant=tenant, code="cloud", name="Cloud Suite")
            ProductLine.objects.create(tenant=tenant, code="security", name="Security")
    return world


def registration_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer_name": "Fabrikam Inc.",
        "customer_website": "https://www.fabrikam.com",
        "customer_country": "US",
        "contact_name": "Jane Doe",
        "contact_email": "jane@fabrikam.com",
        "contact_phone": "+1 555 0100",
        "product_lines": ["cloud"],
        "amount": Decimal("25000.00"),
        "currency": "USD",
        "expected_close_date": timezone.localdate() + timedelta(days=60),
        "budget_confirmed": True,
        "decision_maker": True,
        "need": "Replace legacy quoting",
        "timeline": "This quarter",
        "description": "Initial rollout to 200 seats",
    }
    data.update(overrides)
    return data


class RegistrationState(NamedTuple):
    """What a page or API request could change about a registration, with its tenant's
    extensions and its timeline, audit and notification counts: equal before and after a
    refusal."""

    status: str
    decision_code: str
    decision_message: str
    protected_until: date | None
    duplicate_of_id: int | None
    extensions_granted: int
    opportunity_id: int | None
    extensions: list[tuple[str, str]]
    customer_name: str
    amount: Decimal | None
    submitted_at: datetime | None
    product_lines: list[str]
    events: int
    audit_entries: int
    notifications: int


def registration_state(tenant: Tenant, registration: DealRegistration) -> RegistrationState:
    with tenant_context(tenant):
        r = DealRegistration.objects.get(pk=registration.pk)
        return RegistrationState(
            status=r.status,
            decision_code=r.decision_code,
            decision_message=r.decision_message,
            protected_until=r.protected_until,
            duplicate_of_id=r.duplicate_of_id,
            extensions_granted=r.extensions_granted,
            opportunity_id=r.opportunity_id,
            extensions=list(
                Extension.objects.order_by("pk").values_list("status", "decline_reason")
            ),
            customer_name=r.customer_name,
            amount=r.amount,
            submitted_at=r.submitted_at,
            product_lines=sorted(r.product_lines.values_list("code", flat=True)),
            events=RegistrationEvent.objects.count(),
            audit_entries=AuditEntry.objects.count(),
            notifications=Notification.objects.count(),
        )


@pytest.fixture
def register() -> Callable[..., DealRegistration]:
    """`register(membership, submit=True, screen=True, **fields)`: a registration made
    through the service (and screened synchronously when asked)."""

    def make(
        membership: Membership, *, submit: bool = True, screen: bool = True, **fields: Any
    ) -> DealRegistration:
        with tenant_context(membership.tenant):
            registration = registration_create(
                tenant=membership.tenant,
                actor=membership,
                submit=submit,
                **registration_data(**fields),
            )
        if submit and screen:
            with tenant_context(membership.tenant):
                registration_screen(tenant=membership.tenant, registration_id=registration.pk)
        with tenant_context(membership.tenant):
            return DealRegistration.objects.get(pk=registration.pk)

    return make


def submit_tasks(tenant: Tenant, registration_id: int) -> list[tuple[str, tuple[int, int]]]:
    """What a submission enqueues on commit: the dispatch of its `registration.submitted`
    outbox event, then screening."""
    with tenant_context(tenant):
        event = DomainEvent.objects.filter(
            name="registration.submitted", subject_id=str(registration_id)
        ).latest("id")
    return [
        ("accounts.tasks.event_dispatch", (tenant.pk, event.pk)),
        ("deals.tasks.registration_screen", (tenant.pk, registration_id)),
    ]

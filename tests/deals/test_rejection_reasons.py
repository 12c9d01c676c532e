"""The rejection reason "Another partner registered first": every new tenant starts with it,
and existing tenants get it from a data migration (deals/migrations)."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.db import connection

from accounts.models import Notification
from accounts.tenancy import tenant_context
from deals.models import RejectionReason
from deals.services import decisions
from deals.services.configuration import registration_defaults_install
from tests.accounts.factories import TenantFactory

MIGRATION = import_module("deals.migrations.0007_registered_first_rejection_reason")


class SchemaEditor:
    connection = connection


def reasons(tenant) -> dict[str, tuple[str, bool]]:
    with tenant_context(tenant):
        rows = RejectionReason.objects.for_tenant(tenant).values_list("code", "label", "is_active")
        return {code: (label, active) for code, label, active in rows}


def test_a_new_tenant_starts_with_registered_first(db):
    tenant = TenantFactory()
    with tenant_context(tenant):
        registration_defaults_install(tenant=tenant)

    assert reasons(tenant)["registered_first"] == ("Another partner registered first", True)


def test_existing_tenants_get_it_once_and_custom_ones_are_kept(db):
    older, customized, without_defaults = TenantFactory(), TenantFactory(), TenantFactory()
    for tenant in (older, customized):
        with tenant_context(tenant):
            registration_defaults_install(tenant=tenant)
            RejectionReason.objects.filter(code="registered_first").delete()
    with tenant_context(customized):
        RejectionReason.objects.create(
            tenant=customized, code="registered_first", label="First come", is_active=False
        )

    MIGRATION.install(apps, SchemaEditor())
    MIGRATION.install(apps, SchemaEditor())  # idempotent

    assert reasons(older)["registered_first"] == ("Another partner registered first", True)
    assert len(reasons(older)) == 7
    assert reasons(customized)["registered_first"] == ("First come", False)
    assert reasons(without_defaults) == {}  # it gets every default when it starts


def test_rejecting_with_it_tells_the_partner(deals_world, register):
    w = deals_world
    registration = register(w.partner_rep)

    with tenant_context(w.tenant):
        rejected = decisions.registration_reject(
            tenant=w.tenant,
            actor=w.channel_manager,
            registration_id=registration.pk,
            reason_code="registered_first",
        )
        told = Notification.objects.get(recipient=w.partner_rep.user, verb="registration_rejected")
    assert (rejected.status, rejected.decision_code) == ("rejected", "registered_first")
    assert told.message == (
        "Your registration for Fabrikam Inc. was rejected: Another partner registered first."
    )

"""Row-level security proven at the database: a query with no tenant filter sees one
tenant only, and a reused connection never carries a tenant into the next transaction."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from accounts.tenancy import activate, tenant_context, tenant_scoped_models
from partners.models import PartnerOrganization
from tests.conftest import World


def _scalar(sql: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def _partner_tenants() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tenant_id FROM partners_partnerorganization")
        return sorted(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
def test_application_role_is_neither_superuser_nor_owner_nor_bypassing():
    row = None
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_tables"
            " WHERE schemaname = 'public' AND tableowner = current_user"
        )
        owned = cursor.fetchone()[0]
    assert row == (False, False)
    assert owned == 0


@pytest.mark.django_db
def test_every_table_with_a_tenant_column_forces_row_level_security():
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
            FROM pg_class c JOIN information_schema.columns col
              ON col.table_name = c.relname AND col.column_name = 'tenant_id'
             AND col.table_schema = 'public'
            WHERE c.relkind = 'r'
        """)
        rows = cursor.fetchall()
    tables = {model._meta.db_table for model in tenant_scoped_models()}
    assert {row[0] for row in rows} == tables
    assert all(row[1:] == (True, True, True) for row in rows), rows


@pytest.mark.django_db
def test_unfiltered_query_returns_only_the_active_tenants_rows(world: World):
    activate(tenant_id=world.tenant.pk)
    assert _partner_tenants() == [world.tenant.pk]
    assert PartnerOrganization.objects.count() == 2  # no filter in the ORM either

    activate(tenant_id=world.other_tenant.pk)
    assert _partner_tenants() == [world.other_tenant.pk]


@pytest.mark.django_db
def test_no_active_tenant_sees_no_rows(world: World):
    activate(tenant_id=None)
    assert _partner_tenants() == []
    assert PartnerOrganization.objects.count() == 0


@pytest.mark.django_db
def test_writing_a_row_into_another_tenant_is_refused(world: World):
    activate(tenant_id=world.tenant.pk)
    with pytest.raises(ProgrammingError, match="row-level security"), transaction.atomic():
        PartnerOrganization.objects.create(
            tenant=world.other_tenant,
            name="Smuggled",
            tier_id=world.tier.pk,
            country="DE",
            region="EMEA",
        )


@pytest.mark.django_db
def test_updates_cannot_reach_another_tenants_rows(world: World):
    activate(tenant_id=world.tenant.pk)
    changed = PartnerOrganization.objects.filter(pk=world.other_tenant_partner.pk).update(
        name="Hijacked"
    )
    assert changed == 0
    with tenant_context(world.other_tenant):
        assert PartnerOrganization.objects.get(pk=world.other_tenant_partner.pk).name == "Initech"


@pytest.mark.django_db(transaction=True)
def test_a_reused_connection_never_carries_the_tenant_into_the_next_transaction():
    from tests.conftest import build_world

    world = build_world()
    with tenant_context(world.tenant):
        first_backend = _scalar("SELECT pg_backend_pid()")
        assert _partner_tenants() == [world.tenant.pk]
    with transaction.atomic():
        assert _scalar("SELECT pg_backend_pid()") == first_backend  # same connection
        assert _scalar("SELECT current_setting('app.tenant_id', true)") in ("", None)
        assert _partner_tenants() == []


@pytest.mark.django_db(transaction=True)
def test_requests_on_one_connection_do_not_leak_tenants(client_for):
    from tests.conftest import build_world

    world = build_world()
    backend = _scalar("SELECT pg_backend_pid()")
    response = client_for(world.vendor_admin).get("/vendor/")
    assert response.status_code == 200
    assert _scalar("SELECT pg_backend_pid()") == backend
    assert _scalar("SELECT current_setting('app.tenant_id', true)") in ("", None)
    assert _partner_tenants() == []


# Tables without a tenant policy, each with the reason it needs none. Everything else in the
# public schema must force row-level security and carry a policy.
WITHOUT_TENANT_POLICY = {
    "django_migrations": "schema history, no tenant data",
    "django_content_type": "model registry, no tenant data",
    "django_session": "keyed by an unguessable session id; read before any tenant is known",
    "django_admin_log": "the platform operator's admin actions, not a tenant's",
    "auth_permission": "permission registry, no tenant data",
    "auth_group": "operator groups for the Django admin, not a tenant's",
    "auth_group_permissions": "operator groups for the Django admin, not a tenant's",
    "accounts_user": "a person may belong to several tenants; found by e-mail at login",
    "accounts_user_groups": "operator groups of a user, not a tenant's",
    "accounts_user_user_permissions": "operator permissions of a user, not a tenant's",
    "accounts_tenant": "the tenants themselves; a membership names its tenant",
    "axes_accessattempt": "failed logins counted before anyone is authenticated",
    "axes_accessfailurelog": "failed logins counted before anyone is authenticated",
    "axes_accesslog": "logins recorded before a tenant is chosen",
    "axes_accessattemptexpiration": "expiry of the failed-login counts above",
}


@pytest.mark.django_db
def test_every_table_has_a_tenant_policy_or_a_reason_not_to():
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        """)
        tables = {name: forced and policy for name, forced, policy in cursor.fetchall()}

    unprotected = {name for name, protected in tables.items() if not protected}

    assert set(WITHOUT_TENANT_POLICY) <= set(tables)  # the allow-list names real tables
    assert unprotected == set(WITHOUT_TENANT_POLICY)


@pytest.mark.django_db
def test_product_line_links_of_a_registration_are_tenant_rows(world: World):
    from deals.models import DealRegistration

    links = DealRegistration.product_lines.through
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, is_nullable FROM information_schema.columns"
            " WHERE table_name = %s AND column_name = 'tenant_id'",
            [links._meta.db_table],
        )
        assert cursor.fetchall() == [("tenant_id", "NO")]
    assert links in tenant_scoped_models()

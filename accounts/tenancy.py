"""Tenant scoping primitives: the scoped model base and PostgreSQL row-level security.

Two layers keep one tenant's rows from another's:

1. Application: every tenant table derives from `TenantScopedModel`; views and APIs reach
   rows only through `visible_to(membership)` (see accounts/scoping.py).
2. Database: each such table has `FORCE ROW LEVEL SECURITY` and a policy comparing
   `tenant_id` with the transaction-local setting `app.tenant_id`. The application role
   does not own the tables, so a query that forgets its filter still sees one tenant only.
   `activate()` sets the setting with `set_config(..., true)`: it ends with the
   transaction, so a reused connection never carries a tenant into the next request.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Self

import psycopg
from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from psycopg import sql

if TYPE_CHECKING:
    from accounts.models import Membership, Tenant

TENANT_SETTING = "app.tenant_id"
USER_SETTING = "app.user_id"
TOKEN_SETTING = "app.api_token"  # noqa: S105  (a setting name, not a secret)


def current_setting_sql(name: str, cast: str = "bigint") -> str:
    return f"NULLIF(current_setting('{name}', true), '')::{cast}"


TENANT_MATCH = f"tenant_id = {current_setting_sql(TENANT_SETTING)}"


def activate(
    *, tenant_id: int | None, user_id: int | None = None, api_token: str | None = None
) -> None:
    """Pin this transaction to a tenant (and user). Must run inside `transaction.atomic`."""
    if not connection.in_atomic_block:
        raise RuntimeError("tenant must be activated inside a transaction")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, true), set_config(%s, %s, true), set_config(%s, %s, true)",
            [
                TENANT_SETTING,
                str(tenant_id or ""),
                USER_SETTING,
                str(user_id or ""),
                TOKEN_SETTING,
                api_token or "",
            ],
        )


@contextmanager
def tenant_switched(*, tenant_id: int | None, user_id: int | None = None) -> Iterator[None]:
    """Pin the running transaction to another tenant for a moment, then restore the pin it
    had (for a service acting for one person across their tenants)."""
    names = [TENANT_SETTING, USER_SETTING, TOKEN_SETTING]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting(%s, true), current_setting(%s, true),"
            " current_setting(%s, true)",
            names,
        )
        previous = cursor.fetchone()
    activate(tenant_id=tenant_id, user_id=user_id)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config(%s, %s, true), set_config(%s, %s, true),"
                " set_config(%s, %s, true)",
                [
                    item
                    for pair in zip(names, previous, strict=True)
                    for item in (pair[0], pair[1] or "")
                ],
            )


@contextmanager
def tenant_context(tenant: Tenant | int, *, user_id: int | None = None) -> Iterator[None]:
    """One transaction pinned to `tenant`: for tasks, commands and tests."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    with transaction.atomic():
        activate(tenant_id=tenant_id, user_id=user_id)
        yield


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant: Tenant | int) -> Self:
        return self.filter(tenant=tenant)

    def visible_to(self, membership: Membership) -> Self:
        """Rows the member may see: their tenant; for partner people their partner; for a
        partner rep, on models with an owner, only what they own."""
        queryset = self.filter(tenant_id=membership.tenant_id)
        if not membership.is_partner:
            return queryset
        field = self.model.partner_scope_field  # type: ignore[attr-defined]
        if field is None:
            return queryset.none()
        queryset = queryset.filter(**{field: membership.partner_id})
        owner_field = self.model.owner_scope_field  # type: ignore[attr-defined]
        if owner_field is not None and membership.role == "partner_rep":
            queryset = queryset.filter(**{owner_field: membership.user_id})
        return queryset


class TenantScopedModel(models.Model):
    """Base of every tenant-owned table.

    `partner_scope_field` is the lookup from the row to its partner organization; None
    means partner people see none of these rows. `owner_scope_field`, where set, narrows a
    partner rep to the rows they own (a partner admin sees the whole organization).
    `rls_using` is the row-level security policy expression.
    """

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")

    partner_scope_field: ClassVar[str | None] = None
    owner_scope_field: ClassVar[str | None] = None
    rls_using: ClassVar[str] = TENANT_MATCH

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


def tenant_scoped_models() -> list[type[TenantScopedModel]]:
    return [m for m in apps.get_models() if issubclass(m, TenantScopedModel)]


# "tuple concurrently updated" (two sessions altering the same role at once) and the two ways a
# concurrent CREATE ROLE of the same name fails.
_ROLE_RACES = frozenset({"XX000", "42710", "23505"})


def ensure_app_role(conn: psycopg.Connection[Any], role: str, password: str) -> None:
    """Create the application role or refresh its attributes: it logs in, is no superuser and
    never bypasses row-level security.

    Roles are cluster-wide, so test databases migrated side by side (pytest-xdist) run this at
    the same moment, and PostgreSQL fails one of two concurrent `ALTER ROLE`s outright. The
    statement runs in its own transaction (a savepoint inside one) and is retried.
    """
    attempts = 20
    for attempt in range(attempts):
        try:
            with conn.transaction():
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
                verb = "ALTER" if exists.fetchone() else "CREATE"
                conn.execute(
                    sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD {}").format(
                        sql.SQL(verb),
                        sql.Identifier(role),
                        sql.Literal(password) if password else sql.NULL,
                    )
                )
            return
        except psycopg.Error as error:
            if error.sqlstate not in _ROLE_RACES or attempt == attempts - 1:
                raise
            time.sleep(0.01 * (attempt + 1) + random.random() * 0.02)  # noqa: S311


def install_row_level_security(using: str = "default", **_: Any) -> None:
    """Create the application role, grant it rights, and force RLS on every tenant table.

    Runs after every `migrate` (as the owner role); idempotent.
    """
    from django.db import connections

    db = connections[using]
    if db.settings_dict["USER"] != db.settings_dict.get("OWNER_USER"):
        return  # e.g. `flush` after a transactional test, run as the application role
    app_role = db.settings_dict.get("APP_USER") or settings.DATABASES[using]["APP_USER"]
    password = db.settings_dict.get("APP_PASSWORD", "")
    db.ensure_connection()
    ensure_app_role(db.connection, app_role, password)
    with db.cursor() as cursor:
        ctx = db.connection
        role = sql.Identifier(app_role).as_string(ctx)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        for model in tenant_scoped_models():
            table = sql.Identifier(model._meta.db_table).as_string(ctx)
            cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
            cursor.execute(
                f"CREATE POLICY tenant_isolation ON {table} "
                f"USING ({model.rls_using}) WITH CHECK ({TENANT_MATCH})"
            )

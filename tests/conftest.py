"""Test set-up: a real PostgreSQL and Redis, tables migrated by the owner role, and tests
run as the application role so row-level security is in force for every test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client

from accounts.models import Membership, Role, Tenant
from accounts.tenancy import tenant_context
from partners.models import PartnerOrganization, PartnerTier
from prm.database import use_role
from tests.accounts.factories import MembershipFactory, TenantFactory
from tests.partners.factories import PartnerOrganizationFactory, PartnerTierFactory


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Create and migrate the test database as the owner role."""
    use_role(settings.DATABASES["default"], owner=True)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: object) -> Iterator[None]:
    """After migrating, connect as the application role (no table ownership, RLS applies).

    Test databases only: the role may also TRUNCATE, which Django needs to empty the
    tables after a transactional test.
    """
    config = connection.settings_dict
    with django_db_blocker.unblock(), connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "{config["APP_USER"]}"')
    connection.close()
    use_role(config, owner=False)
    yield
    connection.close()
    use_role(config, owner=True)


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    from analytics.selectors.calibration_cache import local_lookups_clear

    cache.clear()
    local_lookups_clear()


@pytest.fixture
def sent_tasks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[object, ...]]]:
    """Tasks handed to the broker, as (name, args); run on-commit hooks to see them
    (django_capture_on_commit_callbacks(execute=True)). Used to prove nothing was enqueued."""
    sent: list[tuple[str, tuple[object, ...]]] = []

    def record(name: str, *args: object) -> bool:
        sent.append((name, args))
        return True

    monkeypatch.setattr("accounts.queue.send_task_now", record)
    return sent


@dataclass
class World:
    """One tenant seen from every role, plus a second partner and a second tenant."""

    tenant: Tenant
    tier: PartnerTier
    partner: PartnerOrganization
    other_partner: PartnerOrganization
    vendor_admin: Membership
    channel_manager: Membership
    partner_admin: Membership
    partner_rep: Membership
    other_partner_admin: Membership
    other_partner_rep: Membership
    other_tenant: Tenant
    other_tenant_admin: Membership
    other_tenant_partner: PartnerOrganization
    other_tenant_partner_admin: Membership

    def member(self, name: str) -> Membership:
        return getattr(self, name)


def build_world() -> World:
    tenant, other_tenant = TenantFactory(name="Acme Software"), TenantFactory(name="Globex")
    tier = PartnerTierFactory(tenant=tenant, name="Gold", rank=3)
    partner = PartnerOrganizationFactory(tenant=tenant, tier=tier, name="Northwind Resellers")
    other_partner = PartnerOrganizationFactory(tenant=tenant, tier=tier, name="Contoso Partners")
    other_tenant_partner = PartnerOrganizationFactory(tenant=other_tenant, name="Initech")
    return World(
        tenant=tenant,
        tier=tier,
        partner=partner,
        other_partner=other_partner,
        vendor_admin=MembershipFactory(
            tenant=tenant, role=Role.VENDOR_ADMIN, user__email="admin@acme.test"
        ),
        channel_manager=MembershipFactory(
            tenant=tenant, role=Role.CHANNEL_MANAGER, user__email="cm@acme.test"
        ),
        partner_admin=MembershipFactory(
            tenant=tenant,
            role=Role.PARTNER_ADMIN,
            partner=partner,
            user__email="padmin@northwind.test",
        ),
        partner_rep=MembershipFactory(
            tenant=tenant, role=Role.PARTNER_REP, partner=partner, user__email="rep@northwind.test"
        ),
        other_partner_admin=MembershipFactory(
            tenant=tenant,
            role=Role.PARTNER_ADMIN,
            partner=other_partner,
            user__email="padmin@contoso.test",
        ),
        other_partner_rep=MembershipFactory(
            tenant=tenant,
            role=Role.PARTNER_REP,
            partner=other_partner,
            user__email="rep@contoso.test",
        ),
        other_tenant=other_tenant,
        other_tenant_admin=MembershipFactory(
            tenant=other_tenant, role=Role.VENDOR_ADMIN, user__email="admin@globex.test"
        ),
        other_tenant_partner=other_tenant_partner,
        other_tenant_partner_admin=MembershipFactory(
            tenant=other_tenant,
            role=Role.PARTNER_ADMIN,
            partner=other_tenant_partner,
            user__email="padmin@initech.test",
        ),
    )


@pytest.fixture
def world(db: None) -> World:
    return build_world()


@pytest.fixture
def client_for() -> Callable[[Membership | None], Client]:
    """A browser-like client logged in as a membership's user (None: anonymous)."""

    def make(membership: Membership | None) -> Client:
        client = Client()
        if membership is not None:
            client.force_login(membership.user)
            session = client.session
            session["active_tenant_id"] = membership.tenant_id
            session.save()
        return client

    return make


@pytest.fixture
def in_tenant() -> Callable[[Tenant], object]:
    """`with in_tenant(t):` — read a tenant's rows from a test (RLS hides them otherwise)."""
    return tenant_context


# Roles for matrices: the World attribute of each actor.
ALL_ACTORS = (
    "vendor_admin",
    "channel_manager",
    "partner_admin",
    "partner_rep",
    "other_partner_admin",
    "other_tenant_admin",
)

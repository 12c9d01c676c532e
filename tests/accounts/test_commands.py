"""Operator commands: create_tenant, create_user, create_api_token, seed_demo."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts.models import ApiToken, AuditEntry, Membership, Notification, Tenant, User
from commissions.models import CommissionEntry, PlanVersion
from partners.models import Invitation, PartnerOrganization, PartnerTier
from tests.accounts.factories import PASSWORD, TenantFactory, UserFactory
from tests.conftest import World


def run(*args: str, **options) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue().splitlines()


def memberships(tenant, in_tenant) -> list[tuple[str, str, int | None]]:
    with in_tenant(tenant):
        return list(
            Membership.objects.order_by("id").values_list("user__email", "role", "partner_id")
        )


# --- create_tenant --------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_tenant_makes_the_tenant_and_its_vendor_admin(in_tenant):
    lines = run(
        "create_tenant",
        "initech",
        "--name",
        "Initech",
        "--admin-email",
        "Bill@Initech.test",
        "--password",
        PASSWORD,
    )

    tenant = Tenant.objects.get(slug="initech")
    user = User.objects.get(email="bill@initech.test")
    assert tenant.name == "Initech"
    assert user.check_password(PASSWORD)
    assert memberships(tenant, in_tenant) == [("bill@initech.test", "vendor_admin", None)]
    assert lines[0] == f"Created tenant 'initech' (Initech), id {tenant.pk}."
    assert lines[1] == f"Created user bill@initech.test, id {user.pk}, with the given password."
    with in_tenant(tenant):
        assert sorted(AuditEntry.objects.values_list("verb", flat=True)) == [
            "membership_created",
            "tenant_created",
        ]


@pytest.mark.django_db
def test_create_tenant_reuses_an_existing_user_and_keeps_their_password(in_tenant):
    existing = UserFactory(email="ops@example.com")

    lines = run(
        "create_tenant",
        "globex",
        "--name",
        "Globex",
        "--admin-email",
        "ops@example.com",
        "--password",
        "another-long-password",
    )

    existing.refresh_from_db()
    assert User.objects.filter(email="ops@example.com").count() == 1
    assert existing.check_password(PASSWORD)
    assert memberships(Tenant.objects.get(slug="globex"), in_tenant) == [
        ("ops@example.com", "vendor_admin", None)
    ]
    assert lines[1].startswith(f"Reused existing user ops@example.com, id {existing.pk}")


@pytest.mark.django_db
def test_create_tenant_without_password_makes_an_unusable_one():
    lines = run(
        "create_tenant", "initech", "--name", "Initech", "--admin-email", "bill@initech.test"
    )

    assert not User.objects.get(email="bill@initech.test").has_usable_password()
    assert "without a password" in lines[1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["acme", "--name", "Another", "--admin-email", "x@example.com"],
            "A tenant with the slug 'acme' already exists. (slug: Already taken.)",
        ),
        (
            ["initech", "--name", "Initech", "--admin-email", "not-an-email"],
            "Enter a valid email address. (email: Enter a valid email address.)",
        ),
        (["bad slug!", "--name", "Initech", "--admin-email", "x@example.com"], "slug"),
        (["initech", "--name", "  ", "--admin-email", "x@example.com"], "name"),
        (["initech", "--name", "x" * 201, "--admin-email", "x@example.com"], "name"),
        (
            ["initech", "--name", "Initech", "--admin-email", "x@example.com", "--password", "123"],
            "Choose a stronger password.",
        ),
    ],
)
def test_create_tenant_refuses_bad_input_and_creates_nothing(args: list[str], message: str):
    TenantFactory(slug="acme", name="Acme")

    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run("create_tenant", *args)

    assert list(Tenant.objects.values_list("slug", flat=True)) == ["acme"]
    assert not User.objects.exists()


# --- create_user ----------------------------------------------------------------------------


def test_create_user_adds_a_vendor_role(world: World, in_tenant):
    lines = run(
        "create_user",
        "new.cm@acme.test",
        "--tenant",
        world.tenant.slug,
        "--role",
        "channel_manager",
        "--full-name",
        "New Manager",
        "--password",
        PASSWORD,
    )

    user = User.objects.get(email="new.cm@acme.test")
    assert (user.full_name, user.check_password(PASSWORD)) == ("New Manager", True)
    assert memberships(world.tenant, in_tenant)[-1] == ("new.cm@acme.test", "channel_manager", None)
    assert lines[-1].startswith(f"new.cm@acme.test is channel_manager in '{world.tenant.slug}'")


def test_create_user_adds_a_partner_role_to_an_existing_user(world: World, in_tenant):
    email = world.other_tenant_admin.user.email

    lines = run(
        "create_user",
        email,
        "--tenant",
        world.tenant.slug,
        "--role",
        "partner_rep",
        "--partner-id",
        str(world.partner.pk),
    )

    assert memberships(world.tenant, in_tenant)[-1] == (email, "partner_rep", world.partner.pk)
    assert User.objects.filter(email=email).count() == 1
    assert lines[0].startswith("Reused existing user")
    assert f"of Northwind Resellers (partner id {world.partner.pk})" in lines[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "partner_rep"], "Partner roles need a partner organization."),
        (
            ["--role", "partner_rep", "--partner-id", "OTHER_TENANT_PARTNER"],
            "Unknown partner organization.",
        ),
        (
            ["--role", "vendor_admin", "--partner-id", "PARTNER"],
            "Vendor roles belong to no partner",
        ),
        (["--role", "vendor_admin", "--tenant", "nope"], "No tenant with the slug 'nope'."),
    ],
)
def test_create_user_refuses_bad_input(world: World, in_tenant, args: list[str], message: str):
    ids = {
        "OTHER_TENANT_PARTNER": str(world.other_tenant_partner.pk),
        "PARTNER": str(world.partner.pk),
    }
    args = [ids.get(arg, arg) for arg in args]
    tenant_args = [] if "--tenant" in args else ["--tenant", world.tenant.slug]
    before = memberships(world.tenant, in_tenant)

    with pytest.raises(CommandError, match=message):
        run("create_user", "someone@example.com", *tenant_args, *args)

    assert memberships(world.tenant, in_tenant) == before
    assert not User.objects.filter(email="someone@example.com").exists()


def test_create_user_refuses_an_existing_member(world: World):
    with pytest.raises(CommandError, match="already a member"):
        run("create_user", "cm@acme.test", "--tenant", world.tenant.slug, "--role", "vendor_admin")


# --- create_api_token -----------------------------------------------------------------------


def test_create_api_token_last_line_is_a_working_bearer_token(world: World, in_tenant):
    lines = run(
        "create_api_token", "CM@acme.test", "--tenant", world.tenant.slug, "--name", "CRM sync"
    )

    token = lines[-1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get("/api/v1/me/")
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["role"]) == (
        "cm@acme.test",
        "channel_manager",
    )
    assert token.startswith("prm_")
    assert token == token.strip()
    assert len(lines) > 1
    assert all(token not in line for line in lines[:-1])
    with in_tenant(world.tenant):
        stored = ApiToken.objects.get()
    assert (stored.name, stored.membership_id) == ("CRM sync", world.channel_manager.pk)


@pytest.mark.parametrize(
    ("email", "slug", "message"),
    [
        ("nobody@example.com", "TENANT", "has no active membership"),
        ("admin@globex.test", "TENANT", "has no active membership"),
        ("cm@acme.test", "nope", "No tenant with the slug 'nope'."),
    ],
)
def test_create_api_token_refuses_non_members(
    world: World, in_tenant, email: str, slug: str, message: str
):
    slug = world.tenant.slug if slug == "TENANT" else slug

    with pytest.raises(CommandError, match=message):
        run("create_api_token", email, "--tenant", slug)

    with in_tenant(world.tenant):
        assert not ApiToken.objects.exists()


# --- seed_demo ------------------------------------------------------------------------------

SEEDED_MODELS = (
    Membership,
    PartnerTier,
    PartnerOrganization,
    Invitation,
    Notification,
    AuditEntry,
    PlanVersion,
    CommissionEntry,
)


def row_counts(in_tenant) -> dict[str, int]:
    counts = {"users": User.objects.count(), "tenants": Tenant.objects.count()}
    for tenant in Tenant.objects.order_by("slug"):
        with in_tenant(tenant):
            for model in SEEDED_MODELS:
                counts[f"{tenant.slug}.{model.__name__}"] = model.objects.count()
    return counts


@pytest.mark.django_db
def test_seed_demo_is_idempotent(in_tenant):
    first = run("seed_demo")
    counts = row_counts(in_tenant)

    second = run("seed_demo")

    assert row_counts(in_tenant) == counts
    assert first[0] == "Demo data ready: 32 records created."
    assert second[0] == "Demo data ready: 0 records created (everything was already there)."
    assert (first[1], second[1]) == (
        "Demo deals ready: 12 created.",
        "Demo deals ready: 0 created.",
    )
    assert (first[2], second[2]) == (
        "Demo registrations ready: 26 created.",
        "Demo registrations ready: 0 created.",
    )
    assert (first[3], second[3]) == (
        "Demo commissions ready: 5 created.",
        "Demo commissions ready: 0 created.",
    )
    assert first[4:] == second[4:]


@pytest.mark.django_db
def test_seed_demo_content(in_tenant):
    lines = run("seed_demo")

    acme, globex = Tenant.objects.get(slug="acme"), Tenant.objects.get(slug="globex")
    assert (acme.name, globex.name) == ("Acme Software", "Globex")
    with in_tenant(acme):
        tiers = list(PartnerTier.objects.order_by("rank").values_list("name", "rank"))
        partners = dict(PartnerOrganization.objects.values_list("name", "status"))
        regions = set(PartnerOrganization.objects.values_list("region", flat=True))
        roles = dict(Membership.objects.values_list("user__email", "role"))
        pending = [i for i in Invitation.objects.all() if i.status == "pending"]
        notified = Notification.objects.count()
    assert tiers == [("Registered", 1), ("Silver", 2), ("Gold", 3)]
    assert len(partners) == 4
    assert list(partners.values()).count("suspended") == 1
    assert regions == {"NA", "EMEA", "LATAM", "APAC"}
    assert roles["admin@acme.test"] == "vendor_admin"
    assert roles["cm@acme.test"] == "channel_manager"
    assert (roles["admin@northwind.test"], roles["rep@northwind.test"]) == (
        "partner_admin",
        "partner_rep",
    )
    assert len(pending) >= 2
    assert notified >= 2
    with in_tenant(globex):
        globex_roles = dict(Membership.objects.values_list("user__email", "role"))
    assert globex_roles["admin@globex.test"] == "vendor_admin"
    assert set(roles) & set(globex_roles) == {"admin@northwind.test"}
    password = lines[-1].rsplit(": ", 1)[1]
    assert User.objects.get(email="cm@acme.test").check_password(password)
    assert any("admin@northwind.test" in line and "globex" in line for line in lines)

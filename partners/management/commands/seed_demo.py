"""`manage.py seed_demo`: demo tenants, partners, people, invitations and notifications.

Idempotent: every record is looked up by its natural key first and created (through the
services, so audit rows are written) only when missing. Running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.errors import ApplicationError
from accounts.models import Membership, Notification, Role, Tenant
from accounts.services.notifications import notification_create
from accounts.services.tenants import tenant_create, user_create_with_membership
from accounts.tenancy import tenant_context
from partners import services
from partners.models import Invitation, PartnerOrganization, PartnerTier

# A published demo credential, printed on purpose; the demo is not a production system.
DEMO_PASSWORD = "prm-demo-2025"  # noqa: S105


@dataclass(frozen=True)
class PartnerSeed:
    name: str
    domain: str
    tier: str
    country: str
    region: str
    suspended: bool = False


@dataclass(frozen=True)
class PersonSeed:
    email: str
    full_name: str
    role: str
    partner: str | None = None


@dataclass(frozen=True)
class InvitationSeed:
    email: str
    role: str
    invited_by: str
    partner: str | None = None


@dataclass(frozen=True)
class TenantSeed:
    slug: str
    name: str
    tiers: tuple[tuple[str, int], ...]
    partners: tuple[PartnerSeed, ...]
    people: tuple[PersonSeed, ...]
    invitations: tuple[InvitationSeed, ...] = ()
    notifications: tuple[tuple[str, str, str], ...] = ()  # (recipient e-mail, verb, message)


def _partner_people(seed: PartnerSeed, admin_name: str, rep_name: str) -> tuple[PersonSeed, ...]:
    return (
        PersonSeed(f"admin@{seed.domain}.test", admin_name, Role.PARTNER_ADMIN, seed.name),
        PersonSeed(f"rep@{seed.domain}.test", rep_name, Role.PARTNER_REP, seed.name),
    )


NORTHWIND = PartnerSeed("Northwind Traders", "northwind", "Gold", "US", "NA")
FABRIKAM = PartnerSeed("Fabrikam Systems", "fabrikam", "Silver", "DE", "EMEA")
TAILSPIN = PartnerSeed("Tailspin Solutions", "tailspin", "Registered", "BR", "LATAM")
WINGTIP = PartnerSeed("Wingtip Networks", "wingtip", "Silver", "AU", "APAC", suspended=True)

ACME = TenantSeed(
    slug="acme",
    name="Acme Software",
    tiers=(("Registered", 1), ("Silver", 2), ("Gold", 3)),
    partners=(NORTHWIND, FABRIKAM, TAILSPIN, WINGTIP),
    people=(
        PersonSeed("admin@acme.test", "Ada Admin", Role.VENDOR_ADMIN),
        PersonSeed("cm@acme.test", "Carlos Channel", Role.CHANNEL_MANAGER),
        *_partner_people(NORTHWIND, "Nora North", "Ned Rep"),
        *_partner_people(FABRIKAM, "Fritz Fabri", "Frieda Rep"),
        *_partner_people(TAILSPIN, "Tania Tail", "Tiago Rep"),
        *_partner_people(WINGTIP, "Wendy Wing", "Will Rep"),
    ),
    invitations=(
        InvitationSeed("newcm@acme.test", Role.CHANNEL_MANAGER, "admin@acme.test"),
        InvitationSeed("sales@fabrikam.test", Role.PARTNER_REP, "admin@acme.test", FABRIKAM.name),
        InvitationSeed(
            "newrep@northwind.test", Role.PARTNER_REP, "admin@northwind.test", NORTHWIND.name
        ),
    ),
    notifications=(
        ("admin@acme.test", "demo_welcome", "Welcome to PRM: your partner program is ready."),
        ("cm@acme.test", "partner_suspended", "Wingtip Networks was suspended."),
        (
            "admin@northwind.test",
            "invitation_sent",
            "Your invitation to newrep@northwind.test is waiting to be accepted.",
        ),
    ),
)

GLOBEX_NORTHWIND = PartnerSeed("Northwind Traders", "northwind", "Premier", "US", "NA")
INITECH = PartnerSeed("Initech", "initech", "Standard", "US", "NA")

GLOBEX = TenantSeed(
    slug="globex",
    name="Globex",
    tiers=(("Standard", 1), ("Premier", 2)),
    partners=(GLOBEX_NORTHWIND, INITECH),
    people=(
        PersonSeed("admin@globex.test", "Gus Globex", Role.VENDOR_ADMIN),
        # Northwind resells for both vendors: its admin belongs to both tenants.
        PersonSeed("admin@northwind.test", "Nora North", Role.PARTNER_ADMIN, GLOBEX_NORTHWIND.name),
        PersonSeed("admin@initech.test", "Ian Initech", Role.PARTNER_ADMIN, INITECH.name),
    ),
    notifications=(
        ("admin@globex.test", "demo_welcome", "Welcome to PRM: your partner program is ready."),
    ),
)


@dataclass
class Seeder:
    """Ensures one tenant's demo records exist; counts what it had to create."""

    seed: TenantSeed
    password: str
    created: int = 0
    tenant: Tenant = field(init=False)
    members: dict[str, Membership] = field(default_factory=dict)
    tiers: dict[str, PartnerTier] = field(default_factory=dict)
    partners: dict[str, PartnerOrganization] = field(default_factory=dict)

    def run(self) -> None:
        self.tenant = self._tenant()
        with tenant_context(self.tenant):
            for person in self.seed.people:
                if person.partner is None:
                    self._member(person)
            admin = self.members[self.seed.people[0].email]
            for name, rank in self.seed.tiers:
                self.tiers[name] = self._tier(admin, name, rank)
            for partner_seed in self.seed.partners:
                self.partners[partner_seed.name] = self._partner(admin, partner_seed)
            for person in self.seed.people:
                if person.partner is not None:
                    self._member(person)
            for partner_seed in self.seed.partners:
                self._suspend_if_needed(admin, partner_seed)
            for invitation in self.seed.invitations:
                self._invitation(invitation)
            for email, verb, message in self.seed.notifications:
                self._notification(email, verb, message)

    def _tenant(self) -> Tenant:
        tenant = Tenant.objects.filter(slug=self.seed.slug).first()
        if tenant is not None:
            return tenant
        admin = self.seed.people[0]
        self.created += 1
        return tenant_create(
            actor=None,
            slug=self.seed.slug,
            name=self.seed.name,
            admin_email=admin.email,
            admin_password=self.password,
            admin_full_name=admin.full_name,
        ).tenant

    def _member(self, person: PersonSeed) -> Membership:
        membership = (
            Membership.objects.for_tenant(self.tenant)
            .select_related("user", "tenant")
            .filter(user__email=person.email)
            .first()
        )
        if membership is None:
            partner = self.partners[person.partner] if person.partner else None
            membership = user_create_with_membership(
                tenant=self.tenant,
                actor=None,
                email=person.email,
                role=person.role,
                partner_id=partner.pk if partner else None,
                password=self.password,
                full_name=person.full_name,
            ).membership
            self.created += 1
        self.members[person.email] = membership
        return membership

    def _tier(self, admin: Membership, name: str, rank: int) -> PartnerTier:
        tier = PartnerTier.objects.for_tenant(self.tenant).filter(name__iexact=name).first()
        if tier is None:
            tier = services.tier_create(tenant=self.tenant, actor=admin, name=name, rank=rank)
            self.created += 1
        return tier

    def _partner(self, admin: Membership, seed: PartnerSeed) -> PartnerOrganization:
        partner = (
            PartnerOrganization.objects.for_tenant(self.tenant)
            .filter(name__iexact=seed.name)
            .first()
        )
        if partner is None:
            cm = next(
                (m.user for m in self.members.values() if m.role == Role.CHANNEL_MANAGER), None
            )
            partner = services.partner_create(
                tenant=self.tenant,
                actor=admin,
                name=seed.name,
                tier=self.tiers[seed.tier],
                country=seed.country,
                region=seed.region,
                channel_manager=cm,
            )
            self.created += 1
        return partner

    def _suspend_if_needed(self, admin: Membership, seed: PartnerSeed) -> None:
        partner = self.partners[seed.name]
        if seed.suspended and partner.is_active:
            self.partners[seed.name] = services.partner_set_status(
                tenant=self.tenant, actor=admin, partner_id=partner.pk, suspended=True
            )
            self.created += 1

    def _invitation(self, seed: InvitationSeed) -> None:
        if Invitation.objects.for_tenant(self.tenant).filter(email__iexact=seed.email).exists():
            return
        partner = self.partners[seed.partner] if seed.partner else None
        services.invitation_create(
            tenant=self.tenant,
            actor=self.members[seed.invited_by],
            email=seed.email,
            role=seed.role,
            partner=partner,
        )
        self.created += 1

    def _notification(self, email: str, verb: str, message: str) -> None:
        recipient = self.members[email].user
        if (
            Notification.objects.for_tenant(self.tenant)
            .filter(recipient=recipient, verb=verb, message=message)
            .exists()
        ):
            return
        notification_create(
            tenant=self.tenant, recipients=[recipient], verb=verb, message=message, email=False
        )
        self.created += 1


class Command(BaseCommand):
    help = "Create (or complete) the demo data: tenants acme and globex. Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help="password of the demo users created by this run",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        seeders = [Seeder(seed, options["password"]) for seed in (ACME, GLOBEX)]
        try:
            for seeder in seeders:
                seeder.run()
        except ApplicationError as error:
            raise CommandError(f"{error.message} {error.fields or ''}".strip()) from error
        created = sum(seeder.created for seeder in seeders)
        done = "." if created else " (everything was already there)."
        self.stdout.write(f"Demo data ready: {created} records created{done}")
        # Apps above this one seed their own demo data (commands are found by name, so no
        # upward import): the pipeline's deals, the deal registrations, then commissions.
        for command in ("seed_demo_pipeline", "seed_demo_deals", "seed_demo_commissions"):
            if command in get_commands():
                call_command(command, stdout=self.stdout)
        self._print_logins(seeders, options["password"])

    def _print_logins(self, seeders: list[Seeder], password: str) -> None:
        rows = [("Tenant", "Role", "E-mail", "Partner organization")]
        for seeder in seeders:
            for person in seeder.seed.people:
                partner = next((p for p in seeder.seed.partners if p.name == person.partner), None)
                note = (
                    f"{partner.name} (suspended)"
                    if partner and partner.suspended
                    else (partner.name if partner else "")
                )
                rows.append((seeder.seed.slug, str(person.role), person.email, note))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        self.stdout.write("")
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[3]]).rstrip())
        self.stdout.write(f"\nSign in at {settings.SITE_URL}/ with these e-mail addresses.")
        self.stdout.write(f"Password of every demo login: {password}")

"""`manage.py seed_demo_deals`: demo deal registrations for the seeded tenants (run by
seed_demo, after the pipeline's demo deals).

Product lines and tier limits are ensured one by one; registrations are made only in a
tenant that has none yet, so running it twice changes nothing. Everything goes through
the services (screening runs synchronously here, as the worker would), so findings,
timelines, protection, opportunities and audit rows are the real thing. Two demo-only
shortcuts age records where no service could: one registration has waited past the review
SLA, and one approval's protection has lapsed before the expiry sweep runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.errors import ApplicationError
from accounts.models import Membership, Role, Tenant
from accounts.services.events import event_dispatch, outbox_pending
from accounts.tenancy import tenant_context
from deals.models import DealRegistration, ProductLine
from deals.services import decisions
from deals.services.alerts import protection_expire
from deals.services.configuration import product_line_create
from deals.services.registrations import (
    extension_request,
    registration_create,
    registration_withdraw,
)
from deals.services.screening import registration_screen
from partners.models import PartnerTier
from partners.services import tier_update
from pipeline.services.opportunities import (
    opportunity_close_lost,
    opportunity_fill_and_close_won,
)

# (code, name) of the demo catalog, besides the default "All products".
PRODUCT_LINES = {
    "acme": (("cloud", "Cloud Suite"), ("security", "Security"), ("analytics", "Analytics")),
    "globex": (("platform", "Globex Platform"), ("support", "Premium Support")),
}
# Tier name -> (auto-approval limit or None, protection days).
TIER_RULES: dict[str, dict[str, tuple[Decimal | None, int]]] = {
    "acme": {
        "Gold": (Decimal("50000.00"), 120),
        "Silver": (Decimal("25000.00"), 90),
        "Registered": (None, 60),
    },
    "globex": {"Premier": (Decimal("30000.00"), 90), "Standard": (None, 90)},
}


@dataclass(frozen=True)
class RegistrationSeed:
    """One demo registration: who submits it, the customer, and where it ends up."""

    submitter: str  # e-mail of a partner member
    customer: str
    website: str
    country: str
    amount: str
    lines: tuple[str, ...]
    outcome: str  # draft | review | overdue | info | approve | auto | extension | reject |
    # duplicate | withdraw | won | lost | expire
    extra: dict[str, Any] = field(default_factory=dict)


APPROVED = ("approve", "extension", "won", "lost", "expire")
WON_DEAL_FIELDS = {
    "budget_confirmed": True,
    "decision_maker": True,
    "need": "Replace the legacy quoting tool",
    "timeline": "Decision this quarter",
    "next_step": "Countersign the order",
    "decision_maker_name": "Dana Ruiz",
}
NORTHWIND, FABRIKAM, TAILSPIN = "rep@northwind.test", "rep@fabrikam.test", "rep@tailspin.test"

REGISTRATIONS: dict[str, tuple[RegistrationSeed, ...]] = {
    "acme": (
        # The partner_conflict pair: Northwind first, Fabrikam the same customer later.
        RegistrationSeed(
            NORTHWIND,
            "Coho Winery",
            "https://www.cohowinery.example",
            "US",
            "82000",
            ("cloud", "analytics"),
            "review",
        ),
        RegistrationSeed(
            FABRIKAM,
            "Coho Winery Inc.",
            "cohowinery.example",
            "US",
            "64000",
            ("cloud",),
            "review",
        ),
        RegistrationSeed(
            TAILSPIN,
            "Blue Yonder Airlines",
            "https://blueyonder.example",
            "BR",
            "140000",
            ("security",),
            "overdue",
        ),
        RegistrationSeed(
            FABRIKAM,
            "Wide World Importers GmbH",
            "https://wideworldimporters.example",
            "DE",
            "18000",
            ("analytics",),
            "review",
        ),
        RegistrationSeed(
            NORTHWIND,
            "Alpine Ski House",
            "https://alpineskihouse.example",
            "US",
            "21000",
            ("cloud",),
            "auto",
        ),
        RegistrationSeed(
            NORTHWIND,
            "Woodgrove Bank",
            "https://woodgrovebank.example",
            "US",
            "35000",
            ("security",),
            "extension",
        ),
        RegistrationSeed(
            FABRIKAM,
            "Trey Research AG",
            "https://treyresearch.example",
            "DE",
            "47000",
            ("cloud",),
            "approve",
        ),
        RegistrationSeed(
            TAILSPIN,
            "Lucerne Publishing",
            "https://lucernepublishing.example",
            "BR",
            "12000",
            ("analytics",),
            "reject",
        ),
        RegistrationSeed(
            TAILSPIN,
            "Lucerne Publishing S.A.",
            "lucernepublishing.example",
            "BR",
            "12500",
            ("analytics",),
            "duplicate",
        ),
        RegistrationSeed(
            FABRIKAM,
            "Fourth Coffee",
            "https://fourthcoffee.example",
            "DE",
            "30000",
            ("cloud",),
            "info",
        ),
        RegistrationSeed(
            TAILSPIN,
            "Graphic Design Institute",
            "https://graphicdesign.example",
            "BR",
            "9000",
            ("security",),
            "withdraw",
        ),
        RegistrationSeed(
            NORTHWIND,
            "City Power & Light",
            "https://cpandl.example",
            "US",
            "44000",
            ("analytics",),
            "won",
        ),
        RegistrationSeed(
            FABRIKAM,
            "Southridge Video",
            "https://southridgevideo.example",
            "DE",
            "26000",
            ("security",),
            "lost",
        ),
        RegistrationSeed(
            NORTHWIND,
            "Relecloud",
            "https://relecloud.example",
            "US",
            "15000",
            ("cloud",),
            "expire",
        ),
        RegistrationSeed(
            TAILSPIN,
            "VanArsdel Ltd",
            "https://vanarsdel.example",
            "BR",
            "52000",
            ("cloud", "security"),
            "draft",
        ),
    ),
    "globex": (
        RegistrationSeed(
            "admin@initech.test",
            "Contoso Bank",
            "https://contosobank.example",
            "US",
            "90000",
            ("platform",),
            "review",
        ),
        RegistrationSeed(
            "admin@northwind.test",
            "Hanson Logistics",
            "https://hansonlogistics.example",
            "US",
            "12000",
            ("support",),
            "auto",
        ),
    ),
}


class Seeder:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        members = Membership.objects.for_tenant(tenant).select_related("user", "tenant")
        self.members = {m.user.email: m for m in members.filter(is_active=True)}
        self.admin = next(m for m in self.members.values() if m.role == Role.VENDOR_ADMIN)
        self.reviewer = next(
            (m for m in self.members.values() if m.role == Role.CHANNEL_MANAGER), self.admin
        )
        self.created = 0

    def configure(self) -> None:
        existing = set(ProductLine.objects.for_tenant(self.tenant).values_list("code", flat=True))
        for code, name in PRODUCT_LINES.get(self.tenant.slug, ()):
            if code not in existing:
                product_line_create(tenant=self.tenant, actor=self.admin, code=code, name=name)
                self.created += 1
        for tier in PartnerTier.objects.for_tenant(self.tenant):
            rules = TIER_RULES.get(self.tenant.slug, {}).get(tier.name)
            if rules is None or (tier.auto_approval_limit, tier.protection_days) == rules:
                continue
            limit, days = rules
            tier_update(
                tenant=self.tenant,
                actor=self.admin,
                tier_id=tier.pk,
                auto_approval_limit=limit,
                protection_days=days,
            )
            self.created += 1

    def register(self) -> None:
        if DealRegistration.objects.for_tenant(self.tenant).exists():
            return
        registrations: dict[str, DealRegistration] = {}
        for seed in REGISTRATIONS.get(self.tenant.slug, ()):
            registrations[seed.customer] = self.registration(seed, registrations)
            self.created += 1
        self.dispatch_events()
        protection_expire(tenant=self.tenant)

    def registration(
        self, seed: RegistrationSeed, earlier: dict[str, DealRegistration]
    ) -> DealRegistration:
        partner = self.members[seed.submitter]
        registration = registration_create(
            tenant=self.tenant,
            actor=partner,
            submit=seed.outcome != "draft",
            customer_name=seed.customer,
            customer_website=seed.website,
            customer_country=seed.country,
            contact_name="Pat Buyer",
            contact_email=f"pat@{seed.website.split('//')[-1].removeprefix('www.')}",
            product_lines=list(seed.lines),
            amount=seed.amount,
            expected_close_date=timezone.localdate() + timedelta(days=75),
            budget_confirmed=True,
            decision_maker=True,
            need="Consolidate tools onto one platform",
            timeline="This half-year",
            description=f"Demo registration ({seed.outcome}).",
        )
        if seed.outcome != "draft":
            registration_screen(tenant=self.tenant, registration_id=registration.pk)
        self.decide(seed, registration.pk, partner, earlier)
        return DealRegistration.objects.for_tenant(self.tenant).get(pk=registration.pk)

    def decide(
        self,
        seed: RegistrationSeed,
        pk: int,
        partner: Membership,
        earlier: dict[str, DealRegistration],
    ) -> None:
        ids: dict[str, Any] = {"tenant": self.tenant, "actor": self.reviewer, "registration_id": pk}
        outcome = seed.outcome
        status = DealRegistration.objects.for_tenant(self.tenant).get(pk=pk).status
        if outcome in APPROVED and status == DealRegistration.Status.IN_REVIEW:
            decisions.registration_approve(**ids, note="Welcome aboard.")
        if outcome == "extension":
            extension_request(
                tenant=self.tenant,
                actor=partner,
                registration_id=pk,
                reason="The customer's procurement moved to next quarter.",
            )
        elif outcome == "reject":
            decisions.registration_reject(
                **ids, reason_code="existing_customer", message="Already buys from us directly."
            )
        elif outcome == "duplicate":
            original = earlier["Lucerne Publishing"]
            decisions.registration_mark_duplicate(
                **ids, original_id=original.pk, message="Registered twice."
            )
        elif outcome == "info":
            decisions.registration_request_info(**ids, message="Which department is buying?")
        elif outcome == "withdraw":
            registration_withdraw(
                tenant=self.tenant, actor=partner, registration_id=pk, note="Customer paused."
            )
        elif outcome in ("won", "lost"):
            self.close(pk, won=outcome == "won")
        elif outcome == "overdue":
            hours = 3 * 24
            DealRegistration.objects.for_tenant(self.tenant).filter(pk=pk).update(
                submitted_at=timezone.now() - timedelta(hours=hours)
            )
        elif outcome == "expire":
            DealRegistration.objects.for_tenant(self.tenant).filter(pk=pk).update(
                protected_until=timezone.localdate() - timedelta(days=1)
            )

    def close(self, pk: int, *, won: bool) -> None:
        registration = DealRegistration.objects.for_tenant(self.tenant).get(pk=pk)
        deal_id = registration.opportunity_id
        if deal_id is None:
            return
        if won:  # closing passes every stage: give the deal what their criteria ask
            opportunity_fill_and_close_won(
                tenant=self.tenant,
                actor=self.admin,
                opportunity_id=deal_id,
                changes=WON_DEAL_FIELDS,
                close_date=timezone.localdate(),
            )
        else:
            opportunity_close_lost(
                tenant=self.tenant,
                actor=self.admin,
                opportunity_id=deal_id,
                reason_code="competitor",
                note="Chose a cheaper tool.",
            )

    def dispatch_events(self) -> None:
        """Deliver the outbox now (the worker would) so won and lost deals convert."""
        for event_id in outbox_pending(tenant=self.tenant):
            event_dispatch(tenant_id=self.tenant.pk, event_id=event_id)


class Command(BaseCommand):
    help = "Create demo deal registrations, product lines and tier limits (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = 0
        try:
            for tenant in Tenant.objects.filter(slug__in=list(REGISTRATIONS)).order_by("slug"):
                with tenant_context(tenant):
                    seeder = Seeder(tenant)
                    seeder.configure()
                    seeder.register()
                    created += seeder.created
        except ApplicationError as error:
            raise CommandError(f"{error.message} {error.fields or ''}".strip()) from error
        self.stdout.write(f"Demo registrations ready: {created} created.")

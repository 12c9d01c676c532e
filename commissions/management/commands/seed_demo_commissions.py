"""`manage.py seed_demo_commissions`: the demo tenants' commission plans and the accruals of
their won partner deals (run by seed_demo, after the demo deals and registrations).

A tenant without a plan gets a version in force (rates for its demo tiers, bonuses for its
product lines) and, where the seed says so, an upcoming version to edit. Then each
`opportunity.won` event without its entry is attributed by the real service, exactly as
the worker does on close: the demo deals closed before any plan existed, so their accruals
are made now. Running it twice changes nothing (one entry per event is a constraint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.errors import ApplicationError
from accounts.models import DomainEvent, Membership, Role, Tenant
from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PlanVersion
from commissions.services.attribution import commission_attribute
from commissions.services.calculation import quarter_start
from commissions.services.plans import plan_version_create
from deals.models import ProductLine
from partners.models import PartnerTier


@dataclass(frozen=True)
class PlanSeed:
    name: str
    effective_from: date
    rates: dict[str, str]  # tier name -> percent
    bonuses: dict[str, str]  # product-line code -> percent
    scalars: dict[str, Any] = field(default_factory=dict)
    upcoming: dict[str, str] | None = None  # tier rates of a version starting next quarter


PLANS = {
    "acme": PlanSeed(
        name="Partner plan 2025",
        effective_from=date(2025, 1, 1),
        rates={"Gold": "12", "Silver": "9", "Registered": "6"},
        bonuses={"cloud": "2", "security": "3", "analytics": "1"},
        scalars={
            "registered_multiplier": "1.0",
            "unregistered_multiplier": "0.5",
            "cap_per_deal": "25000",
            "accelerator_threshold": "150000",
            "accelerator_rate": "1.5",
        },
        upcoming={"Gold": "13", "Silver": "10", "Registered": "6"},
    ),
    "globex": PlanSeed(
        name="Globex partner plan",
        effective_from=date(2025, 1, 1),
        rates={"Premier": "10", "Standard": "7"},
        bonuses={"platform": "2"},
    ),
}


class Seeder:
    def __init__(self, tenant: Tenant, seed: PlanSeed) -> None:
        self.tenant, self.seed = tenant, seed
        self.admin = (
            Membership.objects.for_tenant(tenant)
            .select_related("user", "tenant")
            .filter(role=Role.VENDOR_ADMIN, is_active=True)
            .order_by("pk")
            .first()
        )
        self.created = 0

    def plan(self) -> None:
        if self.admin is None or PlanVersion.objects.for_tenant(self.tenant).exists():
            return
        tiers = dict(PartnerTier.objects.for_tenant(self.tenant).values_list("name", "pk"))
        lines = dict(ProductLine.objects.for_tenant(self.tenant).values_list("code", "pk"))
        seed = self.seed
        plan_version_create(
            tenant=self.tenant,
            actor=self.admin,
            name=seed.name,
            effective_from=seed.effective_from,
            tier_rates={
                tiers[name]: Decimal(rate) for name, rate in seed.rates.items() if name in tiers
            },
            product_bonuses={lines[c]: Decimal(b) for c, b in seed.bonuses.items() if c in lines},
            **seed.scalars,
        )
        self.created += 1
        if seed.upcoming is not None:
            next_quarter = quarter_start(quarter_start(timezone.localdate()) + timedelta(days=92))
            plan_version_create(
                tenant=self.tenant,
                actor=self.admin,
                name=f"{seed.name} (from {next_quarter:%Y-%m})",
                effective_from=next_quarter,
                tier_rates={tiers[n]: Decimal(r) for n, r in seed.upcoming.items() if n in tiers},
            )
            self.created += 1

    def attribute(self) -> None:
        """The accrual of every won event that has none yet (direct deals earn nothing)."""
        attributed = CommissionEntry.objects.filter(source_event=OuterRef("pk"))
        events = (
            DomainEvent.objects.filter(tenant=self.tenant, name="opportunity.won")
            .exclude(Exists(attributed))
            .select_related("tenant")
            .order_by("created_at", "id")
        )
        for event in events:
            if commission_attribute(event=event) is not None:
                self.created += 1


class Command(BaseCommand):
    help = "Create demo commission plans and the accruals of won partner deals (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = 0
        try:
            for tenant in Tenant.objects.filter(slug__in=list(PLANS)).order_by("slug"):
                with tenant_context(tenant):
                    seeder = Seeder(tenant, PLANS[tenant.slug])
                    seeder.plan()
                    seeder.attribute()
                    created += seeder.created
        except ApplicationError as error:
            raise CommandError(f"{error.message} {error.fields or ''}".strip()) from error
        self.stdout.write(f"Demo commissions ready: {created} created.")

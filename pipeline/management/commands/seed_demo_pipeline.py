"""`manage.py seed_demo_pipeline`: demo deals for the seeded tenants (run by seed_demo).

Idempotent: a tenant that already has deals is left alone. Everything goes through the
services, so stages, history, audit rows and events are the real thing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import Membership, Role, Tenant
from accounts.tenancy import tenant_context
from pipeline.models import Opportunity, Stage
from pipeline.selectors.cosell import cosell_eligibility
from pipeline.services.activities import activity_add
from pipeline.services.cosell_requests import cosell_request_create
from pipeline.services.customers import customer_get_or_create
from pipeline.services.opportunities import (
    opportunity_close_lost,
    opportunity_close_won,
    opportunity_create,
    opportunity_move_stage,
    opportunity_update,
)
from pipeline.services.stages import stages_install_defaults

CUSTOMERS = (
    ("Contoso Pharmaceuticals Ltd", "https://www.contoso-pharma.example", "GB"),
    ("Fabrikam Logistics GmbH", "https://fabrikam-logistics.example", "DE"),
    ("Litware Health Inc.", "https://litwarehealth.example", "US"),
    ("Adventure Works Cycles", "https://adventure-works.example", "US"),
    ("Margie's Travel S.A.", "https://margiestravel.example", "ES"),
    ("Proseware Retail B.V.", "https://proseware.example", "NL"),
)
QUALIFIED = {
    "budget_confirmed": True,
    "decision_maker": True,
    "need": "Replace the legacy quoting tool",
    "timeline": "Decision this quarter",
}
# How far each demo deal gets: the number of open stages it moves through, or won / lost.
JOURNEYS = (0, 1, 2, 3, 4, "won", "lost")


class Command(BaseCommand):
    help = "Create demo deals (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = 0
        for tenant in Tenant.objects.filter(slug__in=["acme", "globex"]):
            with tenant_context(tenant):
                stages_install_defaults(tenant=tenant)
                if Opportunity.objects.for_tenant(tenant).exists():
                    continue
                created += self.seed_tenant(tenant)
        self.stdout.write(f"Demo deals ready: {created} created.")

    def seed_tenant(self, tenant: Tenant) -> int:
        admin = Membership.objects.for_tenant(tenant).filter(role=Role.VENDOR_ADMIN).first()
        reps = list(
            Membership.objects.for_tenant(tenant)
            .filter(role=Role.PARTNER_REP, is_active=True, partner__status="active")
            .select_related("user", "partner")
            .order_by("pk")
        )
        if admin is None:
            return 0
        open_stages = list(
            Stage.objects.for_tenant(tenant)
            .filter(kind="open", is_active=True)
            .order_by("position")
        )
        count = 0
        for index, (name, website, country) in enumerate(CUSTOMERS):
            customer, _ = customer_get_or_create(
                tenant=tenant, name=name, website=website, country=country
            )
            actor = reps[index % len(reps)] if reps and index % 3 else admin
            deal = opportunity_create(
                tenant=tenant,
                actor=actor,
                customer=customer,
                owner=actor.user,
                partner_id=actor.partner_id,
                name=f"{customer.name.split()[0]} platform rollout",
                amount=str(20000 + 7500 * index),
                expected_close_date=timezone.localdate() + timedelta(days=20 * index - 15),
            )
            self.work(tenant, actor, admin, deal, JOURNEYS[index % len(JOURNEYS)], open_stages)
            count += 1
        return count

    def work(
        self,
        tenant: Tenant,
        actor: Membership,
        admin: Membership,
        deal: Opportunity,
        journey: int | str,
        open_stages: list[Stage],
    ) -> None:
        activity_add(
            tenant=tenant,
            actor=actor,
            opportunity_id=deal.pk,
            kind="call",
            body="Discovery call with the IT director.",
        )
        if journey == 0:
            return
        opportunity_update(
            tenant=tenant,
            actor=actor,
            opportunity_id=deal.pk,
            **QUALIFIED,
            next_step="Technical demo",
            decision_maker_name="Dana Ruiz",
        )
        steps = len(open_stages) - 1 if journey in ("won", "lost") else int(journey)
        for target in open_stages[1 : steps + 1]:
            opportunity_move_stage(
                tenant=tenant,
                actor=actor,
                opportunity_id=deal.pk,
                stage_id=target.pk,
                note="Demo progress",
            )
        if journey == "won":
            opportunity_close_won(
                tenant=tenant, actor=admin, opportunity_id=deal.pk, close_date=timezone.localdate()
            )
        elif journey == "lost":
            opportunity_close_lost(
                tenant=tenant,
                actor=actor,
                opportunity_id=deal.pk,
                reason_code="competitor",
                note="Chose a cheaper tool.",
            )
        elif actor.is_partner and journey == 2:
            deal.refresh_from_db()
            help_ = next(
                (e for e in cosell_eligibility(tenant=tenant, opportunity=deal) if e.eligible), None
            )
            if help_ is not None:
                cosell_request_create(
                    tenant=tenant,
                    actor=actor,
                    opportunity_id=deal.pk,
                    resource_type=help_.resource_type,
                    need="A demo of the platform to the customer's architects.",
                    need_by=timezone.localdate() + timedelta(days=10),
                    details="Need a solution engineer for the demo.",
                )

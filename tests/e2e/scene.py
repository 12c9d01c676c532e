"""A tenant with something on every page, made through the services, for browser checks that
must see detail pages with real data: registrations (an approved one, a conflicting one in
review, a draft), open and won deals with activities and a co-sell request, commission
entries (accrued, approved, paid in a batch), plan versions (in force and future), an
invitation and notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import DomainEvent
from accounts.services.events import event_dispatch
from accounts.services.notifications import notification_create
from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PayoutBatch, PlanVersion, ProductBonus, TierRate
from commissions.services.ledger import commission_approve, payout_create
from deals.models import DealRegistration, ProductLine
from deals.services.configuration import registration_defaults_install
from deals.services.decisions import registration_approve
from deals.services.registrations import registration_create
from deals.services.screening import registration_screen
from integrations.models import CrmConnection, CrmUserMapping, SyncConflict, SyncError
from integrations.services.crm_mapping import DEFAULT_MAPPINGS
from leads.models import LeadImport
from leads.services.imports import lead_import_create, lead_import_process
from pipeline.models import (
    Activity,
    CoSellResource,
    CoSellResourceType,
    CoSellUnavailability,
    Opportunity,
    Stage,
)
from pipeline.services.activities import activity_add
from pipeline.services.cosell_requests import cosell_request_create
from pipeline.services.opportunities import opportunity_close_won
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World, build_world
from tests.deals.conftest import registration_data
from tests.partners.factories import InvitationFactory
from tests.pipeline.factories import OpportunityFactory, make_ready_to_win


@dataclass
class Scene:
    world: World
    approved: DealRegistration
    in_review: DealRegistration
    draft: DealRegistration
    open_deal: Opportunity
    won_deal: Opportunity
    entry: CommissionEntry
    batch: PayoutBatch
    plan: PlanVersion
    future_plan: PlanVersion
    stage: Stage
    product_line: ProductLine
    cosell_resource: CoSellResource
    cosell_type: CoSellResourceType
    lead_import: LeadImport
    rejected_import: LeadImport


def imports(world: World) -> tuple[LeadImport, LeadImport]:
    """A CSV import of leads stored (its leads not yet routed: the page still polls) and
    one rejected with errors per row, one of them a name with markup."""
    good = b"company_name,country,product_lines,estimated_value\nTailwind Traders,US,cloud,5000\n"
    bad = (
        b"company_name,country,notes\n<i>Evil</i> Corp,US,=cmd()\nNo Country Ltd,,\n"
        b"Good Company,DE,Fine\n"
    )
    found = []
    for name, raw in (("march.csv", good), ("broken.csv", bad)):
        with tenant_context(world.tenant):
            created = lead_import_create(
                tenant=world.tenant, actor=world.channel_manager, file_name=name, raw=raw
            )
        lead_import_process(tenant=world.tenant, import_id=created.pk)
        with tenant_context(world.tenant):
            found.append(LeadImport.objects.get(pk=created.pk))
    return found[0], found[1]


def register(world: World, member, *, submit: bool = True, **fields) -> DealRegistration:  # noqa: ANN001
    with tenant_context(world.tenant):
        registration = registration_create(
            tenant=world.tenant, actor=member, submit=submit, **registration_data(**fields)
        )
    if submit:
        with tenant_context(world.tenant):
            registration_screen(tenant=world.tenant, registration_id=registration.pk)
    with tenant_context(world.tenant):
        return DealRegistration.objects.get(pk=registration.pk)


def won(world: World, name: str, amount: Decimal) -> tuple[Opportunity, CommissionEntry]:
    w = world
    deal = OpportunityFactory(
        tenant=w.tenant, partner=w.partner, owner=w.partner_rep.user, name=name, amount=amount
    )
    make_ready_to_win(w.tenant, deal.pk)
    with tenant_context(w.tenant):
        opportunity_close_won(
            tenant=w.tenant,
            actor=w.channel_manager,
            opportunity_id=deal.pk,
            close_date=timezone.localdate(),
        )
        event = DomainEvent.objects.filter(name="opportunity.won").order_by("-id").first()
    event_dispatch(tenant_id=w.tenant.pk, event_id=event.pk)
    with tenant_context(w.tenant):
        return deal, CommissionEntry.objects.get(opportunity=deal)


def plans(world: World) -> tuple[PlanVersion, PlanVersion]:
    w = world
    with tenant_context(w.tenant):
        cloud = ProductLine.objects.get(code="cloud")
        current = PlanVersion.objects.create(
            tenant=w.tenant, name="Standard", effective_from=date(2020, 1, 1)
        )
        TierRate.objects.create(tenant=w.tenant, version=current, tier=w.tier, rate=10)
        ProductBonus.objects.create(tenant=w.tenant, version=current, product_line=cloud, bonus=2)
        future = PlanVersion.objects.create(
            tenant=w.tenant,
            name="Next year",
            effective_from=timezone.localdate() + timedelta(days=90),
        )
        TierRate.objects.create(tenant=w.tenant, version=future, tier=w.tier, rate=12)
    return current, future


def crm_rows(w: World, deal: Opportunity) -> None:
    """A Salesforce connection with one conflict and one error to show (no CRM is called)."""
    connection = CrmConnection.objects.create(
        tenant=w.tenant,
        system="salesforce",
        field_mapping=DEFAULT_MAPPINGS["salesforce"],
        acting_user=w.vendor_admin.user,
    )
    SyncConflict.objects.create(
        tenant=w.tenant, connection=connection, opportunity=deal, field="amount",
        kind="both_changed", ours="100.00", theirs="120.00", base="90.00",
    )  # fmt: skip
    SyncError.objects.create(
        tenant=w.tenant, connection=connection, opportunity=deal, direction="push",
        message="More than one Salesforce record has this id.", crm_id="006X",
    )  # fmt: skip
    CrmUserMapping.objects.create(
        tenant=w.tenant, connection=connection, crm_user_id="005UNMAPPED0000001",
        name="Bartholomew Featherstonehaugh-Montgomery",
        email="bartholomew.featherstonehaugh-montgomery@subsidiary.example.com",
    )  # fmt: skip
    CrmUserMapping.objects.create(
        tenant=w.tenant, connection=connection, crm_user_id="005MAPPED000000001",
        name="Cara Manager", email="cm@acme.test", membership=w.channel_manager,
    )  # fmt: skip


def build_scene() -> Scene:
    w = build_world()
    with tenant_context(w.tenant):
        stages_install_defaults(tenant=w.tenant)
        registration_defaults_install(tenant=w.tenant)
        cloud = ProductLine.objects.create(tenant=w.tenant, code="cloud", name="Cloud Suite")
    plan, future_plan = plans(w)

    first = register(
        w, w.partner_rep, customer_name="Lakeside Veterinary Clinic", amount=Decimal("1250000")
    )
    with tenant_context(w.tenant):
        approved = registration_approve(
            tenant=w.tenant, actor=w.channel_manager, registration_id=first.pk
        )
    in_review = register(
        w,
        w.other_partner_rep,
        customer_name="Lakeside Veterinary Clinics",
        customer_website="https://lakeside-vets.example",
        contact_email="buyer@lakeside-vets.example",
    )
    draft = register(w, w.partner_rep, submit=False, customer_name="Tailspin Toys")

    with tenant_context(w.tenant):
        open_deal = Opportunity.objects.get(pk=approved.opportunity_id)
        activity_add(
            tenant=w.tenant,
            actor=w.partner_rep,
            opportunity_id=open_deal.pk,
            kind=Activity.Kind.MEETING,
            body="Discovery call with the practice manager",
        )
        cosell_request_create(
            tenant=w.tenant,
            actor=w.partner_rep,
            opportunity_id=open_deal.pk,
            resource_type="marketing_support",
            need="A demo of the platform",
            need_by=timezone.localdate() + timedelta(days=14),
            details="Need a solutions engineer for the demo",
        )
        cosell_resource = CoSellResource.objects.create(
            tenant=w.tenant, person=w.channel_manager, weekly_capacity=3, regions=["NA"]
        )
        cosell_resource.types.set(
            CoSellResourceType.objects.filter(tenant=w.tenant),
            through_defaults={"tenant_id": cosell_resource.tenant_id},
        )
        CoSellUnavailability.objects.create(
            tenant=w.tenant,
            resource=cosell_resource,
            start=timezone.localdate() + timedelta(days=20),
            end=timezone.localdate() + timedelta(days=22),
            note="Conference",
        )
        cosell_type = CoSellResourceType.objects.get(tenant=w.tenant, code="executive_sponsor")
        crm_rows(w, open_deal)

    won_deal, entry = won(w, "Northwind rollout", Decimal("48000"))
    _, paid = won(w, "Northwind upsell", Decimal("1234567.89"))
    with tenant_context(w.tenant):
        commission_approve(tenant=w.tenant, actor=w.channel_manager, entry_id=paid.pk)
        batch = payout_create(
            tenant=w.tenant, actor=w.channel_manager, entry_ids=[paid.pk], reference="Q1-001"
        )
        stage = Stage.objects.filter(kind=Stage.Kind.OPEN).order_by("position").first()
    with tenant_context(w.tenant):
        people = [w.vendor_admin, w.channel_manager, w.partner_admin, w.partner_rep]
        for url in ("", f"/partner/opportunities/{open_deal.pk}/"):
            notification_create(
                tenant=w.tenant,
                recipients=[member.user for member in people],
                verb="test",
                message="Something needs your attention",
                url=url,
                email=False,
            )
    InvitationFactory(tenant=w.tenant, email="new.person@acme.test", invited_by=w.vendor_admin.user)
    InvitationFactory(
        tenant=w.tenant,
        partner=w.partner,
        role="partner_rep",
        email="new.rep@northwind.test",
        invited_by=w.partner_admin.user,
    )
    lead_import, rejected_import = imports(w)
    return Scene(
        world=w,
        approved=approved,
        in_review=in_review,
        draft=draft,
        open_deal=open_deal,
        won_deal=won_deal,
        entry=entry,
        batch=batch,
        plan=plan,
        future_plan=future_plan,
        stage=stage,
        product_line=cloud,
        cosell_resource=cosell_resource,
        cosell_type=cosell_type,
        lead_import=lead_import,
        rejected_import=rejected_import,
    )


def vendor_admin_pages(s: Scene) -> list[str]:
    w = s.world
    return [
        "/vendor/",
        "/vendor/figures/",
        "/vendor/partners/",
        "/vendor/partners/new/",
        f"/vendor/partners/{w.partner.pk}/",
        f"/vendor/partners/{w.partner.pk}/edit/",
        "/vendor/tiers/",
        "/vendor/tiers/new/",
        f"/vendor/tiers/{w.tier.pk}/edit/",
        "/vendor/people/",
        "/vendor/invitations/",
        "/vendor/invitations/new/",
        "/vendor/audit/",
        "/vendor/pipeline/",
        "/vendor/pipeline/new/",
        "/vendor/pipeline/totals/",
        f"/vendor/pipeline/{s.open_deal.pk}/",
        f"/vendor/pipeline/{s.open_deal.pk}/edit/",
        f"/vendor/pipeline/{s.won_deal.pk}/",
        "/vendor/settings/stages/",
        "/vendor/settings/stages/new/",
        f"/vendor/settings/stages/{s.stage.pk}/edit/",
        "/vendor/settings/lost-reasons/",
        "/vendor/settings/cosell/",
        "/vendor/settings/cosell/types/new/",
        f"/vendor/settings/cosell/types/{s.cosell_type.pk}/",
        f"/vendor/settings/cosell/people/{s.cosell_resource.pk}/",
        "/vendor/settings/crm/",
        "/vendor/settings/crm/conflicts/",
        "/vendor/settings/crm/salesforce/",
        "/vendor/settings/crm/hubspot/",
        "/vendor/cosell/",
        "/vendor/cosell/workload/",
        "/vendor/settings/registrations/",
        f"/vendor/settings/registrations/product-lines/{s.product_line.pk}/edit/",
        "/vendor/registrations/",
        f"/vendor/registrations/{s.in_review.pk}/",
        f"/vendor/registrations/{s.approved.pk}/",
        "/vendor/leads/",
        "/vendor/leads/?stale=yes&country=US&value_min=1",
        "/vendor/leads/import/",
        f"/vendor/leads/imports/{s.lead_import.pk}/",
        f"/vendor/leads/imports/{s.rejected_import.pk}/",
        "/vendor/commissions/",
        "/vendor/commissions/totals/",
        "/vendor/commissions/payouts/",
        f"/vendor/commissions/payouts/{s.batch.pk}/",
        "/vendor/commissions/plans/",
        "/vendor/commissions/plans/new/",
        f"/vendor/commissions/plans/{s.future_plan.pk}/edit/",
        f"/vendor/commissions/plans/{s.plan.pk}/preview/",
        "/accounts/profile/",
        "/accounts/password/",
        "/notifications/",
    ]


def channel_manager_pages(s: Scene) -> list[str]:
    return [
        "/vendor/",
        "/vendor/registrations/",
        f"/vendor/registrations/{s.in_review.pk}/",
        "/vendor/pipeline/",
        f"/vendor/pipeline/{s.open_deal.pk}/",
        "/vendor/cosell/",
        "/vendor/cosell/workload/",
        f"/vendor/cosell/people/{s.cosell_resource.pk}/",
        "/vendor/leads/",
        f"/vendor/leads/imports/{s.rejected_import.pk}/",
        "/vendor/commissions/",
        "/vendor/metrics/",
        "/vendor/leads/reports/",
        "/vendor/analytics/cosell-impact/",
        "/notifications/",
    ]


def partner_admin_pages(s: Scene) -> list[str]:
    return [
        "/partner/",
        "/partner/people/",
        "/partner/invitations/",
        "/partner/invitations/new/",
        "/partner/opportunities/",
        "/partner/opportunities/board/",
        f"/partner/opportunities/{s.open_deal.pk}/",
        f"/partner/opportunities/{s.open_deal.pk}/edit/",
        f"/partner/opportunities/{s.won_deal.pk}/",
        "/partner/registrations/",
        "/partner/registrations/new/",
        f"/partner/registrations/{s.approved.pk}/",
        f"/partner/registrations/{s.draft.pk}/",
        f"/partner/registrations/{s.draft.pk}/edit/",
        "/partner/commissions/",
        f"/partner/commissions/{s.entry.pk}/",
        "/partner/commissions/statements/",
        "/accounts/profile/",
        "/notifications/",
    ]


def partner_rep_pages(s: Scene) -> list[str]:
    return [
        "/partner/",
        "/partner/opportunities/",
        f"/partner/opportunities/{s.open_deal.pk}/",
        "/partner/registrations/",
        f"/partner/registrations/{s.approved.pk}/",
        "/partner/commissions/",
        "/partner/metrics/",
        "/partner/leads/",
        "/notifications/",
    ]


ANONYMOUS_PAGES = ["/accounts/login/", "/accounts/password-reset/"]

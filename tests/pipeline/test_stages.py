"""Stage configuration: defaults for a new tenant, and what vendor admins may change."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from accounts.errors import Conflict, PermissionDenied, ValidationFailed
from accounts.models import AuditEntry, DomainEvent
from accounts.services.events import event_dispatch
from accounts.services.tenants import tenant_create
from accounts.tenancy import tenant_context
from pipeline.models import LostReason, PipelineRules, Stage
from pipeline.services import stages as svc
from tests.conftest import World

DEFAULTS = [
    ("Identification", 10, "open"),
    ("Qualification", 20, "open"),
    ("Solution Development", 40, "open"),
    ("Proposal / Evaluation", 60, "open"),
    ("Negotiation / Closing", 80, "open"),
    ("Closed Won", 100, "won"),
    ("Closed Lost", 0, "lost"),
]


def names(tenant) -> list[str]:
    return [s.name for s in Stage.objects.for_tenant(tenant)]


def test_a_new_tenant_gets_the_default_stages_through_its_created_event(db: None):
    with transaction.atomic():
        created = tenant_create(
            actor=None, slug="newco", name="NewCo", admin_email="admin@newco.test"
        )
        tenant = created.tenant
        event = DomainEvent.objects.get(name="tenant.created")
    event_dispatch(tenant_id=tenant.pk, event_id=event.pk)
    with tenant_context(tenant):
        stages = list(Stage.objects.for_tenant(tenant))
        assert [(s.name, s.probability, s.kind) for s in stages] == DEFAULTS
        assert [s.position for s in stages] == [1, 2, 3, 4, 5, 6, 7]
        assert stages[1].entry_criteria == [
            "budget_confirmed",
            "decision_maker",
            "need",
            "timeline",
        ]
        assert PipelineRules.objects.for_tenant(tenant).get().allow_backward is True
        assert LostReason.objects.for_tenant(tenant).count() == 6
        assert svc.stages_install_defaults(tenant=tenant) is False  # once only
        assert Stage.objects.for_tenant(tenant).count() == 7


def test_a_new_stage_goes_after_the_last_open_stage(world: World, stages, in_tenant):
    with in_tenant(world.tenant):
        stage = svc.stage_create(
            tenant=world.tenant,
            actor=world.vendor_admin,
            name=" Technical Win ",
            probability=70,
            entry_criteria=["competitor", "amount"],
            stale_after_days=7,
        )
        assert stage.name == "Technical Win"
        assert stage.entry_criteria == ["amount", "competitor"]  # canonical order
        assert names(world.tenant)[4:] == [
            "Negotiation / Closing",
            "Technical Win",
            "Closed Won",
            "Closed Lost",
        ]
        assert AuditEntry.objects.filter(verb="stage_created").count() == 1


@pytest.mark.parametrize("actor", ["channel_manager", "partner_admin", "partner_rep"])
def test_only_vendor_admins_configure_stages(world: World, stages, in_tenant, actor):
    with in_tenant(world.tenant), pytest.raises(PermissionDenied):
        svc.stage_create(tenant=world.tenant, actor=world.member(actor), name="X", probability=50)
    with in_tenant(world.tenant):
        assert Stage.objects.for_tenant(world.tenant).count() == 7


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"probability": 101}, "probability"),
        ({"probability": -1}, "probability"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "closed won"}, "name"),
        ({"entry_criteria": ["amount", "shoe_size"]}, "entry_criteria"),
        ({"stale_after_days": 0}, "stale_after_days"),
        ({"kind": "won"}, "kind"),
        ({"position": 1}, "position"),
    ],
)
def test_bad_stage_changes_are_refused_and_change_nothing(world, stages, in_tenant, changes, field):
    with in_tenant(world.tenant):
        with pytest.raises(ValidationFailed) as refused:
            svc.stage_update(
                tenant=world.tenant, actor=world.vendor_admin, stage_id=stages[0].pk, **changes
            )
        assert field in refused.value.fields
        stage = Stage.objects.get(pk=stages[0].pk)
        assert (stage.name, stage.probability, stage.entry_criteria) == ("Identification", 10, [])


def test_a_stage_can_be_renamed_and_given_guidance(world, stages, in_tenant):
    with in_tenant(world.tenant):
        svc.stage_update(
            tenant=world.tenant,
            actor=world.vendor_admin,
            stage_id=stages[0].pk,
            name="Discovery",
            guidance="<b>Ask</b> questions",
            probability=5,
        )
        stage = Stage.objects.get(pk=stages[0].pk)
        assert (stage.name, stage.guidance, stage.probability) == (
            "Discovery",
            "<b>Ask</b> questions",
            5,
        )


def test_another_tenants_stage_is_not_found(world, stages, in_tenant):
    with in_tenant(world.other_tenant):
        svc.stages_install_defaults(tenant=world.other_tenant)
        theirs = Stage.objects.for_tenant(world.other_tenant).first()
    with in_tenant(world.tenant), pytest.raises(Exception, match="Not found"):
        svc.stage_update(
            tenant=world.tenant, actor=world.vendor_admin, stage_id=theirs.pk, name="Hijacked"
        )


def test_reordering_moves_open_stages_and_keeps_closing_ones_last(world, stages, in_tenant):
    open_ids = [s.pk for s in stages if s.kind == "open"]
    with in_tenant(world.tenant):
        svc.stage_reorder(
            tenant=world.tenant, actor=world.vendor_admin, stage_ids=list(reversed(open_ids))
        )
        assert names(world.tenant) == [
            "Negotiation / Closing",
            "Proposal / Evaluation",
            "Solution Development",
            "Qualification",
            "Identification",
            "Closed Won",
            "Closed Lost",
        ]


@pytest.mark.parametrize("mangle", ["missing", "duplicate", "closing", "foreign"])
def test_a_bad_order_is_refused(world, stages, in_tenant, mangle):
    open_ids = [s.pk for s in stages if s.kind == "open"]
    ids = {
        "missing": open_ids[1:],
        "duplicate": [*open_ids, open_ids[0]],
        "closing": [*open_ids, stages[-1].pk],
        "foreign": [*open_ids[:-1], 999_999],
    }[mangle]
    with in_tenant(world.tenant):
        with pytest.raises(ValidationFailed):
            svc.stage_reorder(tenant=world.tenant, actor=world.vendor_admin, stage_ids=ids)
        assert names(world.tenant) == [name for name, _, _ in DEFAULTS]


def test_the_won_and_lost_stages_stay_active_and_undeletable(world, stages, in_tenant):
    won, lost = stages[-2], stages[-1]
    with in_tenant(world.tenant):
        for stage in (won, lost):
            with pytest.raises(Conflict):
                svc.stage_set_active(
                    tenant=world.tenant, actor=world.vendor_admin, stage_id=stage.pk, active=False
                )
            with pytest.raises(Conflict):
                svc.stage_delete(tenant=world.tenant, actor=world.vendor_admin, stage_id=stage.pk)
        assert Stage.objects.for_tenant(world.tenant).filter(is_active=True).count() == 7


def test_the_database_allows_one_active_won_stage_only(world, stages, in_tenant):
    with in_tenant(world.tenant), pytest.raises(IntegrityError), transaction.atomic():
        Stage.objects.create(
            tenant=world.tenant, name="Won again", position=9, probability=100, kind="won"
        )


def test_deactivating_and_reactivating_an_open_stage(world, stages, in_tenant):
    with in_tenant(world.tenant):
        svc.stage_set_active(
            tenant=world.tenant, actor=world.vendor_admin, stage_id=stages[2].pk, active=False
        )
        assert Stage.objects.get(pk=stages[2].pk).is_active is False
        with pytest.raises(Conflict, match="already inactive"):
            svc.stage_set_active(
                tenant=world.tenant, actor=world.vendor_admin, stage_id=stages[2].pk, active=False
            )
        svc.stage_set_active(
            tenant=world.tenant, actor=world.vendor_admin, stage_id=stages[2].pk, active=True
        )
        assert Stage.objects.get(pk=stages[2].pk).is_active is True


def test_the_last_active_open_stage_cannot_be_deactivated(world, stages, in_tenant):
    open_stages = [s for s in stages if s.kind == "open"]
    with in_tenant(world.tenant):
        for stage in open_stages[1:]:
            svc.stage_set_active(
                tenant=world.tenant, actor=world.vendor_admin, stage_id=stage.pk, active=False
            )
        with pytest.raises(Conflict, match="At least one open stage"):
            svc.stage_set_active(
                tenant=world.tenant,
                actor=world.vendor_admin,
                stage_id=open_stages[0].pk,
                active=False,
            )


def test_an_unused_open_stage_can_be_deleted(world, stages, in_tenant):
    with in_tenant(world.tenant):
        svc.stage_delete(tenant=world.tenant, actor=world.vendor_admin, stage_id=stages[2].pk)
        assert "Solution Development" not in names(world.tenant)
        assert AuditEntry.objects.filter(verb="stage_deleted").count() == 1


def test_the_movement_rules_are_set_by_vendor_admins(world, stages, in_tenant):
    with in_tenant(world.tenant):
        svc.pipeline_rules_update(
            tenant=world.tenant,
            actor=world.vendor_admin,
            allow_skip_forward=False,
            allow_backward=False,
        )
        rules = PipelineRules.objects.for_tenant(world.tenant).get()
        assert (rules.allow_skip_forward, rules.allow_backward) == (False, False)
        with pytest.raises(PermissionDenied):
            svc.pipeline_rules_update(
                tenant=world.tenant,
                actor=world.channel_manager,
                allow_skip_forward=True,
                allow_backward=True,
            )

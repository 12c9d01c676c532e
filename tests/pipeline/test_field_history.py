"""The field history: written by each service that changes a deal's amount, close date,
stage, status, effective forecast category or owner (one test per path), append-only in
the database, and backfilled from the stage moves for deals that predate it."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import AuditEntry
from accounts.tenancy import tenant_context
from pipeline.models import FieldChange, Opportunity, StageMove
from pipeline.services import opportunities as services
from pipeline.services.customers import customer_get_or_create
from pipeline.services.stages import stage_update
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory

FORCE = {"force": True, "force_reason": "Test"}


def rows(deal: Opportunity, **filters) -> list[tuple[str, str, str, str]]:
    with tenant_context(deal.tenant):
        return list(
            FieldChange.objects.filter(opportunity=deal, **filters)
            .order_by("id")
            .values_list("field", "old_value", "new_value", "source")
        )


@pytest.fixture
def deal(world: World, stages) -> Opportunity:
    with tenant_context(world.tenant):
        customer, _ = customer_get_or_create(tenant=world.tenant, name="Fabrikam Inc")
        return services.opportunity_create(
            tenant=world.tenant,
            actor=world.partner_rep,
            customer=customer,
            name="Rollout",
            owner=world.partner_rep.user,
            partner_id=world.partner.pk,
            amount="1250.5",
            expected_close_date=timezone.localdate() + timedelta(days=20),
        )


def admin(world: World, deal: Opportunity) -> dict:
    return {"tenant": world.tenant, "actor": world.vendor_admin, "opportunity_id": deal.pk}


def test_creating_writes_one_row_per_field_from_nothing(world: World, stages, deal):
    assert rows(deal) == [
        ("amount", "", "1250.50", "created"),
        ("expected_close_date", "", deal.expected_close_date.isoformat(), "created"),
        ("stage", "", str(stages[0].pk), "created"),
        ("status", "", "open", "created"),
        ("forecast_category", "", "pipeline", "created"),
        ("owner", "", str(world.partner_rep.user_id), "created"),
    ]
    with tenant_context(world.tenant):
        assert {r.changed_at for r in FieldChange.objects.filter(opportunity=deal)} == {
            deal.created_at
        }


def test_editing_writes_only_what_changed(world: World, deal):
    later = deal.expected_close_date + timedelta(days=40)
    with tenant_context(world.tenant):
        services.opportunity_update(
            **admin(world, deal), amount="900", expected_close_date=later, next_step="Call"
        )
    assert rows(deal, source="edit") == [
        ("amount", "1250.50", "900.00", "edit"),
        ("expected_close_date", deal.expected_close_date.isoformat(), later.isoformat(), "edit"),
    ]


def test_a_move_that_changes_the_category_writes_stage_and_category(world: World, stages, deal):
    proposal = stages[3]  # 60 %: best case
    with tenant_context(world.tenant):
        services.opportunity_move_stage(**admin(world, deal), stage_id=proposal.pk, **FORCE)
    assert rows(deal, source="move") == [
        ("stage", str(stages[0].pk), str(proposal.pk), "move"),
        ("forecast_category", "pipeline", "best_case", "move"),
    ]


def test_closing_won_writes_stage_status_category_and_amount(world: World, stages, deal):
    with tenant_context(world.tenant):
        services.opportunity_close_won(
            **admin(world, deal), amount="1300", close_date=timezone.localdate(), **FORCE
        )
    assert rows(deal, source="won") == [
        ("amount", "1250.50", "1300.00", "won"),
        ("stage", str(stages[0].pk), str(stages[5].pk), "won"),
        ("status", "open", "won", "won"),
        ("forecast_category", "pipeline", "closed", "won"),
    ]


def test_closing_lost_then_reopening(world: World, stages, deal):
    with tenant_context(world.tenant):
        services.opportunity_close_lost(**admin(world, deal), reason_code="price")
        services.opportunity_reopen(**admin(world, deal))
    assert rows(deal, source="lost") == [
        ("stage", str(stages[0].pk), str(stages[6].pk), "lost"),
        ("status", "open", "lost", "lost"),
        ("forecast_category", "pipeline", "omitted", "lost"),
    ]
    assert rows(deal, source="reopen") == [
        ("stage", str(stages[6].pk), str(stages[0].pk), "reopen"),
        ("status", "lost", "open", "reopen"),
        ("forecast_category", "omitted", "pipeline", "reopen"),
    ]


def test_the_owner_overrides_the_category_history_and_audit(world: World, deal):
    with tenant_context(world.tenant):
        services.opportunity_set_forecast_category(
            tenant=world.tenant, actor=world.partner_rep, opportunity_id=deal.pk, category="commit"
        )
        entry = AuditEntry.objects.filter(verb="opportunity_forecast_category_set").get()
        deal.refresh_from_db()
    assert deal.forecast_category == "commit"
    assert rows(deal, source="category") == [
        ("forecast_category", "pipeline", "commit", "category")
    ]
    assert entry.before["forecast_category"] == "pipeline"
    assert entry.after["forecast_category"] == "commit"


@pytest.mark.parametrize("category", [None, "", "pipeline"])
def test_none_blank_or_the_stages_own_category_clears_the_override(world: World, deal, category):
    kwargs = {"tenant": world.tenant, "actor": world.partner_rep, "opportunity_id": deal.pk}
    with tenant_context(world.tenant):
        services.opportunity_set_forecast_category(**kwargs, category="omitted")
        services.opportunity_set_forecast_category(**kwargs, category=category)
        deal.refresh_from_db()
    assert deal.forecast_category_override == ""
    assert rows(deal, source="category")[-1] == (
        "forecast_category",
        "omitted",
        "pipeline",
        "category",
    )


@pytest.mark.parametrize(
    ("actor", "category", "error"),
    [
        ("partner_rep", "closed", "close the deal as won"),
        ("partner_rep", "maybe", "Unknown forecast category"),
        ("partner_admin", "commit", "Only the deal's owner"),
    ],
)
def test_refused_overrides_change_nothing(world: World, deal, actor, category, error):
    before = rows(deal)
    with tenant_context(world.tenant), pytest.raises(Exception, match=error):
        services.opportunity_set_forecast_category(
            tenant=world.tenant,
            actor=world.member(actor),
            opportunity_id=deal.pk,
            category=category,
        )
    assert rows(deal) == before


def test_a_stage_category_change_writes_a_row_for_each_deal_following_it(
    world: World, stages, deal
):
    with tenant_context(world.tenant):
        other = services.opportunity_create(
            tenant=world.tenant,
            actor=world.vendor_admin,
            customer=deal.customer,
            name="Overridden",
            owner=world.vendor_admin.user,
        )
        services.opportunity_set_forecast_category(**admin(world, other), category="commit")
        stage_update(
            tenant=world.tenant,
            actor=world.vendor_admin,
            stage_id=stages[0].pk,
            forecast_category="best_case",
        )
        assert AuditEntry.objects.filter(verb="stage_updated").get().after == {
            "forecast_category": "best_case"
        }
    assert rows(deal, source="stage_setting") == [
        ("forecast_category", "pipeline", "best_case", "stage_setting")
    ]
    assert rows(other, source="stage_setting") == []  # its override still applies


def test_history_rows_refuse_updates(world: World, deal):
    with (
        tenant_context(world.tenant),
        pytest.raises(IntegrityError, match="append-only"),
        transaction.atomic(),
    ):
        FieldChange.objects.filter(opportunity=deal).update(new_value="1")


def delete_and_check(*deletions) -> None:
    """Delete, then run the deferred checks now (as a commit would)."""
    with transaction.atomic():
        for deletion in deletions:
            deletion.delete()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_history_rows_go_only_with_their_deal(world: World, deal):
    with tenant_context(world.tenant):
        with pytest.raises(IntegrityError, match="append-only"):
            delete_and_check(FieldChange.objects.filter(opportunity=deal))
        assert FieldChange.objects.filter(opportunity=deal).count() == 6

        delete_and_check(StageMove.objects.filter(opportunity=deal), deal)
        assert not FieldChange.objects.filter(opportunity_id=deal.pk).exists()


def test_the_backfill_rebuilds_a_deal_from_its_moves(world: World, stages):
    backfill = importlib.import_module(
        "pipeline.migrations.0009_field_history_append_only_and_backfill"
    ).BACKFILL
    created = timezone.now() - timedelta(days=10)
    with tenant_context(world.tenant):
        deal = OpportunityFactory(
            tenant=world.tenant,
            amount="700.00",
            expected_close_date=timezone.localdate(),
            stage=stages[2],
            created_at=created,
            forecast_category_override="commit",
        )
        for days, (old, new) in ((9, (None, 0)), (5, (0, 3)), (2, (3, 2))):
            StageMove.objects.create(
                tenant=world.tenant,
                opportunity=deal,
                from_stage=None if old is None else stages[old],
                to_stage=stages[new],
                from_status="" if old is None else "open",
                to_status="open",
                created_at=timezone.now() - timedelta(days=days),
            )
        with connection.cursor() as cursor:
            cursor.execute(backfill, {"tenant": world.tenant.pk})
            cursor.execute(backfill, {"tenant": world.tenant.pk})  # idempotent
    s = [str(stage.pk) for stage in stages]
    assert [row[:3] for row in rows(deal)] == [
        ("amount", "", "700.00"),
        ("expected_close_date", "", timezone.localdate().isoformat()),
        ("stage", "", s[0]),
        ("status", "", "open"),
        ("forecast_category", "", "pipeline"),
        ("owner", "", str(deal.owner_id)),
        ("stage", s[0], s[3]),
        ("forecast_category", "pipeline", "best_case"),
        ("stage", s[3], s[2]),
        ("forecast_category", "best_case", "pipeline"),
        ("forecast_category", "pipeline", "commit"),  # today's override
    ]

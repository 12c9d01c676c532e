"""The stored calibration table: the forecast's requests read it and never count a large
history inline; a closing or reopening move enqueues its refresh on commit (debounced);
the refresh task stores the exact table again."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tenancy import tenant_context
from analytics import tasks
from analytics.selectors import calibration_cache
from analytics.selectors.calibration import calibration
from analytics.selectors.calibration_cache import calibration_now
from pipeline.models import Opportunity, StageMove
from tests.analytics.conftest import generate

pytestmark = pytest.mark.django_db

REFRESH = "analytics.tasks.calibration_refresh"


def close_one(world, capture) -> None:
    """An open deal closes as won (a real closing move, saved: the signal fires)."""
    with tenant_context(world.tenant), capture(execute=True):
        deal = Opportunity.objects.for_tenant(world.tenant).filter(status="open").first()
        StageMove.objects.create(
            tenant=world.tenant, opportunity=deal, to_stage=deal.stage, to_status="won"
        )


def test_a_small_history_is_counted_inline_once_then_read_from_the_table(
    world, django_assert_num_queries
):
    generate(world, count=30)
    with tenant_context(world.tenant):
        first = calibration_now(tenant=world.tenant)
        assert first.counts == calibration(tenant=world.tenant).counts
        with django_assert_num_queries(2):  # the latest move, the configured probabilities
            again = calibration_now(tenant=world.tenant)
    assert again.counts == first.counts


def test_after_a_close_the_request_reads_the_last_table_and_enqueues_one_refresh(
    world, sent_tasks, django_capture_on_commit_callbacks, django_assert_num_queries
):
    generate(world, count=30)
    with tenant_context(world.tenant):
        stored = calibration_now(tenant=world.tenant).counts
    close_one(world, django_capture_on_commit_callbacks)
    close_one(world, django_capture_on_commit_callbacks)
    assert sent_tasks == [(REFRESH, (world.tenant.pk,))]  # debounced: one for two closes
    with tenant_context(world.tenant), django_capture_on_commit_callbacks(execute=True):
        with django_assert_num_queries(2):  # no counting inline
            stale = calibration_now(tenant=world.tenant)
        fresh = calibration(tenant=world.tenant).counts
    assert stale.counts == stored != fresh
    assert sent_tasks == [(REFRESH, (world.tenant.pk,))]  # still waiting for that refresh

    tasks.calibration_refresh(world.tenant.pk)  # what the worker runs

    with tenant_context(world.tenant):
        assert calibration_now(tenant=world.tenant).counts == fresh
    close_one(world, django_capture_on_commit_callbacks)  # after a refresh: enqueued again
    assert sent_tasks == [(REFRESH, (world.tenant.pk,))] * 2


def test_moves_of_open_deals_enqueue_nothing(world, sent_tasks, django_capture_on_commit_callbacks):
    generate(world, count=10)
    with tenant_context(world.tenant), django_capture_on_commit_callbacks(execute=True):
        deal = Opportunity.objects.for_tenant(world.tenant).filter(status="open").first()
        StageMove.objects.create(
            tenant=world.tenant, opportunity=deal, to_stage=deal.stage, to_status="open"
        )
    assert sent_tasks == []


def test_a_large_history_is_never_counted_inline(
    world, sent_tasks, django_capture_on_commit_callbacks, monkeypatch, django_assert_num_queries
):
    generated = generate(world, count=30)
    monkeypatch.setattr(calibration_cache, "INLINE_MOVES", 5)
    # The latest move, the bounded count of moves, the configured probabilities.
    with (
        tenant_context(world.tenant),
        django_capture_on_commit_callbacks(execute=True),
        django_assert_num_queries(3),
    ):
        fallback = calibration_now(tenant=world.tenant)
    assert sent_tasks == [(REFRESH, (world.tenant.pk,))]
    deal = next(d for d in generated.deals if d.status == "open")
    configured = Decimal(deal.stage.probability) / 100
    assert fallback.probability(deal.partner_id, deal.stage_id) == configured.quantize(
        Decimal("0.0001")
    )

    with (
        tenant_context(world.tenant),
        django_capture_on_commit_callbacks(execute=True),
        django_assert_num_queries(2),  # not counted again: the empty table is stored
    ):
        assert calibration_now(tenant=world.tenant).counts == {}
    assert sent_tasks == [(REFRESH, (world.tenant.pk,))]  # debounced

    tasks.calibration_refresh_sweep()  # the beat job stores it

    with tenant_context(world.tenant):
        assert (
            calibration_now(tenant=world.tenant).counts == calibration(tenant=world.tenant).counts
        )


def test_the_deal_pages_lookup_never_counts_a_large_history_inline(
    world, sent_tasks, django_capture_on_commit_callbacks, monkeypatch, django_assert_num_queries
):
    """The deal page and the opportunity API read the same stored table on a cold cache."""
    generated = generate(world, count=30)
    monkeypatch.setattr(calibration_cache, "INLINE_MOVES", 5)
    with (
        tenant_context(world.tenant),
        django_capture_on_commit_callbacks(execute=True),
        django_assert_num_queries(3),  # the latest move, the bounded count, the configured
    ):
        lookup = calibration_cache.probability_lookup_for(world.tenant.pk)
    assert sent_tasks == [(REFRESH, (world.tenant.pk,))]
    deal = next(d for d in generated.deals if d.status == "open")
    assert lookup(deal.partner_id, deal.stage_id) == (
        Decimal(deal.stage.probability) / 100
    ).quantize(Decimal("0.0001"))

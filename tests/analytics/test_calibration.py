"""Calibrated probability: beats the configured stage probability where partners' win
rates really differ, never reads outcomes after as_of, and falls back sensibly."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.tenancy import tenant_context
from analytics.selectors.calibration import KAPPA_MAX, calibration, prior_strength
from analytics.selectors.quality import forecast_quality
from pipeline.models import LostReason, Opportunity, StageMove
from tests.analytics.conftest import extra_partners, install_stages
from tests.pipeline.factories import CustomerFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
TODAY = datetime(2026, 12, 1, 9, tzinfo=UTC)
RATES = (0.15, 0.5, 0.85)  # each partner's true chance of winning from the first stage


def history(world, *, deals_per_partner: int = 60, seed: int = 1) -> dict:
    """Deals entering the first stage one hour apart, closing 3 days later, won with their
    partner's known rate; all closed within the last four quarters."""
    rng = random.Random(seed)
    stages = install_stages(world)
    partners = extra_partners(world)
    first, won_stage, lost_stage = stages[0], stages[5], stages[6]
    customer = CustomerFactory(tenant=world.tenant)
    with tenant_context(world.tenant):
        reason = LostReason.objects.for_tenant(world.tenant).first()
        moves, at = [], START
        for index in range(deals_per_partner):
            for partner, rate in zip(partners, RATES, strict=True):
                at += timedelta(hours=1)
                won = rng.random() < rate
                closed = at + timedelta(days=3)
                deal = Opportunity.objects.create(
                    tenant=world.tenant,
                    partner=partner,
                    owner=world.channel_manager.user,
                    customer=customer,
                    name=f"D{index}",
                    currency="USD",
                    amount=Decimal(1000),
                    stage=won_stage if won else lost_stage,
                    status="won" if won else "lost",
                    closed_on=closed.date(),
                    lost_reason=None if won else reason,
                )
                moves += [
                    StageMove(
                        tenant=world.tenant,
                        opportunity=deal,
                        to_stage=first,
                        to_status="open",
                        created_at=at,
                    ),
                    StageMove(
                        tenant=world.tenant,
                        opportunity=deal,
                        to_stage=deal.stage,
                        to_status=deal.status,
                        created_at=closed,
                    ),
                ]
        StageMove.objects.bulk_create(moves)
    return {"partners": partners, "first": first, "end": at}


def test_calibrated_brier_beats_configured_on_known_partner_rates(world):
    history(world)
    with tenant_context(world.tenant):
        quality = forecast_quality(tenant=world.tenant, today=TODAY.date())
    assert quality.deal_count == 180
    assert quality.calibrated_brier < quality.configured_brier
    # ideal (the true rates) ≈ 0.17; the configured 10 % ≈ 0.41 on half won
    assert quality.calibrated_brier < 0.3 < 0.35 < quality.configured_brier


def test_partner_rates_are_learnt_and_shrunk_toward_the_tenant_rate(world):
    data = history(world)
    with tenant_context(world.tenant):
        cal = calibration(tenant=world.tenant, as_of=TODAY)
    first = data["first"].pk
    low, middle, high = (cal.probability(p.pk, first) for p in data["partners"])
    assert low < middle < high
    assert abs(float(low) - 0.15) < 0.12
    assert abs(float(high) - 0.85) < 0.12
    tenant = cal.tenant_rate(first)
    kappa = cal.prior_strength(first)
    assert kappa is not None
    assert 1 <= kappa < KAPPA_MAX
    entered, won = cal.counts[(data["partners"][0].pk, first)]
    raw = Decimal(won) / entered
    mean = sum(k for k, _ in [(w, 0) for _, w in cal.counts.values()]) / Decimal(180)
    shrunk = (won + kappa * float(mean)) / (entered + kappa)
    assert low == Decimal(shrunk).quantize(Decimal("0.0001"))
    assert raw < low < tenant  # between the partner's own rate and the tenant's
    assert cal.probability(None, first) == tenant  # no history of its own: the tenant rate


def test_no_outcome_after_as_of_is_used(world):
    data = history(world, deals_per_partner=20)
    as_of = START + timedelta(days=2)  # before any deal closed
    with tenant_context(world.tenant):
        before = calibration(tenant=world.tenant, as_of=as_of)
        assert before.counts == {}
        assert before.probability(data["partners"][0].pk, data["first"].pk) == Decimal("0.1000")
        middle = START + timedelta(days=3, hours=30)
        cal = calibration(tenant=world.tenant, as_of=middle)
        closed_before = StageMove.objects.filter(
            to_status__in=("won", "lost"), created_at__lt=middle
        ).count()
        # Every later outcome flipped: the calibration as of `middle` does not change.
        StageMove.objects.filter(created_at__gte=middle).update(to_status="won")
        again = calibration(tenant=world.tenant, as_of=middle)
    assert sum(n for n, _ in cal.counts.values()) == closed_before > 0
    assert again.counts == cal.counts


def test_the_replay_predicts_with_the_calibration_as_of_each_entry(world):
    data = history(world, deals_per_partner=15, seed=4)
    from analytics.selectors.quality import replay

    with tenant_context(world.tenant):
        predictions, _ = replay(world.tenant, START.date(), TODAY)
        entries = list(
            StageMove.objects.filter(to_status="open")
            .order_by("created_at", "id")
            .values_list("opportunity__partner_id", "created_at")
        )
        for index in (0, 20, 44):
            partner_id, at = entries[index]
            expected = calibration(tenant=world.tenant, as_of=at).probability(
                partner_id, data["first"].pk
            )
            assert predictions[index].calibrated == float(expected)


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], KAPPA_MAX),
        ([(10, 5)], KAPPA_MAX),  # one partner: nothing to compare
        ([(100, 50), (100, 50)], KAPPA_MAX),  # no spread at all
        ([(100, 0), (100, 0)], KAPPA_MAX),  # tenant rate 0
    ],
)
def test_prior_strength_without_detectable_spread_is_the_maximum(pairs, expected):
    assert prior_strength(pairs) == expected


def test_prior_strength_method_of_moments():
    # rates 0.2 and 0.8 on 100 deals each: mean 0.5, observed variance 0.09, sampling
    # 0.25 × 2 / 200 = 0.0025, between 0.0875 → κ = 0.25 / 0.0875 − 1
    assert prior_strength([(100, 20), (100, 80)]) == pytest.approx(0.25 / 0.0875 - 1)

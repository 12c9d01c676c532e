"""The calculation table: tiers × registered or not × product bonuses × cap × accelerator ×
rounding, through commission_calculate (the code attribution, previews and the open-deal
panel share)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.tenancy import tenant_context
from commissions.models import PlanVersion, ProductBonus, TierRate
from commissions.services.calculation import commission_calculate, quarter_start
from deals.models import ProductLine
from deals.services.decisions import registration_approve
from pipeline.models import Opportunity
from tests.pipeline.factories import OpportunityFactory

CLOSE = date(2026, 8, 20)

# (tier rate %, registered, product lines, cap, accelerator (threshold, rate), prior won in
#  the quarter, amount, expected commission)
CASES = [
    pytest.param(10, False, [], None, None, 0, "10000", "500.00", id="unregistered-half"),
    pytest.param(10, True, [], None, None, 0, "10000", "1000.00", id="registered-full"),
    pytest.param(5, True, [], None, None, 0, "10000", "500.00", id="lower-tier"),
    pytest.param(0, True, [], None, None, 0, "10000", "0.00", id="tier-without-rate"),
    pytest.param(10, True, ["cloud"], None, None, 0, "10000", "1200.00", id="one-bonus"),
    pytest.param(
        10, True, ["cloud", "security"], None, None, 0, "10000", "1500.00", id="two-bonuses"
    ),
    pytest.param(
        10, False, ["cloud"], None, None, 0, "10000", "500.00", id="bonus-needs-registration"
    ),
    pytest.param(10, True, ["cloud"], "1000", None, 0, "10000", "1000.00", id="capped"),
    pytest.param(10, True, [], "5000", None, 0, "10000", "1000.00", id="under-the-cap"),
    pytest.param(10, True, [], None, ("15000", "1"), 0, "10000", "1000.00", id="below-threshold"),
    pytest.param(10, True, [], None, ("15000", "1"), 8000, "10000", "1100.00", id="accelerated"),
    pytest.param(
        10, True, [], "1050", ("15000", "1"), 8000, "10000", "1050.00", id="accelerated-capped"
    ),
    pytest.param(10, False, [], None, None, 0, "12345.67", "617.28", id="round-down"),
    pytest.param(10, False, [], None, None, 0, "0.10", "0.00", id="half-even-to-0.00"),
    pytest.param(10, False, [], None, None, 0, "0.30", "0.02", id="half-even-to-0.02"),
    pytest.param(10, True, [], None, None, 0, "0.25", "0.02", id="half-even-0.025"),
]


def make_version(w, partner, rate, cap, accelerator):
    with tenant_context(w.tenant):
        version = PlanVersion.objects.create(
            tenant=w.tenant,
            name="Table",
            effective_from=date(2020, 1, 1),
            cap_per_deal=Decimal(cap) if cap else None,
            accelerator_threshold=Decimal(accelerator[0]) if accelerator else None,
            accelerator_rate=Decimal(accelerator[1]) if accelerator else None,
        )
        TierRate.objects.create(
            tenant=w.tenant, version=version, tier=partner.tier, rate=Decimal(rate)
        )
        for code, bonus in (("cloud", 2), ("security", 3)):
            ProductBonus.objects.create(
                tenant=w.tenant,
                version=version,
                product_line=ProductLine.objects.get(tenant=w.tenant, code=code),
                bonus=Decimal(bonus),
            )
    return version


@pytest.mark.parametrize(
    ("rate", "registered", "lines", "cap", "accelerator", "prior", "amount", "expected"), CASES
)
def test_calculation_table(
    deals_world, register, rate, registered, lines, cap, accelerator, prior, amount, expected
):
    w = deals_world
    version = make_version(w, w.partner, rate, cap, accelerator)
    if registered:
        registration = register(w.partner_rep, product_lines=lines or ["all-products"])
        with tenant_context(w.tenant):
            registration_approve(
                tenant=w.tenant, actor=w.channel_manager, registration_id=registration.pk
            )
            deal = Opportunity.objects.get(registration=registration)
    else:
        deal = OpportunityFactory(tenant=w.tenant, partner=w.partner, owner=w.partner_rep.user)
    if prior:
        OpportunityFactory(
            tenant=w.tenant,
            partner=w.partner,
            owner=w.partner_rep.user,
            status="won",
            amount=Decimal(prior),
            closed_on=quarter_start(CLOSE) + timedelta(days=3),
        )
    with tenant_context(w.tenant):
        deal = Opportunity.objects.select_related("partner__tier").get(pk=deal.pk)
        breakdown = commission_calculate(
            opportunity=deal, amount=Decimal(amount), close_date=CLOSE, version=version
        )
    assert breakdown.amount == Decimal(expected)
    assert breakdown.registered is registered
    assert breakdown.capped is (cap is not None and Decimal(expected) == Decimal(cap))


def test_won_deals_outside_the_quarter_do_not_count_toward_the_accelerator(
    deals_world,
):
    w = deals_world
    version = make_version(w, w.partner, 10, None, ("15000", "1"))
    OpportunityFactory(
        tenant=w.tenant,
        partner=w.partner,
        owner=w.partner_rep.user,
        status="won",
        amount=Decimal(8000),
        closed_on=quarter_start(CLOSE) - timedelta(days=1),
    )
    OpportunityFactory(
        tenant=w.tenant,
        partner=w.other_partner,
        owner=w.other_partner_rep.user,
        status="won",
        amount=Decimal(8000),
        closed_on=CLOSE,
    )
    deal = OpportunityFactory(tenant=w.tenant, partner=w.partner, owner=w.partner_rep.user)
    with tenant_context(w.tenant):
        deal = Opportunity.objects.select_related("partner__tier").get(pk=deal.pk)
        breakdown = commission_calculate(
            opportunity=deal, amount=Decimal(10000), close_date=CLOSE, version=version
        )
    assert (breakdown.quarter_attainment, breakdown.accelerator) == (Decimal(10000), Decimal(0))


def test_a_direct_deal_has_no_commission(deals_world, plan):
    w = deals_world
    deal = OpportunityFactory(tenant=w.tenant, owner=w.channel_manager.user)
    with tenant_context(w.tenant):
        assert commission_calculate(opportunity=deal, amount=Decimal(100), close_date=CLOSE) is None


@pytest.mark.parametrize(
    ("close", "expected_version"),
    [
        (date(2026, 6, 30), "first"),
        (date(2026, 7, 1), "second"),
        (date(2026, 7, 2), "second"),
        (date(2019, 12, 31), None),
    ],
)
def test_effective_dates_at_their_boundaries(deals_world, plan, close, expected_version):
    w = deals_world
    with tenant_context(w.tenant):
        second = PlanVersion.objects.create(
            tenant=w.tenant, name="Second", effective_from=date(2026, 7, 1)
        )
    deal = OpportunityFactory(tenant=w.tenant, partner=w.partner, owner=w.partner_rep.user)
    with tenant_context(w.tenant):
        deal = Opportunity.objects.select_related("partner__tier").get(pk=deal.pk)
        breakdown = commission_calculate(opportunity=deal, amount=Decimal(100), close_date=close)
    versions = {"first": plan.pk, "second": second.pk, None: None}
    assert (breakdown.version_id if breakdown else None) == versions[expected_version]

"""The "What this deal would earn" panel on both portals' deal pages, added through the
pipeline's panel hook: its figure is `commission_calculate` for the same deal today; a won
deal shows its accrued entries instead; direct deals show nothing; constant query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PlanVersion
from commissions.services.calculation import commission_calculate
from deals.services.decisions import registration_approve
from pipeline import panels
from pipeline.models import Opportunity
from pipeline.services.opportunities import opportunity_close_lost, opportunity_reopen
from tests.commissions.conftest import dispatch_last, entries_of
from tests.pages import assert_constant_queries
from tests.pipeline.factories import OpportunityFactory

PANEL = 'data-testid="commission-panel"'


def deal_page(client, portal: str, deal: Opportunity):
    return client.get(reverse(f"{portal}:opportunity_detail", args=[deal.pk]))


def commission_of(response):
    """The panel's data on a deal page (None when it is not shown)."""
    found = [p for p in response.context["deal_panels"] if "commission" in p.context]
    return found[0].context["commission"] if found else None


def text(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.fixture
def registered_deal(deals_world, plan, register) -> Opportunity:
    """An approved registration's deal: 20,000 with the cloud product line."""
    w = deals_world
    registration = register(w.partner_rep, amount=Decimal("20000"), product_lines=["cloud"])
    with tenant_context(w.tenant):
        registration = registration_approve(
            tenant=w.tenant, actor=w.channel_manager, registration_id=registration.pk
        )
        return Opportunity.objects.select_related("partner__tier").get(
            pk=registration.opportunity_id
        )


@pytest.mark.parametrize(
    ("actor", "portal"),
    [
        ("partner_rep", "partner"),
        ("partner_admin", "partner"),
        ("channel_manager", "vendor"),
        ("vendor_admin", "vendor"),
    ],
)
def test_an_open_deal_shows_what_it_would_earn_computed_as_attribution_does(
    deals_world, registered_deal, client_for, actor, portal
):
    w = deals_world
    response = deal_page(client_for(w.member(actor)), portal, registered_deal)
    assert response.status_code == 200
    with tenant_context(w.tenant):
        expected = commission_calculate(
            opportunity=registered_deal,
            amount=registered_deal.amount,
            close_date=timezone.localdate(),
        )
    commission = commission_of(response)
    assert commission.would_earn == expected.as_json()
    assert expected.amount == Decimal("2400.00")  # 10 % of 20,000 ×1.0 + cloud 2 %
    html = text(response)
    assert "What this deal would earn" in html
    assert '<strong data-testid="breakdown-amount">2,400.00 USD</strong>' in html
    assert "Registered deal ×1" in html
    assert "Cloud Suite +400.00 USD" in html


def test_the_accrual_on_closing_today_is_the_figure_the_panel_showed(
    deals_world, registered_deal, client_for, close_won
):
    w = deals_world
    client = client_for(w.partner_rep)
    shown = commission_of(deal_page(client, "partner", registered_deal)).would_earn["amount"]
    close_won(registered_deal)
    [entry] = entries_of(w.tenant, registered_deal)
    assert entry.amount == Decimal(shown)

    commission = commission_of(deal_page(client, "partner", registered_deal))
    assert (commission.is_open, commission.would_earn) == (False, None)
    assert [e.pk for e in commission.entries] == [entry.pk]
    html = text(deal_page(client, "partner", registered_deal))
    assert "Commission accrued" in html
    assert "What this deal would earn" not in html
    assert '<strong data-testid="breakdown-amount">2,400.00 USD</strong>' in html


def test_a_won_deal_before_attribution_says_nothing_is_accrued_yet(
    deals_world, plan, partner_deal, client_for, in_tenant
):
    w = deals_world
    deal = partner_deal(name="Closed elsewhere")
    with in_tenant(w.tenant):
        Opportunity.objects.filter(pk=deal.pk).update(status=Opportunity.Status.WON)
    response = deal_page(client_for(w.partner_rep), "partner", deal)
    assert commission_of(response).entries == []
    assert "No commission has been accrued for this deal yet." in text(response)


def test_a_direct_deal_shows_no_commission_panel(deals_world, plan, client_for):
    w = deals_world
    direct = OpportunityFactory(tenant=w.tenant, owner=w.channel_manager.user, name="Direct")
    response = deal_page(client_for(w.channel_manager), "vendor", direct)
    assert commission_of(response) is None
    assert PANEL not in response.content.decode()


def test_a_lost_deal_without_entries_shows_nothing(deals_world, plan, partner_deal, client_for):
    w = deals_world
    deal = partner_deal()
    with tenant_context(w.tenant):
        opportunity_close_lost(
            tenant=w.tenant, actor=w.channel_manager, opportunity_id=deal.pk, reason_code="price"
        )
    response = deal_page(client_for(w.partner_rep), "partner", deal)
    assert commission_of(response) is None


def test_a_reopened_deal_would_earn_again_and_lists_its_netted_entries(
    deals_world, plan, partner_deal, close_won, client_for
):
    w = deals_world
    deal = partner_deal(amount=Decimal("10000"))
    close_won(deal)
    with tenant_context(w.tenant):
        opportunity_reopen(tenant=w.tenant, actor=w.channel_manager, opportunity_id=deal.pk)
    dispatch_last(w.tenant, "opportunity.reopened")
    response = deal_page(client_for(w.partner_admin), "partner", deal)
    commission = commission_of(response)
    assert commission.would_earn["amount"] == "500"  # 10 % × 0.5 (not registered)
    assert [(e.kind, e.amount) for e in commission.entries] == [
        ("accrual", Decimal("500.00")),
        ("clawback", Decimal("-500.00")),
    ]
    assert commission.net == Decimal(0)
    assert '<strong data-testid="commission-net">0.00 USD</strong>' in text(response)


def test_without_an_amount_or_a_plan_the_panel_says_why(
    deals_world, plan, partner_deal, client_for, in_tenant
):
    w = deals_world
    deal = partner_deal(amount=None)
    client = client_for(w.partner_rep)
    assert "Enter an amount to see what this deal would earn." in text(
        deal_page(client, "partner", deal)
    )
    with in_tenant(w.tenant):
        Opportunity.objects.filter(pk=deal.pk).update(amount=Decimal(1000))
        PlanVersion.objects.filter(pk=plan.pk).update(
            effective_from=timezone.localdate().replace(year=2999)
        )
    response = deal_page(client, "partner", deal)
    assert commission_of(response).would_earn is None
    assert "No commission plan is in force today." in text(response)


def test_a_partner_rep_never_sees_the_panel_of_another_partners_deal(
    deals_world, plan, partner_deal, client_for
):
    foreign = partner_deal(deals_world.other_partner_admin)
    response = deal_page(client_for(deals_world.partner_rep), "partner", foreign)
    assert response.status_code == 404


def test_a_colleagues_entries_stay_out_of_a_reps_panel_data(
    deals_world, plan, partner_deal, close_won
):
    """The panel reads entries through the member's scope, not just the deal's id."""
    from commissions.panels import deal_entries

    w = deals_world
    deal = partner_deal(w.partner_admin)
    close_won(deal)
    with tenant_context(w.tenant):
        assert deal_entries(deal, w.partner_rep) == []
        assert deal_entries(deal, w.other_partner_admin) == []
        assert len(deal_entries(deal, w.partner_admin)) == 1


def test_the_open_deal_page_query_count_does_not_grow(
    deals_world, registered_deal, partner_deal, close_won, client_for, django_assert_num_queries
):
    def more_won_deals() -> None:
        for _ in range(3):
            close_won(partner_deal())

    assert_constant_queries(
        client_for(deals_world.partner_rep),
        reverse("partner:opportunity_detail", args=[registered_deal.pk]),
        more_won_deals,
        django_assert_num_queries,
    )


def test_the_won_deal_page_query_count_does_not_grow(
    deals_world, plan, partner_deal, close_won, client_for, django_assert_num_queries
):
    w = deals_world
    deal = partner_deal()
    close_won(deal)

    def more_entries() -> None:
        with tenant_context(w.tenant):
            opportunity_reopen(tenant=w.tenant, actor=w.channel_manager, opportunity_id=deal.pk)
        dispatch_last(w.tenant, "opportunity.reopened")
        close_won(deal)
        assert len(entries_of(w.tenant, deal)) == 3

    assert_constant_queries(
        client_for(w.channel_manager),
        reverse("vendor:opportunity_detail", args=[deal.pk]),
        more_entries,
        django_assert_num_queries,
    )


# --- The pipeline's hook ----------------------------------------------------------------------


def test_a_registered_panel_shows_when_its_function_returns_a_context(
    deals_world, plan, partner_deal, client_for, monkeypatch
):
    monkeypatch.setattr(panels, "_PANELS", list(panels._PANELS))
    registered = len(panels._PANELS)  # commissions' and the higher apps' (analytics) panels

    @panels.deal_panel("commissions/panels/deal_commission.html")
    def hidden(opportunity, membership):
        return None

    panels.register_deal_panel("commissions/panels/deal_commission.html", hidden)  # once
    deal = partner_deal()
    response = deal_page(client_for(deals_world.partner_rep), "partner", deal)
    shown = [p.template_name for p in response.context["deal_panels"]]
    assert shown.count("commissions/panels/deal_commission.html") == 1  # not the hidden one
    assert len(panels._PANELS) == registered + 1
    assert response.content.decode().count(PANEL) == 1
    with tenant_context(deals_world.tenant):
        assert not CommissionEntry.objects.exists()

"""The deal page shows the calibrated probability beside the configured one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tenancy import tenant_context
from analytics.selectors.calibration import calibration
from pipeline.models import Opportunity
from tests.analytics.conftest import generate

pytestmark = pytest.mark.django_db


def test_both_portals_show_the_calibrated_probability(world, client_for):
    generate(world, count=60)
    with tenant_context(world.tenant):
        deal = Opportunity.objects.filter(partner=world.partner, status="open").first()
        Opportunity.objects.filter(pk=deal.pk).update(owner=world.partner_rep.user)
        expected = calibration(tenant=world.tenant).probability(deal.partner_id, deal.stage_id)
    shown = f"{expected * 100:.1f} %"
    for membership, url in (
        (world.channel_manager, reverse("vendor:opportunity_detail", args=[deal.pk])),
        (world.partner_rep, reverse("partner:opportunity_detail", args=[deal.pk])),
    ):
        page = client_for(membership).get(url)
        assert page.status_code == 200
        assert 'data-testid="probability-panel"' in page.content.decode()
        assert shown in page.content.decode()


def test_the_opportunity_api_carries_the_calibrated_probability(world):
    from tests.api_clients import api_as

    generate(world, count=60)
    with tenant_context(world.tenant):
        cal = calibration(tenant=world.tenant)
        deals = list(Opportunity.objects.filter(partner=world.partner))
    expected = {
        d.pk: f"{cal.probability(d.partner_id, d.stage_id):.4f}" if d.status == "open" else None
        for d in deals
    }
    body = api_as(world, "partner_admin").get("/api/v1/opportunities/", {"page_size": 100}).json()
    got = {row["id"]: row["calibrated_probability"] for row in body["results"]}
    assert got == expected

"""Pages show labels people read, never the internal codes behind them."""

from __future__ import annotations

from django.urls import reverse

from tests.deals.test_vendor_pages import LITWARE


def test_the_vendor_detail_names_the_rejection_reason_not_its_code(
    deals_world, register, client_for
):
    registration = register(deals_world.partner_rep, **LITWARE)
    client = client_for(deals_world.channel_manager)
    client.post(
        reverse("vendor:registration_reject", args=[registration.pk]),
        {"reason_code": "outside_territory", "message": "Not your region"},
    )
    html = " ".join(
        client.get(reverse("vendor:registration_detail", args=[registration.pk]))
        .content.decode()
        .split()
    )
    assert "outside_territory" not in html.replace('value="outside_territory"', "")
    assert '<dd data-testid="decision"> Outside ' in html


def test_a_finding_says_what_matched_in_words_not_keys(deals_world, register, client_for):
    first = register(deals_world.partner_rep, **LITWARE)
    second = register(deals_world.other_partner_rep, **LITWARE)
    assert first.pk != second.pk
    response = client_for(deals_world.channel_manager).get(
        reverse("vendor:registration_detail", args=[second.pk])
    )
    summary = response.content.decode().split('data-testid="finding-summary"')[1].split("·")[0]
    assert "Matched on web domain, company name" in " ".join(summary.split())
    assert "domain," not in summary.replace("web domain,", "")

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

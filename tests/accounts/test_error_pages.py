"""Errors a view does not handle still answer a proper page and change nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from partners.models import PartnerTier
from tests.conftest import World


def test_an_unhandled_application_error_renders_its_status_and_rolls_back(
    world: World, client_for, in_tenant, settings
):
    settings.ROOT_URLCONF = "tests.accounts.raising_urls"
    response = client_for(world.vendor_admin).get("/test/raise/")
    assert response.status_code == 409
    assert "The record changed meanwhile." in response.content.decode()
    with in_tenant(world.tenant):
        assert not PartnerTier.objects.filter(name="Half-made").exists()


@pytest.mark.parametrize("url", ["/vendor/partners/999999/", "/no-such-page/"])
def test_not_found_pages_use_the_site_layout(world: World, client_for, url):
    response = client_for(world.vendor_admin).get(url)
    assert response.status_code == 404
    assert "Back to your home page" in response.content.decode()


def test_anonymous_not_found(db: None):
    assert Client().get("/no-such-page/").status_code == 404

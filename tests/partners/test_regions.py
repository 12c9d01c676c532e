"""A partner's region defaults from its country when omitted, on the page and the API; one
table (partners/regions.py) maps every country to exactly one region."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_countries.data import COUNTRIES

from partners.models import PartnerOrganization, Region
from partners.regions import ASIA_PACIFIC, EMEA, LATIN_AMERICA, NORTH_AMERICA, region_for_country
from tests.api_clients import api_as
from tests.conftest import World

PARTNERS_URL = "/api/v1/partners/"


def stored_region(world: World, in_tenant, name: str) -> str:
    with in_tenant(world.tenant):
        return PartnerOrganization.objects.get(name=name).region


def test_every_country_has_exactly_one_region():
    groups = [NORTH_AMERICA, LATIN_AMERICA, ASIA_PACIFIC, EMEA]
    assert sum(len(group) for group in groups) == len(COUNTRIES)
    assert set().union(*groups) == set(COUNTRIES)
    assert {region_for_country(code) for code in COUNTRIES} == set(Region.values)


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("US", "NA"),
        ("CA", "NA"),
        ("MX", "LATAM"),
        ("BR", "LATAM"),
        ("JM", "LATAM"),
        ("FR", "EMEA"),
        ("ZA", "EMEA"),
        ("AE", "EMEA"),
        ("TR", "EMEA"),
        ("JP", "APAC"),
        ("IN", "APAC"),
        ("AU", "APAC"),
        ("nz", "APAC"),
    ],
)
def test_region_for_country(country, region):
    assert region_for_country(country) == region


def test_an_unknown_country_has_no_region():
    assert region_for_country("XX") is None


# --- API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("country", "region"), [("US", "NA"), ("BR", "LATAM"), ("JP", "APAC")])
def test_api_create_without_a_region_takes_the_countrys(world: World, in_tenant, country, region):
    response = api_as(world, "vendor_admin").post(
        PARTNERS_URL,
        {"name": "Litware", "tier_id": world.tier.pk, "country": country},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["region"] == region
    assert stored_region(world, in_tenant, "Litware") == region


def test_api_create_with_a_region_keeps_it(world: World, in_tenant):
    response = api_as(world, "vendor_admin").post(
        PARTNERS_URL,
        {"name": "Litware", "tier_id": world.tier.pk, "country": "MX", "region": "NA"},
        format="json",
    )
    assert response.status_code == 201
    assert stored_region(world, in_tenant, "Litware") == "NA"


def test_api_create_with_a_null_region_is_refused(world: World, in_tenant):
    response = api_as(world, "vendor_admin").post(
        PARTNERS_URL,
        {"name": "Litware", "tier_id": world.tier.pk, "country": "MX", "region": None},
        format="json",
    )
    assert response.status_code == 400
    assert "region" in response.json()["error"]["fields"]
    with in_tenant(world.tenant):
        assert not PartnerOrganization.objects.filter(name="Litware").exists()


@pytest.mark.parametrize(
    ("body", "region"),
    [
        ({"country": "JP"}, "APAC"),  # a new country, no region: the country's
        ({"country": "JP", "region": "EMEA"}, "EMEA"),
        ({"name": "Northwind Global"}, "EMEA"),  # untouched
    ],
)
def test_api_update_takes_the_new_countrys_region_when_none_is_given(
    world: World, in_tenant, body, region
):
    response = api_as(world, "vendor_admin").patch(
        f"{PARTNERS_URL}{world.partner.pk}/", body, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["region"] == region
    with in_tenant(world.tenant):
        assert PartnerOrganization.objects.get(pk=world.partner.pk).region == region


# --- Pages -------------------------------------------------------------------------------------


def test_page_create_with_no_region_takes_the_countrys(world: World, client_for, in_tenant):
    response = client_for(world.vendor_admin).post(
        reverse("vendor:partner_create"),
        {"name": "Fabrikam", "tier": world.tier.pk, "country": "BR", "region": ""},
    )
    assert response.status_code == 302, response.context["form"].errors
    assert stored_region(world, in_tenant, "Fabrikam") == "LATAM"


def test_the_create_form_offers_the_countrys_region_as_the_default(world: World, client_for):
    body = client_for(world.vendor_admin).get(reverse("vendor:partner_create")).content.decode()
    assert "From the country" in body


def test_page_edit_of_the_country_alone_moves_the_region(world: World, client_for, in_tenant):
    # The world's partner is in DE / EMEA; the form shows both, the country changes.
    response = client_for(world.vendor_admin).post(
        reverse("vendor:partner_edit", args=[world.partner.pk]),
        {
            "name": world.partner.name,
            "tier": world.tier.pk,
            "country": "US",
            "region": "EMEA",
            "channel_manager": "",
        },
    )
    assert response.status_code == 302
    with in_tenant(world.tenant):
        assert PartnerOrganization.objects.get(pk=world.partner.pk).region == "NA"

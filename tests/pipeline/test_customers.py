"""Customers are found by their normalized keys before a new one is created."""

from __future__ import annotations

import pytest

from accounts.errors import ValidationFailed
from pipeline.models import Customer
from pipeline.services.customers import customer_get_or_create
from tests.conftest import World


def get_or_create(world: World, **fields):
    return customer_get_or_create(tenant=world.tenant, **fields)


def test_a_new_customer_stores_its_match_keys(world: World, in_tenant):
    with in_tenant(world.tenant):
        customer, created = get_or_create(
            world,
            name="The Acme Software GmbH & Co. KG",
            website="https://shop.acme.co.uk/path",
            country="GB",
        )
    assert created
    assert (customer.name_normalized, customer.name_core, customer.root_domain) == (
        "acme software",
        "acme",
        "acme.co.uk",
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            {"name": "Acme Inc", "website": "acme.com"},
            {"name": "ACME Corporation", "website": "https://www.acme.com/"},
        ),
        (
            {"name": "Acme Inc", "website": "acme.com"},
            {"name": "Totally Different", "website": "http://eu.acme.com"},
        ),
        ({"name": "Müller GmbH", "country": "DE"}, {"name": "Muller", "country": "DE"}),
    ],
)
def test_the_same_customer_is_found_again(world, in_tenant, first, second):
    with in_tenant(world.tenant):
        one, _ = get_or_create(world, **first)
        two, created = get_or_create(world, **second)
        assert (two.pk, created) == (one.pk, False)
        assert Customer.objects.count() == 1


def test_same_name_in_another_country_or_tenant_is_another_customer(world, in_tenant):
    with in_tenant(world.tenant):
        one, _ = get_or_create(world, name="Muller", country="DE")
        two, created = get_or_create(world, name="Muller", country="AT")
        assert created
        assert one.pk != two.pk
    with in_tenant(world.other_tenant):
        _, created = customer_get_or_create(tenant=world.other_tenant, name="Muller", country="DE")
        assert created


@pytest.mark.parametrize(
    "fields", [{"name": ""}, {"name": "x" * 201}, {"name": "Ok", "website": "x" * 256}]
)
def test_bad_customer_input_is_refused(world, in_tenant, fields):
    with in_tenant(world.tenant):
        with pytest.raises(ValidationFailed):
            get_or_create(world, **fields)
        assert not Customer.objects.exists()


def test_both_name_keys_have_a_tenant_scoped_trigram_index(db: None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'pipeline_customer'"
        )
        indexes = dict(cursor.fetchall())
    for name, column in (
        ("customer_name_trgm", "name_normalized"),
        ("customer_name_core_trgm", "name_core"),
    ):
        assert "USING gin (tenant_id, " in indexes[name]
        assert f"{column} gin_trgm_ops" in indexes[name]

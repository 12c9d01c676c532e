"""Fixtures of the CRM sync tests: the fake Salesforce and a tenant connected to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from accounts.tenancy import tenant_context
from integrations.models import CrmConnection
from integrations.services.crm_mapping import DEFAULT_MAPPINGS
from integrations.services.crm_settings import crm_connection_save
from pipeline.models import Stage
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World
from tests.integrations.fake_crm import FakeHubSpot, FakeSalesforce, RunningFake, RunningHubSpot


@pytest.fixture
def salesforce() -> Iterator[FakeSalesforce]:
    running = RunningFake()
    with override_settings(CRM_CA_BUNDLE=running.fake.cert):
        yield running.fake
    running.stop()


def connect(world: World, fake: FakeSalesforce, **overrides) -> CrmConnection:
    with tenant_context(world.tenant):
        stages = list(Stage.objects.for_tenant(world.tenant).order_by("position"))
        if not stages:
            stages_install_defaults(tenant=world.tenant)
            stages = list(Stage.objects.for_tenant(world.tenant).order_by("position"))
        mapping = {s.name: s.pk for s in stages}
        return crm_connection_save(
            tenant=world.tenant,
            actor=world.vendor_admin,
            system="salesforce",
            credentials=fake.credentials(),
            field_mapping=overrides.pop("field_mapping", DEFAULT_MAPPINGS["salesforce"]),
            stage_mapping=overrides.pop("stage_mapping", mapping),
            is_active=True,
            **overrides,
        )


@pytest.fixture
def connected(world: World, salesforce: FakeSalesforce) -> CrmConnection:
    return connect(world, salesforce)


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    running = RunningHubSpot()
    with override_settings(CRM_CA_BUNDLE=running.fake.cert):
        yield running.fake  # type: ignore[misc]
    running.stop()


def connect_hubspot(world: World, fake: FakeHubSpot) -> CrmConnection:
    with tenant_context(world.tenant):
        if not Stage.objects.for_tenant(world.tenant).exists():
            stages_install_defaults(tenant=world.tenant)
        mapping = {s.name: s.pk for s in Stage.objects.for_tenant(world.tenant)}
        return crm_connection_save(
            tenant=world.tenant,
            actor=world.vendor_admin,
            system="hubspot",
            credentials=fake.credentials(),
            field_mapping=DEFAULT_MAPPINGS["hubspot"],
            stage_mapping=mapping,
            is_active=True,
            external_id_field="prm_id",
        )

"""Approving a registration opens its deal through the pipeline service, so the deal
starts with its creation history (one row per tracked field, from nothing)."""

from __future__ import annotations

from accounts.tenancy import tenant_context
from deals.services.decisions import registration_approve
from pipeline.models import FieldChange
from tests.conftest import World


def test_an_approved_registration_opens_a_deal_with_its_creation_history(
    deals_world: World, register
):
    registration = register(deals_world.partner_rep)
    with tenant_context(deals_world.tenant):
        registration = registration_approve(
            tenant=deals_world.tenant,
            actor=deals_world.channel_manager,
            registration_id=registration.pk,
        )
        created = list(
            FieldChange.objects.filter(opportunity_id=registration.opportunity_id)
            .order_by("id")
            .values_list("field", "old_value", "source")
        )
    assert created == [(field, "", "created") for field in FieldChange.Field.values]

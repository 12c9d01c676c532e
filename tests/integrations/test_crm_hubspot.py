"""Two-way sync with the fake HubSpot (CRM v3 deals through hubspot-api-client): batch
upsert by the unique property holding our id, 429/5xx retried, a refused token recorded,
the paged search poll bringing changes back, and a both-sides change as a conflict."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_context
from integrations.models import SyncConflict, SyncError
from integrations.services.crm_sync import RETRY, crm_deals_edited_here, crm_pull, crm_push
from pipeline.models import Opportunity, OpportunityExternalId
from pipeline.services.opportunity_edits import opportunity_update
from tests.integrations.crm_fixtures import connect_hubspot
from tests.pipeline.factories import OpportunityFactory

FUTURE = timezone.localdate() + timedelta(days=40)


@pytest.fixture
def linked(world, hubspot):
    connection = connect_hubspot(world, hubspot)
    deals = [
        OpportunityFactory(
            tenant=world.tenant,
            partner=world.partner,
            name=f"Deal {n}",
            amount=Decimal(1000 * (n + 1)),
            expected_close_date=FUTURE,
        )  # fmt: skip
        for n in range(3)
    ]
    return connection, deals


def push(world, connection, deal):
    with tenant_context(world.tenant):
        return crm_push(tenant=world.tenant, connection_id=connection.pk, opportunity_id=deal.pk)


def pull(world, connection):
    with tenant_context(world.tenant):
        return crm_pull(tenant=world.tenant, connection_id=connection.pk)


def test_pushes_create_one_deal_each_however_often_sent(world, hubspot, linked):
    connection, deals = linked

    for _ in range(10):
        for deal in deals:
            push(world, connection, deal)

    assert [len(hubspot.by_prm_id(d.pk)) for d in deals] == [1, 1, 1]
    assert hubspot.by_prm_id(deals[1].pk)[0]["amount"] == "2000.0"
    assert hubspot.by_prm_id(deals[1].pk)[0]["closedate"] == FUTURE.isoformat()
    assert hubspot.count("POST") == 3  # one batch upsert per deal, nothing resent


@pytest.mark.parametrize("status", [429, 502])
def test_rate_limits_and_outages_are_retried(world, hubspot, linked, status):
    connection, deals = linked
    hubspot.fail_next(status)

    assert push(world, connection, deals[0]) == RETRY
    assert push(world, connection, deals[0]) is True
    assert len(hubspot.by_prm_id(deals[0].pk)) == 1


def test_a_refused_token_is_an_error_on_the_status_page(world, hubspot, linked):
    connection, deals = linked
    hubspot.token = "pat-rotated"

    assert push(world, connection, deals[0]) is False

    with tenant_context(world.tenant):
        assert list(SyncError.objects.values_list("message", flat=True)) == [
            "HubSpot refused the access token; reconnect."
        ]


def test_the_paged_poll_brings_changes_back_and_finds_conflicts(world, hubspot, linked):
    connection, deals = linked
    for deal in deals:
        push(world, connection, deal)
    for deal in deals:
        hubspot.edit(hubspot.by_prm_id(deal.pk)[0]["id"], amount="9999.5")
    with tenant_context(world.tenant):
        opportunity_update(
            tenant=world.tenant, actor=world.vendor_admin, opportunity_id=deals[2].pk,
            amount=Decimal("7000"),
        )  # fmt: skip

    assert pull(world, connection) == 2  # three records over two pages; one in conflict

    with tenant_context(world.tenant):
        amounts = dict(Opportunity.objects.values_list("pk", "amount"))
        conflicts = list(SyncConflict.objects.values_list("opportunity_id", "ours", "theirs"))
    assert [amounts[d.pk] for d in deals] == [Decimal("9999.50"), Decimal("9999.50"), Decimal(7000)]
    assert conflicts == [(deals[2].pk, "7000.00", "9999.50")]


def test_a_deal_deleted_in_hubspot_is_unlinked_visibly_once_and_not_recreated(
    world, hubspot, linked
):
    connection, deals = linked
    for deal in deals:
        push(world, connection, deal)
    crm_id = hubspot.by_prm_id(deals[0].pk)[0]["id"]
    hubspot.archive(crm_id)

    assert pull(world, connection) == 1
    pull(world, connection)  # the look-back window reads the deletion again
    with tenant_context(world.tenant):
        opportunity_update(
            tenant=world.tenant, actor=world.vendor_admin, opportunity_id=deals[0].pk,
            name="Renamed here",
        )  # fmt: skip
    assert push(world, connection, deals[0]) is False

    with tenant_context(world.tenant):
        assert Opportunity.objects.filter(pk=deals[0].pk).exists()  # kept here
        assert not OpportunityExternalId.objects.filter(opportunity=deals[0]).exists()
        assert list(SyncError.objects.values_list("message", "crm_id")) == [
            ("Deleted in HubSpot: the deal is kept here, unlinked.", crm_id)
        ]
        assert crm_deals_edited_here(tenant=world.tenant, connection_id=connection.pk) == []
    assert hubspot.by_prm_id(deals[0].pk) == []  # not recreated
    assert len(hubspot.by_prm_id(deals[1].pk)) == 1

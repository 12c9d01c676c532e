"""CRM activities come back into the deal's activity log (CRM → PRM only), against the
fakes: a Salesforce Task on a linked Opportunity and a HubSpot note on a linked deal are
added once each, however often they are read (later polls' look-back window, replayed and
out-of-order delivery); an edit in the CRM changes nothing already shown; an activity of a
deal we do not have (or of one unlinked) stores nothing; another tenant never sees them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_context
from integrations.models import CrmActivityLink, CrmConnection, SyncError
from integrations.services.crm_sync import crm_pull, crm_push
from pipeline.models import Activity, Opportunity
from tests.conftest import World
from tests.integrations.crm_fixtures import connect, connect_hubspot
from tests.pipeline.factories import OpportunityFactory

FUTURE = timezone.localdate() + timedelta(days=40)


def new_deal(tenant, partner, name: str = "Fleet renewal") -> Opportunity:
    return OpportunityFactory(
        tenant=tenant, partner=partner, name=name, amount=Decimal("40000"),
        expected_close_date=FUTURE,
    )  # fmt: skip


def push(tenant, connection: CrmConnection, deal: Opportunity) -> None:
    with tenant_context(tenant):
        crm_push(tenant=tenant, connection_id=connection.pk, opportunity_id=deal.pk)


def pull(tenant, connection: CrmConnection):
    with tenant_context(tenant):
        return crm_pull(tenant=tenant, connection_id=connection.pk)


def log(tenant, deal: Opportunity) -> list[tuple]:
    with tenant_context(tenant):
        return list(
            Activity.objects.filter(opportunity_id=deal.pk)
            .order_by("id")
            .values_list("body", "kind", "vendor_internal")
        )


def links(tenant) -> list[str]:
    with tenant_context(tenant):
        return list(CrmActivityLink.objects.order_by("id").values_list("crm_id", flat=True))


def test_a_salesforce_task_comes_back_once_into_the_deal_log(world: World, salesforce):
    connection = connect(world, salesforce)
    deal = new_deal(world.tenant, world.partner)
    push(world.tenant, connection, deal)
    crm_id = salesforce.by_prm_id(deal.pk)[0]["Id"]
    task = salesforce.add_task(
        crm_id, "Call with CFO", "Budget approved for Q1",
        ActivityDate=(timezone.localdate() - timedelta(days=1)).isoformat(),
    )  # fmt: skip
    salesforce.add_task("001000000000000001", "On an account, not a deal")
    salesforce.add_task(None, "On nothing")

    assert pull(world.tenant, connection) == 1
    assert pull(world.tenant, connection) == 0  # read again in the look-back window
    salesforce.replay_events = True  # every version twice, newest first
    assert pull(world.tenant, connection) == 0

    expected = [("From Salesforce: Call with CFO — Budget approved for Q1", "note", True)]
    assert log(world.tenant, deal) == expected
    assert links(world.tenant) == [task]
    with tenant_context(world.tenant):
        activity = Activity.objects.get(opportunity_id=deal.pk)
    assert activity.occurred_at.date() == timezone.localdate() - timedelta(days=1)

    salesforce.replay_events = False
    salesforce.edit_task(task, Description="Budget approved, PO next week")
    assert pull(world.tenant, connection) == 0
    assert log(world.tenant, deal) == expected  # an edit there changes nothing shown here
    with tenant_context(world.tenant):
        link = CrmActivityLink.objects.get()
    assert (
        link.modstamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        == (salesforce.tasks[task]["SystemModstamp"])
    )


def test_a_task_deleted_before_it_was_read_is_never_added(world: World, salesforce):
    connection = connect(world, salesforce)
    deal = new_deal(world.tenant, world.partner)
    push(world.tenant, connection, deal)
    task = salesforce.add_task(salesforce.by_prm_id(deal.pk)[0]["Id"], "Wrong deal")
    salesforce.delete_task(task)

    assert pull(world.tenant, connection) == 0
    assert log(world.tenant, deal) == []


def test_a_hubspot_note_comes_back_once_into_the_deal_log(world: World, hubspot):
    connection = connect_hubspot(world, hubspot)
    deal = new_deal(world.tenant, world.partner)
    push(world.tenant, connection, deal)
    crm_id = hubspot.by_prm_id(deal.pk)[0]["id"]
    first = hubspot.add_note([crm_id], "<p>Met the buyer &amp; the CFO</p>")
    second = hubspot.add_note([crm_id], "<p>Sent the quote</p>")
    hubspot.add_note(["999999"], "On a deal we do not have")
    hubspot.add_note([], "On no deal")

    assert pull(world.tenant, connection) == 2  # four notes: two pages of the search
    assert pull(world.tenant, connection) == 0
    hubspot.replay_notes = True
    assert pull(world.tenant, connection) == 0
    hubspot.edit_note(first, "<p>Met the buyer</p>")
    assert pull(world.tenant, connection) == 0

    assert log(world.tenant, deal) == [
        ("From HubSpot: Met the buyer & the CFO", "note", True),
        ("From HubSpot: Sent the quote", "note", True),
    ]
    assert links(world.tenant) == [first, second]


def test_activities_of_a_deal_we_do_not_have_store_nothing(world: World, salesforce):
    connection = connect(world, salesforce)
    deal = new_deal(world.tenant, world.partner)
    push(world.tenant, connection, deal)
    crm_id = salesforce.by_prm_id(deal.pk)[0]["Id"]
    salesforce.add_task("006000000000000042", "A deal only the CRM has")
    salesforce.delete(crm_id)  # deleted there: ours is kept, unlinked
    pull(world.tenant, connection)
    salesforce.add_task(crm_id, "On the deleted deal")

    pull(world.tenant, connection)

    assert log(world.tenant, deal) == []
    assert links(world.tenant) == []
    with tenant_context(world.tenant):
        assert not Activity.objects.exists()


def test_another_tenants_connection_never_sees_them(world: World, salesforce):
    ours = connect(world, salesforce)
    deal = new_deal(world.tenant, world.partner)
    push(world.tenant, ours, deal)
    other_world = SimpleNamespace(tenant=world.other_tenant, vendor_admin=world.other_tenant_admin)
    theirs = connect(other_world, salesforce)  # type: ignore[arg-type]
    their_deal = new_deal(world.other_tenant, world.other_tenant_partner, "Their deal")
    push(world.other_tenant, theirs, their_deal)
    task = salesforce.add_task(salesforce.by_prm_id(deal.pk)[0]["Id"], "Ours only")

    assert pull(world.other_tenant, theirs) == 0
    assert pull(world.tenant, ours) == 1

    assert log(world.other_tenant, their_deal) == []
    assert links(world.other_tenant) == []
    with tenant_context(world.other_tenant):
        assert not Activity.objects.exists()  # row-level security: ours are not visible
    assert links(world.tenant) == [task]
    assert log(world.tenant, deal) == [("From Salesforce: Ours only", "note", True)]


def test_notes_the_crm_will_not_let_us_read_do_not_stop_the_deals(world: World, hubspot):
    connection = connect_hubspot(world, hubspot)
    deal = new_deal(world.tenant, world.partner)
    push(world.tenant, connection, deal)
    hubspot.edit(hubspot.by_prm_id(deal.pk)[0]["id"], amount="47000")
    hubspot.refused = {"/crm/v3/objects/notes/search"}

    assert pull(world.tenant, connection) == 1
    assert pull(world.tenant, connection) == 0

    with tenant_context(world.tenant):
        assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("47000.00")
        errors = list(SyncError.objects.values_list("message", flat=True))
    assert errors == ["Activities not read: HubSpot answered 403."]  # once, not every poll


@pytest.mark.parametrize("body", ["", "   "])
def test_an_empty_task_is_linked_but_adds_nothing(world: World, salesforce, body):
    connection = connect(world, salesforce)
    deal = new_deal(world.tenant, world.partner)
    push(world.tenant, connection, deal)
    task = salesforce.add_task(salesforce.by_prm_id(deal.pk)[0]["Id"], body, body)

    assert pull(world.tenant, connection) == 0
    assert pull(world.tenant, connection) == 0

    assert log(world.tenant, deal) == []
    assert links(world.tenant) == [task]

"""Two-way CRM sync against the in-repo fake Salesforce (TLS on 127.0.0.1): push by the
external-id field, token refresh, 429/5xx, 300 on a multiple match, the poll with its
look-back window, duplicate and out-of-order events, deletions, and conflicts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from accounts.tenancy import tenant_context
from integrations.models import CrmConnection, CrmRecordState, SyncConflict, SyncError
from integrations.services.crm_conflicts import sync_conflict_resolve
from integrations.services.crm_sync import RETRY, crm_deals_edited_here, crm_pull, crm_push
from pipeline.models import Activity, Opportunity, OpportunityExternalId, Stage
from pipeline.services.opportunity_edits import opportunity_update
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory

FUTURE = timezone.localdate() + timedelta(days=40)


@pytest.fixture
def deal(world: World, connected: CrmConnection) -> Opportunity:
    return OpportunityFactory(
        tenant=world.tenant,
        partner=world.partner,
        name="Fleet renewal",
        amount=Decimal("40000"),
        expected_close_date=FUTURE,
    )


def push(world: World, connection: CrmConnection, deal: Opportunity):
    with tenant_context(world.tenant):
        return crm_push(tenant=world.tenant, connection_id=connection.pk, opportunity_id=deal.pk)


def pull(world: World, connection: CrmConnection):
    with tenant_context(world.tenant):
        return crm_pull(tenant=world.tenant, connection_id=connection.pk)


def edit_ours(world: World, deal: Opportunity, **changes) -> None:
    with tenant_context(world.tenant):
        opportunity_update(
            tenant=world.tenant, actor=world.vendor_admin, opportunity_id=deal.pk, **changes
        )


def reload(world: World, deal: Opportunity) -> Opportunity:
    with tenant_context(world.tenant):
        return Opportunity.objects.select_related("stage").get(pk=deal.pk)


def open_conflicts(world: World) -> list[tuple]:
    with tenant_context(world.tenant):
        return list(
            SyncConflict.objects.filter(status="open")
            .order_by("field")
            .values_list("field", "kind", "ours", "theirs")
        )


def errors(world: World) -> list[str]:
    with tenant_context(world.tenant):
        return list(SyncError.objects.order_by("id").values_list("message", flat=True))


# --- PRM → CRM ----------------------------------------------------------------------------------


def test_first_push_creates_the_record_with_our_id(world, connected, deal, salesforce):
    assert push(world, connected, deal) is True

    [record] = salesforce.by_prm_id(deal.pk)
    assert record["Name"] == "Fleet renewal"
    assert record["Amount"] == 40000.0
    assert record["CloseDate"] == FUTURE.isoformat()
    assert record["StageName"] == reload(world, deal).stage.name
    with tenant_context(world.tenant):
        link = OpportunityExternalId.objects.get(opportunity=deal)
        assert (link.system, link.external_id) == ("salesforce", record["Id"])


def test_the_same_change_sent_ten_times_is_one_record(world, connected, deal, salesforce):
    results = [push(world, connected, deal) for _ in range(10)]

    assert results == [True] + [False] * 9  # nothing changed: nothing sent again
    assert len(salesforce.by_prm_id(deal.pk)) == 1
    assert salesforce.count("PATCH") == 1


def test_the_upsert_itself_is_idempotent_when_our_state_is_lost(world, connected, deal, salesforce):
    for _ in range(10):
        with tenant_context(world.tenant):
            CrmRecordState.objects.all().delete()  # as if every push were the first
        push(world, connected, deal)

    assert len(salesforce.by_prm_id(deal.pk)) == 1
    assert salesforce.count("PATCH") == 10


def test_an_expired_token_is_refreshed_and_stored_encrypted(world, connected, deal, salesforce):
    push(world, connected, deal)
    salesforce.expire_tokens()
    edit_ours(world, deal, name="Fleet renewal 2")

    assert push(world, connected, deal) is True

    assert salesforce.by_prm_id(deal.pk)[0]["Name"] == "Fleet renewal 2"
    assert 401 in [status for _, _, status in salesforce.calls]
    assert salesforce.count("POST") == 2  # the first token, then the refresh
    with tenant_context(world.tenant):
        stored = CrmConnection.objects.get(pk=connected.pk).credentials
    assert "token-" not in stored
    assert "refresh-1" not in stored


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_outages_are_retried_not_lost(world, connected, deal, salesforce, status):
    salesforce.fail_next(status)

    assert push(world, connected, deal) == RETRY
    assert salesforce.by_prm_id(deal.pk) == []
    assert push(world, connected, deal) is True
    assert len(salesforce.by_prm_id(deal.pk)) == 1
    assert errors(world) == []


def test_a_multiple_match_is_an_error_with_the_record(world, connected, deal, salesforce):
    push(world, connected, deal)
    salesforce.add_copy(salesforce.by_prm_id(deal.pk)[0]["Id"])
    edit_ours(world, deal, name="Renamed")

    assert push(world, connected, deal) is False

    assert errors(world) == ["More than one Salesforce record has this id."]
    with tenant_context(world.tenant):
        assert SyncError.objects.get().opportunity_id == deal.pk


# --- CRM → PRM ----------------------------------------------------------------------------------


def test_crm_changes_come_back_through_the_services(world, connected, deal, salesforce):
    push(world, connected, deal)
    crm_id = salesforce.by_prm_id(deal.pk)[0]["Id"]
    salesforce.edit(crm_id, Amount=52000.5, NextStep="Send quote", Description="Called CFO")

    assert pull(world, connected) == 1

    ours = reload(world, deal)
    assert ours.amount == Decimal("52000.50")
    assert ours.next_step == "Send quote"
    with tenant_context(world.tenant):
        notes = list(Activity.objects.filter(opportunity=deal).values_list("body", flat=True))
    assert notes == ["From Salesforce: Called CFO"]
    assert open_conflicts(world) == []


def test_a_prm_owned_field_is_not_taken_from_the_crm(world, connected, deal, salesforce):
    push(world, connected, deal)
    salesforce.edit(salesforce.by_prm_id(deal.pk)[0]["Id"], Name="Their name")

    pull(world, connected)

    assert reload(world, deal).name == "Fleet renewal"


def test_a_field_changed_on_both_sides_is_a_conflict(world, connected, deal, salesforce):
    push(world, connected, deal)
    crm_id = salesforce.by_prm_id(deal.pk)[0]["Id"]
    edit_ours(world, deal, amount=Decimal("45000"))
    salesforce.edit(crm_id, Amount=47000)

    pull(world, connected)
    push(world, connected, deal)

    assert reload(world, deal).amount == Decimal("45000.00")
    assert salesforce.by_prm_id(deal.pk)[0]["Amount"] == 47000
    assert open_conflicts(world) == [("amount", "both_changed", "45000.00", "47000.00")]


@pytest.mark.parametrize(
    ("resolution", "value", "ours", "theirs"),
    [
        ("keep_ours", "", "45000.00", 45000.0),
        ("take_theirs", "", "47000.00", 47000),
        ("edit", "46000", "46000.00", 46000.0),
    ],
)
def test_resolving_a_conflict(world, connected, deal, salesforce, resolution, value, ours, theirs):
    push(world, connected, deal)
    edit_ours(world, deal, amount=Decimal("45000"))
    salesforce.edit(salesforce.by_prm_id(deal.pk)[0]["Id"], Amount=47000)
    pull(world, connected)
    with tenant_context(world.tenant):
        conflict = SyncConflict.objects.get()
        sync_conflict_resolve(
            tenant=world.tenant,
            actor=world.vendor_admin,
            conflict_id=conflict.pk,
            resolution=resolution,
            value=value,
        )

    push(world, connected, deal)  # what the enqueued push does
    pull(world, connected)

    assert str(reload(world, deal).amount) == ours
    assert salesforce.by_prm_id(deal.pk)[0]["Amount"] == theirs
    assert open_conflicts(world) == []


def test_a_stage_move_our_rules_refuse_is_a_conflict(world, connected, deal, salesforce):
    push(world, connected, deal)
    with tenant_context(world.tenant):
        later = Stage.objects.for_tenant(world.tenant).filter(kind="open").order_by("-position")[0]
    salesforce.edit(salesforce.by_prm_id(deal.pk)[0]["Id"], StageName=later.name)

    pull(world, connected)

    assert reload(world, deal).stage_id != later.pk
    [(field, kind, _, theirs)] = open_conflicts(world)
    assert (field, kind, theirs) == ("stage", "refused", str(later.pk))


def test_an_unmapped_crm_stage_is_a_conflict(world, connected, deal, salesforce):
    push(world, connected, deal)
    salesforce.edit(salesforce.by_prm_id(deal.pk)[0]["Id"], StageName="Id. Decision Makers")

    pull(world, connected)

    [(field, kind, _, theirs)] = open_conflicts(world)
    assert (field, kind, theirs) == ("stage", "refused", "Id. Decision Makers")


def test_duplicate_and_out_of_order_events_apply_the_newest_once(
    world, connected, deal, salesforce
):
    push(world, connected, deal)
    crm_id = salesforce.by_prm_id(deal.pk)[0]["Id"]
    for step in ("First", "Second", "Third"):
        salesforce.edit(crm_id, NextStep=step)
    salesforce.replay_events = True  # every version, twice, newest first

    pull(world, connected)
    pull(world, connected)  # the look-back window reads them all again

    assert reload(world, deal).next_step == "Third"
    with tenant_context(world.tenant):
        edits = AuditEntry.objects.filter(verb="opportunity_updated", subject_id=str(deal.pk))
        assert edits.count() == 1


def test_a_deleted_crm_record_unlinks_the_deal_visibly(world, connected, deal, salesforce):
    push(world, connected, deal)
    crm_id = salesforce.by_prm_id(deal.pk)[0]["Id"]
    salesforce.delete(crm_id)

    pull(world, connected)
    pull(world, connected)  # queryAll's look-back window returns the deletion again
    edit_ours(world, deal, name="Renamed here")

    assert push(world, connected, deal) is False  # not recreated in the CRM
    assert reload(world, deal).name == "Renamed here"
    assert errors(world) == ["Deleted in Salesforce: the deal is kept here, unlinked."]
    assert salesforce.by_prm_id(deal.pk) == []
    with tenant_context(world.tenant):
        assert not OpportunityExternalId.objects.filter(opportunity=deal).exists()
        assert CrmRecordState.objects.get().unlinked_at is not None


def test_a_past_close_date_from_the_crm_is_refused_visibly(world, connected, deal, salesforce):
    push(world, connected, deal)
    past = (timezone.localdate() - timedelta(days=400)).isoformat()
    salesforce.edit(salesforce.by_prm_id(deal.pk)[0]["Id"], CloseDate=past)

    pull(world, connected)

    assert reload(world, deal).expected_close_date == FUTURE
    [(field, kind, _, theirs)] = open_conflicts(world)
    assert (field, kind, theirs) == ("expected_close_date", "refused", past)


def test_the_poll_finds_deals_edited_here_since_their_sync(world, connected, deal, salesforce):
    push(world, connected, deal)
    with tenant_context(world.tenant):
        before = crm_deals_edited_here(tenant=world.tenant, connection_id=connected.pk)
    edit_ours(world, deal, name="Renamed here")
    with tenant_context(world.tenant):
        edited = crm_deals_edited_here(tenant=world.tenant, connection_id=connected.pk)
    push(world, connected, deal)
    with tenant_context(world.tenant):
        after = crm_deals_edited_here(tenant=world.tenant, connection_id=connected.pk)

    assert (before, edited, after) == ([], [deal.pk], [])
    assert salesforce.by_prm_id(deal.pk)[0]["Name"] == "Renamed here"


def test_a_crm_id_already_linked_elsewhere_is_an_error_not_a_crash(
    world, connected, deal, salesforce
):
    other = OpportunityFactory(tenant=world.tenant, name="Linked before")
    with tenant_context(world.tenant):
        OpportunityExternalId.objects.create(
            tenant=world.tenant, opportunity=other, system="salesforce", external_id="006TAKEN"
        )
    salesforce._new_id = lambda: "006TAKEN"  # the CRM hands out an id we already know

    assert push(world, connected, deal) is True

    assert errors(world) == ["This CRM id is already linked to another deal here."]
    assert len(salesforce.by_prm_id(deal.pk)) == 1

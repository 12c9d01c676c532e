"""No database transaction is held while the CRM is called: the fake CRM, on every
request, asks PostgreSQL (its own connection) what the worker's session is doing, and it
must be idle, not "idle in transaction". An edit made here during a pull's HTTP call is
compared with the CRM's change (a conflict where both own the field), not overwritten."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.tenancy import tenant_context
from integrations.models import SyncConflict
from integrations.services.crm_sync import crm_pull, crm_push
from pipeline.models import Opportunity
from pipeline.services.opportunity_edits import opportunity_update
from tests.conftest import build_world
from tests.integrations.crm_fixtures import connect, connect_hubspot
from tests.pipeline.factories import OpportunityFactory

pytestmark = pytest.mark.django_db(transaction=True)
FUTURE = timezone.localdate() + timedelta(days=40)


def _dsn() -> str:
    db = settings.DATABASES["default"]
    return (
        f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} "
        f"user={db['USER']} dbname={db['NAME']}"
    )


def session_state(pid: int) -> str:
    with psycopg.connect(_dsn(), autocommit=True) as other:
        row = other.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    return row[0] if row else "gone"


def watch(fake) -> list[str]:
    """The worker's session state at each CRM request."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    states: list[str] = []
    fake.on_request = lambda request: states.append(f"{request.path}: {session_state(pid)}")
    return states


def deal_of(world):
    return OpportunityFactory(
        tenant=world.tenant, partner=world.partner, name="Fleet renewal",
        amount=Decimal("40000"), expected_close_date=FUTURE,
    )  # fmt: skip


def test_push_and_pull_hold_no_transaction_during_salesforce_calls(salesforce):
    world = build_world()
    connection_ = connect(world, salesforce)
    deal = deal_of(world)
    states = watch(salesforce)

    assert crm_push(tenant=world.tenant.pk, connection_id=connection_.pk, opportunity_id=deal.pk)
    salesforce.edit(salesforce.by_prm_id(deal.pk)[0]["Id"], NextStep="Call back")
    assert crm_pull(tenant=world.tenant.pk, connection_id=connection_.pk) == 1
    with tenant_context(world.tenant):
        opportunity_update(
            tenant=world.tenant, actor=world.vendor_admin, opportunity_id=deal.pk,
            amount=Decimal("41000"),
        )  # fmt: skip
    assert crm_push(tenant=world.tenant.pk, connection_id=connection_.pk, opportunity_id=deal.pk)

    assert len(states) >= 5  # token, upsert, read back, poll, read, upsert
    assert [s for s in states if not s.endswith(": idle")] == []


def test_hubspot_calls_hold_no_transaction_either(hubspot):
    world = build_world()
    connection_ = connect_hubspot(world, hubspot)
    deal = deal_of(world)
    states = watch(hubspot)

    crm_push(tenant=world.tenant.pk, connection_id=connection_.pk, opportunity_id=deal.pk)
    crm_pull(tenant=world.tenant.pk, connection_id=connection_.pk)

    assert len(states) >= 2
    assert [s for s in states if not s.endswith(": idle")] == []


def test_an_edit_here_during_the_pull_call_becomes_a_conflict(salesforce):
    world = build_world()
    connection_ = connect(world, salesforce)
    deal = deal_of(world)
    crm_push(tenant=world.tenant.pk, connection_id=connection_.pk, opportunity_id=deal.pk)
    salesforce.edit(salesforce.by_prm_id(deal.pk)[0]["Id"], Amount=47000)

    def edit_here(request) -> None:  # while the poll's query is in flight
        if "queryAll" not in request.path:
            return
        try:
            with tenant_context(world.tenant):
                opportunity_update(
                    tenant=world.tenant, actor=world.vendor_admin, opportunity_id=deal.pk,
                    amount=Decimal("45000"),
                )  # fmt: skip
        finally:
            from django.db import connection as thread_connection

            thread_connection.close()

    salesforce.on_request = edit_here
    crm_pull(tenant=world.tenant.pk, connection_id=connection_.pk)

    with tenant_context(world.tenant):
        assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("45000.00")
        conflicts = list(SyncConflict.objects.values_list("field", "kind", "ours", "theirs"))
    assert conflicts == [("amount", "both_changed", "45000.00", "47000.00")]


def watch_activities(fake) -> list[str]:
    """As watch(), naming the Salesforce Task query apart from the deals' query."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    states: list[str] = []

    def record(request) -> None:
        what = "Task" if " FROM Task " in request.args.get("q", "") else request.path
        states.append(f"{what}: {session_state(pid)}")

    fake.on_request = record
    return states


def test_the_salesforce_task_request_holds_no_transaction(salesforce):
    world = build_world()
    connection_ = connect(world, salesforce)
    deal = deal_of(world)
    crm_push(tenant=world.tenant.pk, connection_id=connection_.pk, opportunity_id=deal.pk)
    salesforce.add_task(salesforce.by_prm_id(deal.pk)[0]["Id"], "Call", "Budget approved")
    states = watch_activities(salesforce)

    assert crm_pull(tenant=world.tenant.pk, connection_id=connection_.pk) == 1

    assert "Task: idle" in states
    assert [s for s in states if not s.endswith(": idle")] == []


def test_the_hubspot_notes_requests_hold_no_transaction(hubspot):
    world = build_world()
    connection_ = connect_hubspot(world, hubspot)
    deal = deal_of(world)
    crm_push(tenant=world.tenant.pk, connection_id=connection_.pk, opportunity_id=deal.pk)
    hubspot.add_note([hubspot.by_prm_id(deal.pk)[0]["id"]], "Met the buyer")
    states = watch_activities(hubspot)

    assert crm_pull(tenant=world.tenant.pk, connection_id=connection_.pk) == 1

    assert "/crm/v3/objects/notes/search: idle" in states
    assert "/crm/v4/associations/notes/deals/batch/read: idle" in states
    assert [s for s in states if not s.endswith(": idle")] == []

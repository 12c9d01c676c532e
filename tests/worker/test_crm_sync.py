"""CRM sync with a real Celery worker: a registration auto-approved by the worker's
screening reaches the fake Salesforce (outbox → handler → push task), once, whatever
number of times its events are dispatched again; the poll task brings the CRM's
changes back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tenancy import tenant_context
from deals.models import DealRegistration
from pipeline.models import Opportunity
from tests.integrations import crm_fixtures
from tests.integrations.crm_fixtures import connect
from tests.worker import test_registration_screening as screening
from tests.worker.conftest import TaskLog, send_task, wait_until
from tests.worker.test_registration_screening import approved

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
committed_world = screening.committed_world  # the fixtures, shared
salesforce = crm_fixtures.salesforce


def test_an_approved_registration_appears_in_the_crm_once(
    committed_world, salesforce, worker, task_log: TaskLog
):
    w = committed_world
    connection = connect(w, salesforce)

    registration_id = approved(w, w.partner_rep, amount=Decimal("42000.00"))

    [record] = wait_until(lambda: salesforce.by_prm_id(deal_of(w, registration_id)), what="push")
    assert record["Amount"] == 42000.0
    for _ in range(10):  # the same change resent ten times
        send_task("integrations.tasks.crm_push", w.tenant.pk, connection.pk, record["PRM_Id__c"])
    task_log.wait("integrations.tasks.crm_push", count=11)
    assert len(salesforce.by_prm_id(record["PRM_Id__c"])) == 1
    assert salesforce.count("PATCH") == 1


def test_the_poll_task_brings_crm_changes_back(
    committed_world, salesforce, worker, task_log: TaskLog
):
    w = committed_world
    connection = connect(w, salesforce)
    registration_id = approved(w, w.partner_rep)
    deal_id = deal_of(w, registration_id)
    [record] = wait_until(lambda: salesforce.by_prm_id(deal_id), what="push")

    salesforce.edit(record["Id"], NextStep="Call the CFO")
    send_task("integrations.tasks.crm_poll_sweep")

    def next_step() -> str:
        with tenant_context(w.tenant):
            return Opportunity.objects.get(pk=deal_id).next_step

    wait_until(lambda: next_step() == "Call the CFO", what="the CRM's change")
    assert connection.pk


def deal_of(world, registration_id: int) -> int:
    with tenant_context(world.tenant):
        return DealRegistration.objects.get(pk=registration_id).opportunity_id

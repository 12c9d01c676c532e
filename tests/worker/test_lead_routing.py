"""Lead routing with a real Celery worker on the real broker and PostgreSQL: a created
lead is routed by the task its creation enqueues on commit; the beat sweep expires an
offer past its window and the worker routes the lead to the next candidate (never back to
the partner that timed out); a decline does the same; the last candidate's timeout sends
the lead to the routing queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.worker import WorkController
from django.utils import timezone

from accounts.tenancy import tenant_context
from leads.models import Lead, LeadOffer
from leads.services.offers import offer_decline
from tests.conftest import World
from tests.leads.conftest import make_lead, with_lead_routing
from tests.worker.conftest import TaskLog, send_task, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROUTE = "leads.tasks.lead_route"
SWEEP = "leads.tasks.lead_offer_sweep"


@pytest.fixture
def leads_world(world: World) -> World:
    return with_lead_routing(world)


def offers(world, lead: Lead) -> list[tuple[int, str]]:
    with tenant_context(world.tenant):
        return list(
            LeadOffer.objects.filter(lead=lead).order_by("id").values_list("partner_id", "status")
        )


def status_of(world, lead: Lead) -> str:
    with tenant_context(world.tenant):
        return Lead.objects.get(pk=lead.pk).status


def end_window(world, lead: Lead) -> None:
    with tenant_context(world.tenant):
        LeadOffer.objects.filter(lead=lead, status="offered").update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )


def test_a_created_lead_is_routed_by_the_worker(
    leads_world, worker: WorkController, task_log: TaskLog
):
    lead = make_lead(leads_world)

    runs = task_log.wait(ROUTE)

    assert runs[0].args == (leads_world.tenant.pk, lead.pk)
    assert runs[0].retval == "offered"
    assert offers(leads_world, lead) == [(leads_world.partner.pk, "offered")]


def test_expiry_reroutes_to_the_next_candidate_then_queues(
    leads_world, worker: WorkController, task_log: TaskLog
):
    lead = make_lead(leads_world)
    task_log.wait(ROUTE)

    end_window(leads_world, lead)
    send_task(SWEEP)
    wait_until(lambda: len(offers(leads_world, lead)) == 2, what="the second offer")

    assert offers(leads_world, lead) == [
        (leads_world.partner.pk, "expired"),
        (leads_world.other_partner.pk, "offered"),
    ]

    end_window(leads_world, lead)
    send_task(SWEEP)
    wait_until(lambda: status_of(leads_world, lead) == "queued", what="the routing queue")

    assert offers(leads_world, lead) == [
        (leads_world.partner.pk, "expired"),
        (leads_world.other_partner.pk, "expired"),
    ]


def test_a_decline_is_rerouted_by_the_worker(
    leads_world, worker: WorkController, task_log: TaskLog
):
    lead = make_lead(leads_world)
    task_log.wait(ROUTE)

    with tenant_context(leads_world.tenant):
        offer_decline(
            tenant=leads_world.tenant,
            actor=leads_world.partner_admin,
            lead_id=lead.pk,
            reason_code="not_a_fit",
            note="",
        )
    task_log.wait(ROUTE, count=2)

    assert offers(leads_world, lead) == [
        (leads_world.partner.pk, "declined"),
        (leads_world.other_partner.pk, "offered"),
    ]

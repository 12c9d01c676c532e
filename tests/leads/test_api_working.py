"""/api/v1/leads/{id}/status/ and /convert/: the accepting partner works the lead and
converts it into a submitted registration, pre-filled, screened (its task is enqueued on
commit) and keeping the lead's source. Anyone else gets a 403 or 404; bad input a 400
and nothing changes."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_context
from deals.models import DealRegistration
from leads.models import Lead
from tests.api_clients import api_as
from tests.deals.conftest import submit_tasks
from tests.leads.conftest import event_dispatch_of, make_lead, reload, route


def url(lead: Lead, action: str) -> str:
    return f"/api/v1/leads/{lead.pk}/{action}/"


@pytest.fixture
def accepted(leads_world) -> Lead:
    lead = make_lead(leads_world)
    route(leads_world, lead)
    assert api_as(leads_world, "partner_rep").post(url(lead, "accept")).status_code == 200
    return lead


def registrations(world) -> list[DealRegistration]:
    with tenant_context(world.tenant):
        return list(DealRegistration.objects.prefetch_related("product_lines"))


def test_the_status_moves_forward(leads_world, accepted):
    client = api_as(leads_world, "partner_admin")

    contacted = client.post(
        url(accepted, "status"), {"status": "contacted", "note": "Called"}, format="json"
    )
    qualified = client.post(url(accepted, "status"), {"status": "qualified"}, format="json")
    back = client.post(url(accepted, "status"), {"status": "contacted"}, format="json")

    assert (contacted.status_code, qualified.status_code, back.status_code) == (200, 200, 409)
    assert reload(leads_world, accepted).status == "qualified"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "won"},
        {"status": "disqualified"},
        {"status": "contacted", "note": "x" * 1001},
        {},
    ],
)
def test_a_bad_status_is_a_400(leads_world, accepted, body):
    response = api_as(leads_world, "partner_rep").post(url(accepted, "status"), body, format="json")

    assert response.status_code == 400
    assert reload(leads_world, accepted).status == "accepted"


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (None, 401),
        ("channel_manager", 403),
        ("other_partner_admin", 404),
        ("other_tenant_partner_admin", 404),
    ],
)
def test_only_the_accepting_partner_works_the_lead(leads_world, accepted, actor, status):
    client = api_as(leads_world, actor)

    changed = client.post(url(accepted, "status"), {"status": "contacted"}, format="json")
    converted = client.post(url(accepted, "convert"), {}, format="json")

    assert (changed.status_code, converted.status_code) == (status, status)
    assert reload(leads_world, accepted).status == "accepted"
    assert registrations(leads_world) == []


def test_a_partner_that_declined_cannot_work_it(leads_world):
    lead = make_lead(leads_world)
    route(leads_world, lead)
    api_as(leads_world, "partner_admin").post(
        url(lead, "decline"), {"reason_code": "not_a_fit"}, format="json"
    )
    route(leads_world, lead)
    api_as(leads_world, "other_partner_rep").post(url(lead, "accept"))

    response = api_as(leads_world, "partner_admin").post(url(lead, "convert"), {}, format="json")

    assert response.status_code == 404


def test_convert_submits_a_prefilled_registration_that_keeps_the_source(
    leads_world, accepted, sent_tasks, django_capture_on_commit_callbacks
):
    close = timezone.localdate() + timedelta(days=30)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(leads_world, "partner_rep").post(
            url(accepted, "convert"), {"expected_close_date": close.isoformat()}, format="json"
        )

    assert response.status_code == 201
    (registration,) = registrations(leads_world)
    assert response.json() == {"registration_id": registration.pk}
    assert (
        registration.customer_name,
        registration.customer_website,
        str(registration.customer_country),
        registration.contact_email,
        registration.amount,
        registration.expected_close_date,
        registration.source,
        registration.status,
        registration.partner_id,
        registration.owner_id,
    ) == (
        "Fabrikam Inc.",
        "https://www.fabrikam.com",
        "US",
        "jane@fabrikam.com",
        Decimal("25000.00"),
        close,
        "Webinar Q4",
        "submitted",
        leads_world.partner.pk,
        leads_world.partner_rep.user_id,
    )
    assert [line.code for line in registration.product_lines.all()] == ["cloud"]
    # the submission's outbox event is dispatched, then screening runs, as for any other
    assert sent_tasks == [
        *submit_tasks(leads_world.tenant, registration.pk),
        event_dispatch_of(leads_world, "lead.converted"),
    ]
    lead = reload(leads_world, accepted)
    assert (lead.status, lead.registration_id) == ("converted", registration.pk)


def test_a_lead_without_a_value_needs_one_to_convert(leads_world, sent_tasks):
    lead = make_lead(leads_world, estimated_value=None)
    route(leads_world, lead)
    client = api_as(leads_world, "partner_rep")
    client.post(url(lead, "accept"))

    refused = client.post(url(lead, "convert"), {}, format="json")
    done = client.post(url(lead, "convert"), {"amount": "1200"}, format="json")

    assert refused.status_code == 400
    assert "amount" in refused.json()["error"]["fields"]
    assert done.status_code == 201
    assert [r.amount for r in registrations(leads_world)] == [Decimal("1200.00")]


def test_converting_twice_is_a_conflict(leads_world, accepted):
    client = api_as(leads_world, "partner_rep")
    client.post(url(accepted, "convert"), {}, format="json")

    again = client.post(url(accepted, "convert"), {}, format="json")

    assert again.status_code == 409
    assert len(registrations(leads_world)) == 1

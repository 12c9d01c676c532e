"""The lead lifecycle in the webhook catalogue and the change feed: each change records its
event once, in its own transaction (a rolled-back change records and sends nothing); the
message verifies with `standardwebhooks` and its `data` is the lead as the API shows it to
a vendor admin."""

# ruff: noqa: F811  (shared fixtures are imported, then used as parameters)
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import DomainEvent
from accounts.tenancy import tenant_context
from integrations.models import FeedEntry, WebhookDelivery
from leads.models import Lead, LeadOffer
from leads.services.offers import offer_withdraw, offers_expire
from tests.api_clients import api_as
from tests.conftest import World
from tests.integrations.conftest import endpoint_for
from tests.integrations.receiver import Receiver
from tests.integrations.test_event_sources import Boom, api_data, run_outbox_and_sends
from tests.leads.conftest import leads_world, make_lead, route  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def lead_url(lead: Lead, action: str = "") -> str:
    return f"/api/v1/leads/{lead.pk}/{action + '/' if action else ''}"


def offered(w: World) -> Lead:
    lead = make_lead(w)
    route(w, lead)
    return lead


def accepted(w: World) -> Lead:
    lead = offered(w)
    assert api_as(w, "partner_rep").post(lead_url(lead, "accept")).status_code == 200
    return lead


def created(w: World) -> Lead:
    return make_lead(w)


def accept(w: World) -> Callable[[], Lead]:
    lead = offered(w)
    return lambda: (api_as(w, "partner_rep").post(lead_url(lead, "accept")), lead)[1]


def decline(w: World) -> Callable[[], Lead]:
    lead = offered(w)
    body = {"reason_code": "no_capacity", "note": ""}
    return lambda: (
        api_as(w, "partner_rep").post(lead_url(lead, "decline"), body, format="json"),
        lead,
    )[1]


def expire(w: World) -> Callable[[], Lead]:
    lead = offered(w)

    def change() -> Lead:
        with tenant_context(w.tenant):
            LeadOffer.objects.filter(lead=lead).update(
                expires_at=timezone.now() - timedelta(seconds=1)
            )
            assert offers_expire(tenant=w.tenant) == 1
        return lead

    return change


def withdraw(w: World) -> Callable[[], Lead]:
    lead = offered(w)

    def change() -> Lead:
        with tenant_context(w.tenant):
            offer_withdraw(tenant=w.tenant, actor=w.channel_manager, lead_id=lead.pk)
        return lead

    return change


def status_change(w: World) -> Callable[[], Lead]:
    lead = accepted(w)
    body = {"status": "contacted", "note": ""}
    return lambda: (
        api_as(w, "partner_rep").post(lead_url(lead, "status"), body, format="json"),
        lead,
    )[1]


def convert(w: World) -> Callable[[], Lead]:
    lead = accepted(w)
    return lambda: (
        api_as(w, "partner_rep").post(lead_url(lead, "convert"), {}, format="json"),
        lead,
    )[1]


def create(w: World) -> Callable[[], Lead]:
    return lambda: make_lead(w)


def offer(w: World) -> Callable[[], Lead]:
    lead = make_lead(w)
    return lambda: (route(w, lead), lead)[1]


SOURCES: dict[str, Callable[[World], Callable[[], Lead]]] = {
    "lead.created": create,
    "lead.offered": offer,
    "lead.accepted": accept,
    "lead.declined": decline,
    "lead.expired": expire,
    "lead.withdrawn": withdraw,
    "lead.status_changed": status_change,
    "lead.converted": convert,
}


def events_named(w: World, name: str) -> list[DomainEvent]:
    with tenant_context(w.tenant):
        return list(DomainEvent.objects.filter(name=name))


@pytest.mark.parametrize("name", list(SOURCES))
def test_each_lead_change_is_sent_once_signed_as_the_api_shows_it(
    leads_world: World, receiver: Receiver, name: str
):
    w = leads_world
    endpoint = endpoint_for(w.vendor_admin, receiver.url, [name])
    change = SOURCES[name](w)
    run_outbox_and_sends(w)  # what came before the change
    receiver.requests.clear()

    lead = change()
    run_outbox_and_sends(w)
    run_outbox_and_sends(w)  # a second pass sends nothing more

    [event] = events_named(w, name)
    [request] = receiver.wait(1)
    body = request.verified(endpoint.secret)  # standardwebhooks' Webhook.verify
    assert body["type"] == name
    assert body["data"] == api_data(w, lead_url(lead))
    with tenant_context(w.tenant):
        [delivery] = WebhookDelivery.objects.filter(event=event)
        feed = FeedEntry.objects.get(event=event)
    assert delivery.status == "succeeded"
    assert feed.data == body["data"]
    page = api_as(w, "vendor_admin").get(f"/api/v1/events/?types={name}").json()
    assert [entry["seq"] for entry in page["results"]] == [feed.seq]


@pytest.mark.parametrize("name", list(SOURCES))
def test_a_rolled_back_lead_change_records_and_sends_nothing(
    leads_world: World, receiver: Receiver, name: str
):
    w = leads_world
    endpoint_for(w.vendor_admin, receiver.url, [name])
    change = SOURCES[name](w)
    run_outbox_and_sends(w)
    receiver.requests.clear()

    def change_then_fail() -> None:
        with transaction.atomic():
            change()
            raise Boom

    with pytest.raises(Boom):
        change_then_fail()
    run_outbox_and_sends(w)

    assert events_named(w, name) == []
    assert receiver.requests == []
    with tenant_context(w.tenant):
        assert not FeedEntry.objects.filter(event_type=name).exists()


def test_a_partner_never_reads_lead_events_from_the_feed(leads_world: World):
    make_lead(leads_world)

    assert api_as(leads_world, "partner_admin").get("/api/v1/events/").status_code == 403
    other = api_as(leads_world, "other_tenant_admin").get("/api/v1/events/?types=lead.created")
    assert other.json()["results"] == []

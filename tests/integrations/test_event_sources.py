"""The services that record the remaining webhook events in the outbox, in their own
transaction: registration.submitted and .expired (deals), commission.accrued and
.clawed_back (attribution), cosell.requested (pipeline). Each reaches a subscribed endpoint
signed, its `data` equal to what the API returns to a vendor admin, and the change feed; a
rolled-back change records nothing and sends nothing, sweeps included."""

# ruff: noqa: F811  (shared fixtures are imported, then used as parameters)
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import DomainEvent
from accounts.services.events import event_dispatch, outbox_pending
from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry
from deals.models import DealRegistration
from deals.services import alerts
from deals.services.decisions import registration_approve
from integrations.models import FeedEntry, WebhookDelivery
from integrations.services.deliveries import webhook_deliver, webhook_due
from pipeline.services.cosell_requests import cosell_request_create
from pipeline.services.opportunities import opportunity_reopen
from tests.api_clients import bearer_client
from tests.commissions.conftest import (  # noqa: F401  (fixtures)
    close_won,
    deals_world,
    dispatch_last,
    partner_deal,
    plan,
    register,
)
from tests.conftest import World
from tests.integrations.conftest import endpoint_for
from tests.integrations.receiver import Receiver

pytestmark = pytest.mark.django_db
API = "/api/v1"


class Boom(Exception):
    pass


@dataclass(frozen=True)
class Source:
    """`prepare(world, fixtures)` sets the scene and returns the change: a callable that
    makes it and returns the URL the API shows the changed resource at."""

    event: str
    prepare: Callable[[World, dict[str, Any]], Callable[[], str]]


def _submitted(w: World, fx: dict[str, Any]) -> Callable[[], str]:
    def change() -> str:
        registration = fx["register"](w.partner_rep, screen=False)
        return f"{API}/registrations/{registration.pk}/"

    return change


def _expired(w: World, fx: dict[str, Any]) -> Callable[[], str]:
    registration = fx["register"](w.partner_rep)
    with tenant_context(w.tenant):
        registration_approve(
            tenant=w.tenant, actor=w.channel_manager, registration_id=registration.pk
        )
        DealRegistration.objects.filter(pk=registration.pk).update(
            protected_until=timezone.localdate() - timedelta(days=1)
        )

    def change() -> str:
        with tenant_context(w.tenant):
            assert alerts.protection_expire(tenant=w.tenant) == 1
        return f"{API}/registrations/{registration.pk}/"

    return change


def _entry_url(w: World, kind: str) -> str:
    with tenant_context(w.tenant):
        entry = CommissionEntry.objects.get(kind=kind)
    return f"{API}/commissions/{entry.pk}/"


def _accrued(w: World, fx: dict[str, Any]) -> Callable[[], str]:
    deal = fx["partner_deal"]()

    def change() -> str:  # closing won, and the outbox handler that attributes it
        fx["close_won"](deal)
        return _entry_url(w, "accrual")

    return change


def _clawed_back(w: World, fx: dict[str, Any]) -> Callable[[], str]:
    deal = fx["partner_deal"]()
    fx["close_won"](deal)

    def change() -> str:
        with tenant_context(w.tenant):
            opportunity_reopen(tenant=w.tenant, actor=w.channel_manager, opportunity_id=deal.pk)
        dispatch_last(w.tenant, "opportunity.reopened")
        return _entry_url(w, "clawback")

    return change


def _cosell(w: World, fx: dict[str, Any]) -> Callable[[], str]:
    deal = fx["partner_deal"]()

    def change() -> str:
        with tenant_context(w.tenant):
            cosell_request_create(
                tenant=w.tenant,
                actor=w.partner_rep,
                opportunity_id=deal.pk,
                resource_type="marketing_support",
                need="A security review",
                need_by=timezone.localdate() + timedelta(days=7),
                details="Security review with the customer's CISO",
            )
        return f"{API}/opportunities/{deal.pk}/cosell-requests/"

    return change


SOURCES = [
    Source("registration.submitted", _submitted),
    Source("registration.expired", _expired),
    Source("commission.accrued", _accrued),
    Source("commission.clawed_back", _clawed_back),
    Source("cosell.requested", _cosell),
]


@pytest.fixture
def fixtures(register, partner_deal, close_won, plan) -> dict[str, Any]:
    return {"register": register, "partner_deal": partner_deal, "close_won": close_won}


def events_named(w: World, name: str) -> list[DomainEvent]:
    with tenant_context(w.tenant):
        return list(DomainEvent.objects.filter(name=name))


def run_outbox_and_sends(w: World) -> None:
    """What the worker and the beat sweeps would do: every owed event, every due send."""
    for event_id in outbox_pending(tenant=w.tenant):
        event_dispatch(tenant_id=w.tenant.pk, event_id=event_id)
    for delivery_id in webhook_due(tenant=w.tenant):
        webhook_deliver(tenant_id=w.tenant.pk, delivery_id=delivery_id)


def api_data(w: World, url: str) -> dict[str, Any]:
    body = bearer_client(w.vendor_admin).get(url).json()
    return body["results"][0] if "results" in body else body


@pytest.mark.parametrize("source", SOURCES, ids=[s.event for s in SOURCES])
def test_the_event_reaches_the_endpoint_and_the_feed_as_the_api_shows_it(
    deals_world: World, fixtures: dict[str, Any], receiver: Receiver, source: Source
):
    w = deals_world
    endpoint = endpoint_for(w.vendor_admin, receiver.url, [source.event])
    change = source.prepare(w, fixtures)

    url = change()
    run_outbox_and_sends(w)

    [event] = events_named(w, source.event)
    [request] = receiver.wait(1)
    body = request.verified(endpoint.secret)
    assert body["type"] == source.event
    assert body["data"] == api_data(w, url)
    with tenant_context(w.tenant):
        [delivery] = WebhookDelivery.objects.filter(event=event)
        feed = FeedEntry.objects.get(event=event)
    assert (delivery.status, delivery.event_type) == ("succeeded", source.event)
    assert (feed.event_type, feed.data) == (source.event, body["data"])
    feed_page = bearer_client(w.vendor_admin).get(f"{API}/events/?types={source.event}").json()
    assert [(e["seq"], e["data"]) for e in feed_page["results"]] == [(feed.seq, body["data"])]


@pytest.mark.parametrize("source", SOURCES, ids=[s.event for s in SOURCES])
def test_a_rolled_back_change_records_and_sends_nothing(
    deals_world: World, fixtures: dict[str, Any], receiver: Receiver, source: Source
):
    w = deals_world
    endpoint_for(w.vendor_admin, receiver.url, [source.event])
    change = source.prepare(w, fixtures)

    def change_then_fail() -> None:
        with transaction.atomic():
            change()
            raise Boom

    with pytest.raises(Boom):
        change_then_fail()
    run_outbox_and_sends(w)

    assert events_named(w, source.event) == []
    assert receiver.requests == []
    with tenant_context(w.tenant):
        assert not WebhookDelivery.objects.filter(event_type=source.event).exists()
        assert not FeedEntry.objects.filter(event_type=source.event).exists()


def test_the_payload_names_the_change(deals_world: World, fixtures: dict[str, Any]):
    w = deals_world
    _clawed_back(w, fixtures)()
    with tenant_context(w.tenant):
        accrual = CommissionEntry.objects.get(kind="accrual")
        clawback = CommissionEntry.objects.get(kind="clawback")
    [accrued] = events_named(w, "commission.accrued")
    [clawed] = events_named(w, "commission.clawed_back")
    assert (accrued.subject_type, accrued.subject_id) == (
        "commissions.commissionentry",
        str(accrual.pk),
    )
    assert accrued.payload == {
        "opportunity_id": accrual.opportunity_id,
        "partner_id": w.partner.pk,
        "amount": "500.00",  # 10 % of 10,000, unregistered ×0.5
    }
    assert (clawed.subject_id, clawed.payload["amount"]) == (str(clawback.pk), "-500.00")

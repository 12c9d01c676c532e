"""Imported leads in the outbox: the import stores its leads and their `lead.created` events
in one transaction (one bulk insert of events), so every stored lead is in the change feed
and reaches the webhooks exactly once, in id order, like a lead created alone; a rejected
or rolled-back import records and sends nothing."""

# ruff: noqa: F811  (shared fixtures are imported, then used as parameters)
from __future__ import annotations

import pytest

from accounts import tasks as accounts_tasks
from accounts.models import DomainEvent
from accounts.services.events import DISPATCH_MANY_TASK
from accounts.tenancy import tenant_context
from integrations.models import FeedEntry, WebhookDelivery
from leads.models import Lead, LeadImport
from leads.services import imports
from leads.services.imports import lead_import_create, lead_import_process
from tests.api_clients import api_as
from tests.conftest import World
from tests.integrations.conftest import endpoint_for
from tests.integrations.receiver import Receiver
from tests.integrations.test_event_sources import Boom, api_data, run_outbox_and_sends
from tests.leads.conftest import leads_world, make_lead  # noqa: F401  (fixture)
from tests.leads.imports import csv_of, good_csv, row

pytestmark = pytest.mark.django_db


def upload(w: World, raw: bytes) -> LeadImport:
    with tenant_context(w.tenant):
        return lead_import_create(
            tenant=w.tenant, actor=w.channel_manager, file_name="leads.csv", raw=raw
        )


def import_csv(w: World, raw: bytes) -> str:
    lead_import = upload(w, raw)
    lead_import_process(tenant=w.tenant, import_id=lead_import.pk)
    with tenant_context(w.tenant):
        return str(LeadImport.objects.get(pk=lead_import.pk).status)


def created_events(w: World) -> list[tuple[str, dict]]:
    with tenant_context(w.tenant):
        rows = DomainEvent.objects.filter(name="lead.created").order_by("id")
        return [(event.subject_id, event.payload) for event in rows]


def feed(w: World) -> list[tuple[int, str, int]]:
    page = api_as(w, "vendor_admin").get("/api/v1/events/?types=lead.created").json()
    return [(e["seq"], e["type"], e["data"]["id"]) for e in page["results"]]


def test_every_imported_lead_is_in_the_feed_once_in_id_order_after_the_one_before(
    leads_world: World, receiver: Receiver, sent_tasks, django_capture_on_commit_callbacks
):
    w = leads_world
    endpoint = endpoint_for(w.vendor_admin, receiver.url, ["lead.created"])
    alone = make_lead(w)
    run_outbox_and_sends(w)

    with django_capture_on_commit_callbacks(execute=True):
        assert import_csv(w, good_csv(3)) == "imported"

    with tenant_context(w.tenant):
        ids = list(Lead.objects.exclude(pk=alone.pk).order_by("id").values_list("pk", flat=True))
        events = list(
            DomainEvent.objects.filter(name="lead.created", subject_id__in=map(str, ids))
            .order_by("id")
            .values_list("pk", flat=True)
        )
    assert created_events(w)[1:] == [(str(pk), {"status": "new"}) for pk in ids]
    # one task dispatches the import's events, in id order (not a task per lead)
    dispatches = [args for name, args in sent_tasks if name.startswith("accounts.tasks.event")]
    assert dispatches == [(w.tenant.pk, events)]
    names = [name for name, _ in sent_tasks]
    assert names.index(DISPATCH_MANY_TASK) < names.index(imports.ROUTE_BATCH_TASK)

    accounts_tasks.event_dispatch_many(w.tenant.pk, events)
    run_outbox_and_sends(w)  # the sends; a second pass of the outbox finds nothing owed
    run_outbox_and_sends(w)

    first = feed(w)[0][0]
    assert feed(w) == [(first + n, "lead.created", pk) for n, pk in enumerate([alone.pk, *ids])]
    bodies = [request.verified(endpoint.secret) for request in receiver.wait(4)]
    assert sorted(body["data"]["id"] for body in bodies) == sorted([alone.pk, *ids])
    assert bodies[-1]["data"] == api_data(w, f"/api/v1/leads/{bodies[-1]['data']['id']}/")
    with tenant_context(w.tenant):
        assert WebhookDelivery.objects.filter(event_type="lead.created").count() == 4
    # processing the import again stores and records nothing more
    with tenant_context(w.tenant):
        import_id = Lead.objects.get(pk=ids[0]).lead_import_id
    lead_import_process(tenant=w.tenant, import_id=import_id)
    assert len(created_events(w)) == 4


def test_the_dispatch_goes_on_in_successor_tasks_keeping_the_order(
    leads_world: World, monkeypatch: pytest.MonkeyPatch
):
    w = leads_world
    assert import_csv(w, good_csv(5)) == "imported"
    with tenant_context(w.tenant):
        events = list(
            DomainEvent.objects.filter(name="lead.created")
            .order_by("id")
            .values_list("pk", flat=True)
        )
    successors: list[tuple[int, list[int]]] = []
    monkeypatch.setattr(accounts_tasks, "DISPATCH_CHUNK", 2)
    monkeypatch.setattr(
        accounts_tasks.event_dispatch_many, "delay", lambda *args: successors.append(args)
    )

    accounts_tasks.event_dispatch_many(w.tenant.pk, events)
    while successors:
        accounts_tasks.event_dispatch_many(*successors.pop())

    with tenant_context(w.tenant):
        entries = list(FeedEntry.objects.order_by("seq").values_list("event_id", flat=True))
        undispatched = DomainEvent.objects.filter(dispatched_at__isnull=True).count()
    assert entries == events
    assert undispatched == 0


def test_a_rejected_import_records_and_sends_nothing(
    leads_world: World, receiver: Receiver, sent_tasks, django_capture_on_commit_callbacks
):
    w = leads_world
    endpoint_for(w.vendor_admin, receiver.url, ["lead.created"])
    raw = csv_of([row(1), row(2, country="Atlantis")])

    with django_capture_on_commit_callbacks(execute=True):
        assert import_csv(w, raw) == "rejected"
    run_outbox_and_sends(w)

    assert created_events(w) == []
    assert [name for name, _ in sent_tasks if name.startswith("accounts.tasks.event")] == []
    assert feed(w) == []
    assert receiver.requests == []


def test_a_rolled_back_import_records_and_sends_nothing(
    leads_world: World,
    receiver: Receiver,
    sent_tasks,
    django_capture_on_commit_callbacks,
    monkeypatch: pytest.MonkeyPatch,
):
    w = leads_world
    endpoint_for(w.vendor_admin, receiver.url, ["lead.created"])

    def fail(**_: object) -> None:
        raise Boom

    lead_import = upload(w, good_csv(2))
    monkeypatch.setattr(imports, "audit_record", fail)  # after the leads and events are inserted

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        lead_import_process(tenant=w.tenant, import_id=lead_import.pk)
    run_outbox_and_sends(w)

    with tenant_context(w.tenant):
        assert Lead.objects.count() == 0
    assert created_events(w) == []
    assert [name for name, _ in sent_tasks if name.startswith("accounts.tasks.event")] == []
    assert feed(w) == []
    assert receiver.requests == []

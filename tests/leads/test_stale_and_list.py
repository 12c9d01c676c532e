"""Stale leads (not updated within the tenant's window of business days): flagged on the
vendor's list and the partner's "my leads"; the vendor pulls one back to the routing queue
(history kept, the partner's active people told). The vendor's list: filters with their
count and value, CSV export, and bulk actions with a result per lead. Isolation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.errors import Conflict, PermissionDenied
from accounts.models import AuditEntry, Notification
from accounts.tenancy import tenant_context
from leads.business_hours import BusinessCalendar
from leads.models import Lead, RoutingPolicy
from leads.services.offers import offer_accept
from leads.services.stale import lead_pull_back, leads_bulk_act
from tests.conftest import World
from tests.leads.conftest import make_lead, reload, route
from tests.pages import member, messages_of


def accepted(world: World, **overrides) -> Lead:
    lead = make_lead(world, **overrides)
    route(world, lead)
    with tenant_context(world.tenant):
        offer_accept(tenant=world.tenant, actor=world.partner_rep, lead_id=lead.pk)
    return reload(world, lead)


def age(world: World, lead: Lead, days: int) -> None:
    with tenant_context(world.tenant):
        Lead.objects.filter(pk=lead.pk).update(updated_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def stale(leads_world) -> Lead:
    lead = accepted(leads_world)
    age(leads_world, lead, 30)
    return lead


def test_ten_business_days_back_skips_weekends():
    calendar = BusinessCalendar()
    monday = datetime(2026, 11, 30, 12, tzinfo=UTC)

    assert calendar.days_before(monday, 10) == monday - timedelta(days=14)
    assert calendar.days_before(monday, 1) == monday - timedelta(days=3)  # the Friday


def test_stale_leads_are_flagged_for_the_vendor_and_the_partner(leads_world, stale, client_for):
    fresh = accepted(leads_world, company_name="Fresh Co", company_website="fresh.example")

    vendor = client_for(leads_world.channel_manager).get(reverse("vendor:lead_list"))
    partner = client_for(leads_world.partner_rep).get(reverse("partner:lead_inbox"))

    vendor_html, partner_html = vendor.content.decode(), partner.content.decode()
    assert "<strong>1</strong> stale</a>" in vendor_html
    assert vendor_html.count('data-testid="stale-flag"') == 1
    assert partner_html.count('data-testid="stale-flag"') == 1
    assert "without an update for 10 business days" in partner_html
    assert fresh.company_name in partner_html


def test_the_window_is_the_tenants_setting(leads_world, client_for):
    lead = accepted(leads_world)
    age(leads_world, lead, 3)
    with tenant_context(leads_world.tenant):
        RoutingPolicy.objects.filter(tenant=leads_world.tenant).update(stale_after_days=1)

    html = client_for(leads_world.channel_manager).get(reverse("vendor:lead_list")).content
    assert b'data-testid="stale-flag"' in html


def test_the_routing_settings_page_edits_the_window(leads_world, client_for):
    client = client_for(leads_world.vendor_admin)
    url = reverse("vendor:routing_settings")
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if k != "working_days"}
    data["working_days"] = form.initial["working_days"]

    response = client.post(url, {**data, "stale_after_days": 15})

    assert response.status_code == 302
    with tenant_context(leads_world.tenant):
        assert RoutingPolicy.objects.get(tenant=leads_world.tenant).stale_after_days == 15
    refused = client.post(url, {**data, "stale_after_days": 0})
    assert refused.status_code == 200
    with tenant_context(leads_world.tenant):
        assert RoutingPolicy.objects.get(tenant=leads_world.tenant).stale_after_days == 15


def test_pulling_back_a_stale_lead_queues_it_keeps_history_and_tells_active_people(
    leads_world, stale
):
    with tenant_context(leads_world.tenant):
        leads_world.partner_admin.is_active = False
        leads_world.partner_admin.save()
        lead_pull_back(
            tenant=leads_world.tenant, actor=leads_world.channel_manager, lead_id=stale.pk
        )

    lead = reload(leads_world, stale)
    assert (lead.status, lead.partner_id, lead.owner_id) == ("queued", None, None)
    assert lead.queued_reason.startswith("Pulled back from Northwind Resellers: no update since")
    with tenant_context(leads_world.tenant):
        audit = AuditEntry.objects.get(verb="lead_pulled_back")
        notified = set(
            Notification.objects.filter(verb="lead_pulled_back").values_list(
                "recipient_id", flat=True
            )
        )
    assert audit.before["partner"] == "Northwind Resellers"
    assert notified == {leads_world.partner_rep.user_id}


def test_a_fresh_lead_cannot_be_pulled_back(leads_world):
    lead = accepted(leads_world)

    with tenant_context(leads_world.tenant), pytest.raises(Conflict, match="not stale"):
        lead_pull_back(tenant=leads_world.tenant, actor=leads_world.vendor_admin, lead_id=lead.pk)

    assert reload(leads_world, lead).status == "accepted"


@pytest.mark.parametrize("actor", ["partner_admin", "partner_rep"])
def test_partners_cannot_pull_back(leads_world, stale, actor):
    with tenant_context(leads_world.tenant), pytest.raises(PermissionDenied):
        lead_pull_back(tenant=leads_world.tenant, actor=leads_world.member(actor), lead_id=stale.pk)

    assert reload(leads_world, stale).status == "accepted"


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("vendor_admin", 302),
        ("partner_admin", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_pull_back_page_isolation(leads_world, stale, client_for, actor, status):
    response = client_for(member(leads_world, actor)).post(
        reverse("vendor:lead_pull_back", args=[stale.pk])
    )

    assert response.status_code == status
    assert reload(leads_world, stale).status == ("queued" if status == 302 else "accepted")


# --- Bulk actions ---------------------------------------------------------------------------


def test_bulk_actions_report_a_result_per_lead(leads_world, stale, client_for):
    queued = make_lead(leads_world, company_name="Kyoto Lead", country="JP")
    route(leads_world, queued)
    with tenant_context(leads_world.other_tenant):
        foreign = Lead.objects.create(
            tenant=leads_world.other_tenant, company_name="Foreign", country="US"
        )

    response = client_for(leads_world.channel_manager).post(
        reverse("vendor:lead_bulk"),
        {"action": "pull_back", "lead": [stale.pk, queued.pk, foreign.pk], "query": "stale=yes"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("vendor:lead_list") + "?stale=yes"
    assert messages_of(response) == [
        f"#{stale.pk} Fabrikam Inc.: done (pull back (stale leads)).",
        f"#{queued.pk} Kyoto Lead: skipped. The lead is in the routing queue: nothing to pull "
        "back.",
        f"#{foreign.pk}: skipped. Not found.",
    ]
    assert reload(leads_world, stale).status == "queued"
    assert reload(leads_world, queued).status == "queued"


def test_bulk_route_again_and_withdraw(leads_world, sent_tasks, django_capture_on_commit_callbacks):
    queued = make_lead(leads_world, company_name="Kyoto Lead", country="JP")
    route(leads_world, queued)
    offered = make_lead(leads_world, company_name="Offered Co", company_website="offered.example")
    route(leads_world, offered)

    with tenant_context(leads_world.tenant), django_capture_on_commit_callbacks(execute=True):
        again = leads_bulk_act(
            tenant=leads_world.tenant,
            actor=leads_world.vendor_admin,
            action="route_again",
            lead_ids=[queued.pk, offered.pk],
        )
        withdrawn = leads_bulk_act(
            tenant=leads_world.tenant,
            actor=leads_world.vendor_admin,
            action="withdraw",
            lead_ids=[offered.pk],
        )

    assert again.done == [queued.pk]
    assert again.skipped == {offered.pk: "The lead is offered, not in the queue."}
    assert withdrawn.done == [offered.pk]
    assert reload(leads_world, offered).status == "queued"
    routed = [task for task in sent_tasks if task[0] == "leads.tasks.lead_route"]
    assert routed[-1] == ("leads.tasks.lead_route", (leads_world.tenant.pk, queued.pk))


@pytest.mark.parametrize("actor", ["partner_admin", "partner_rep"])
def test_partners_cannot_use_bulk_actions(leads_world, stale, client_for, actor):
    response = client_for(leads_world.member(actor)).post(
        reverse("vendor:lead_bulk"), {"action": "pull_back", "lead": [stale.pk]}
    )

    assert response.status_code == 403
    assert reload(leads_world, stale).status == "accepted"


def test_a_bad_bulk_form_changes_nothing(leads_world, stale, client_for):
    response = client_for(leads_world.vendor_admin).post(
        reverse("vendor:lead_bulk"), {"action": "delete_everything", "lead": [stale.pk]}
    )

    assert response.status_code == 302
    assert "Action:" in messages_of(response)[0]
    assert reload(leads_world, stale).status == "accepted"


# --- Filters, totals, CSV -------------------------------------------------------------------


@pytest.fixture
def three(leads_world, stale) -> dict[str, Lead]:
    big = make_lead(
        leads_world,
        company_name="=Big Deal Corp",
        company_website="bigdeal.example",
        country="DE",
        estimated_value="900000",
        source="Trade fair",
    )
    small = make_lead(
        leads_world,
        company_name="Small Shop",
        company_website="small.example",
        country="JP",
        estimated_value="100",
        source="Webinar Q4",
    )
    with tenant_context(leads_world.other_tenant):
        Lead.objects.create(
            tenant=leads_world.other_tenant, company_name="Foreign Lead", country="US"
        )
    return {"stale": stale, "big": big, "small": small}


@pytest.mark.parametrize(
    ("query", "names", "total"),
    [
        ("", {"Fabrikam Inc.", "=Big Deal Corp", "Small Shop"}, "925,100.00"),
        ("stale=yes", {"Fabrikam Inc."}, "25,000.00"),
        ("stale=no", {"=Big Deal Corp", "Small Shop"}, "900,100.00"),
        ("country=DE", {"=Big Deal Corp"}, "900,000.00"),
        ("value_min=1000&value_max=50000", {"Fabrikam Inc."}, "25,000.00"),
        ("source=webinar", {"Fabrikam Inc.", "Small Shop"}, "25,100.00"),
        ("status=accepted", {"Fabrikam Inc."}, "25,000.00"),
        ("partner_name=northwind", {"Fabrikam Inc."}, "25,000.00"),
        ("created_from=2000-01-01&created_to=2000-12-31", set(), "0.00"),
    ],
)
def test_filters_and_their_totals(leads_world, three, client_for, query, names, total):
    response = client_for(leads_world.channel_manager).get(f"{reverse('vendor:lead_list')}?{query}")

    shown = {lead.company_name for lead in response.context["leads"]}
    assert shown == names
    html = response.content.decode()
    assert f"estimated value <strong>{total} USD</strong>" in html
    assert "Foreign Lead" not in html


def test_filters_count_as_active(leads_world, three, client_for):
    html = client_for(leads_world.channel_manager).get(
        f"{reverse('vendor:lead_list')}?stale=yes&country=US"
    )

    assert "(2 active)" in html.content.decode()


def test_the_csv_has_the_filtered_rows_neutralized_and_only_the_tenants(
    leads_world, three, client_for
):
    response = client_for(leads_world.channel_manager).get(
        f"{reverse('vendor:lead_csv')}?value_min=50"
    )

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response.status_code == 200
    assert rows[0][:3] == ["Lead ID", "Company", "Website"]
    names = {row[1] for row in rows[1:]}
    assert names == {"'=Big Deal Corp", "Small Shop", "Fabrikam Inc."}
    stale_column = rows[0].index("Stale")
    assert {row[1]: row[stale_column] for row in rows[1:]}["Fabrikam Inc."] == "yes"


@pytest.mark.parametrize("actor", ["partner_admin", "partner_rep"])
def test_partners_cannot_export(leads_world, three, client_for, actor):
    response = client_for(leads_world.member(actor)).get(reverse("vendor:lead_csv"))

    assert response.status_code == 403


def stale_notifications(world: World) -> list[Notification]:
    with tenant_context(world.tenant):
        return list(Notification.objects.filter(verb="lead_stale").order_by("id"))


def test_the_sweep_flags_a_stale_lead_and_tells_its_channel_manager_once(leads_world, stale):
    from leads.tasks import leads_stale_flag

    w = leads_world
    w.partner.channel_manager = w.channel_manager.user
    w.partner.save(update_fields=["channel_manager"])
    fresh = accepted(w, company_name="Fresh Co", company_website="fresh.example")

    assert leads_stale_flag.apply().get() == 1
    assert leads_stale_flag.apply().get() == 0  # idempotent: flagged once

    notes = stale_notifications(w)
    assert [(n.recipient_id, n.url) for n in notes] == [
        (w.channel_manager.user.pk, reverse("vendor:lead_detail", args=[stale.pk]))
    ]
    assert stale.company_name in notes[0].message
    assert reload(w, stale).stale_flagged_at is not None
    assert reload(w, fresh).stale_flagged_at is None


def test_a_lead_updated_after_its_flag_is_flagged_again_when_stale_again(leads_world, stale):
    from leads.services.stale import leads_stale_flag

    w = leads_world
    w.partner.channel_manager = w.channel_manager.user
    w.partner.save(update_fields=["channel_manager"])
    with tenant_context(w.tenant):
        assert leads_stale_flag(tenant=w.tenant) == 1
        Lead.objects.filter(pk=stale.pk).update(
            stale_flagged_at=timezone.now() - timedelta(days=40)
        )  # flagged long ago, updated (30 days ago) since
        assert leads_stale_flag(tenant=w.tenant) == 1
        assert leads_stale_flag(tenant=w.tenant) == 0
    assert len(stale_notifications(w)) == 2


def test_the_sweep_tells_no_inactive_channel_manager(leads_world, stale):
    from leads.services.stale import leads_stale_flag

    w = leads_world
    w.partner.channel_manager = w.channel_manager.user
    w.partner.save(update_fields=["channel_manager"])
    with tenant_context(w.tenant):
        type(w.channel_manager).objects.filter(pk=w.channel_manager.pk).update(is_active=False)
        assert leads_stale_flag(tenant=w.tenant) == 1
    assert stale_notifications(w) == []
    assert reload(w, stale).stale_flagged_at is not None

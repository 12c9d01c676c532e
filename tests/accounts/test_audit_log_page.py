"""The audit log page: vendor admins only, this tenant only, filterable, constant queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEntry
from accounts.tenancy import tenant_context
from partners.services import tier_create
from tests.conftest import World

URL = "/vendor/audit/"


def entry(
    tenant,
    actor,
    verb="tier_updated",
    subject_repr="Gold",
    before=None,
    after=None,
    ip="203.0.113.7",
) -> AuditEntry:
    with tenant_context(tenant):
        return AuditEntry.objects.create(
            tenant=tenant,
            actor=actor,
            verb=verb,
            subject_type="partners.partnertier",
            subject_id="7",
            subject_repr=subject_repr,
            before=before,
            after=after,
            ip_address=ip,
        )


def test_the_route_name_is_the_navigation_contract():
    assert reverse("vendor:audit_log") == URL


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("vendor_admin", 200),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 200),
    ],
)
def test_only_vendor_admins_read_the_audit_log(world, client_for, actor, expected):
    entry(world.tenant, world.vendor_admin.user, subject_repr="Acme secret")
    response = client_for(world.member(actor)).get(URL)
    assert response.status_code == expected
    shown = "Acme secret" in response.content.decode()
    assert shown is (actor == "vendor_admin")  # the other tenant's admin sees their own log


def test_anonymous_people_are_sent_to_login(world, client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={URL}"


def test_an_entry_shows_actor_verb_subject_changes_time_and_ip(world, client_for):
    recorded = entry(
        world.tenant,
        world.vendor_admin.user,
        before={"name": "Gold", "rank": 3},
        after={"name": "Gold Plus", "rank": 4},
    )
    response = client_for(world.vendor_admin).get(URL)
    html = response.content.decode()
    [row] = response.context["rows"]
    assert row.entry.pk == recorded.pk
    assert [(c.label, c.before, c.after) for c in row.changes] == [
        ("Name", "Gold", "Gold Plus"),
        ("Rank", "3", "4"),
    ]
    for text in (
        world.vendor_admin.user.full_name,
        "Tier updated",
        "Gold",
        "(Partner tier #7)",
        "<del>Gold</del> →",
        "Gold Plus",
        "203.0.113.7",
        recorded.created_at.strftime("%Y-%m-%d %H:%M:%S"),
    ):
        assert text in html


def test_an_action_taken_in_the_portal_appears_with_the_clients_address(world, client_for):
    client = client_for(world.vendor_admin)
    client.post(
        reverse("vendor:tier_create"),
        {"name": "Platinum", "rank": "9"},
        REMOTE_ADDR="198.51.100.23",
    )
    [row] = client.get(URL).context["rows"]
    shown = row.entry
    assert (shown.verb, shown.subject_repr, str(shown.ip_address)) == (
        "tier_created",
        "Platinum",
        "198.51.100.23",
    )
    assert [(c.field, c.before, c.after) for c in row.changes] == [  # the values it got
        ("name", None, "Platinum"),
        ("rank", None, "9"),
        ("protection_days", None, "90"),
        ("lead_capacity", None, "10"),  # the lead-routing defaults a new tier starts with
        ("lead_acceptance_hours", None, "48"),
    ]


def test_html_in_a_subject_is_shown_escaped(world, client_for):
    entry(world.tenant, world.vendor_admin.user, subject_repr="<img src=x onerror=alert(1)>")
    html = client_for(world.vendor_admin).get(URL).content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["partner_created", "tier_updated", "tier_created"]),
        ({"verb": "tier_created"}, ["tier_created"]),
        ({"actor": "channel_manager"}, ["partner_created"]),
        ({"actor": "vendor_admin", "verb": "tier_updated"}, ["tier_updated"]),
    ],
)
def test_the_log_filters_by_verb_and_actor(world: World, client_for, query, expected):
    entry(world.tenant, world.vendor_admin.user, verb="tier_created")
    entry(world.tenant, world.vendor_admin.user, verb="tier_updated")
    entry(world.tenant, world.channel_manager.user, verb="partner_created")
    if "actor" in query:
        query = {**query, "actor": world.member(query["actor"]).user_id}
    response = client_for(world.vendor_admin).get(URL, query)
    assert [row.entry.verb for row in response.context["rows"]] == expected


@pytest.mark.parametrize(
    "forged", [{"actor": "other_tenant_admin"}, {"verb": "secret_verb"}, {"actor": "abc"}]
)
def test_a_forged_filter_is_an_error_and_shows_nothing(world, client_for, forged):
    entry(world.tenant, world.vendor_admin.user)
    entry(world.other_tenant, world.other_tenant_admin.user, verb="secret_verb")
    if forged.get("actor") == "other_tenant_admin":
        forged = {"actor": world.other_tenant_admin.user_id}
    response = client_for(world.vendor_admin).get(URL, forged)
    assert response.context["rows"] == []
    assert list(response.context["filter"].errors) == list(forged)


def test_the_verb_choices_are_this_tenants(world, client_for):
    entry(world.tenant, world.vendor_admin.user, verb="tier_created")
    entry(world.other_tenant, world.other_tenant_admin.user, verb="secret_verb")
    response = client_for(world.vendor_admin).get(URL)
    choices = [value for value, _ in response.context["filter"].form.fields["verb"].choices]
    assert choices == ["", "tier_created"]


def test_the_log_is_paginated_newest_first(world, client_for):
    with tenant_context(world.tenant):
        for n in range(55):
            tier_create(tenant=world.tenant, actor=world.vendor_admin, name=f"Tier {n:02}", rank=n)
    client = client_for(world.vendor_admin)
    first = client.get(URL)
    second = client.get(URL, {"page": 2})
    assert [r.entry.subject_repr for r in first.context["rows"]][:2] == ["Tier 54", "Tier 53"]
    assert len(first.context["rows"]) == 50
    assert [r.entry.subject_repr for r in second.context["rows"]] == [
        "Tier 04",
        "Tier 03",
        "Tier 02",
        "Tier 01",
        "Tier 00",
    ]


def test_the_query_count_does_not_grow(world, client_for, django_assert_num_queries):
    client = client_for(world.vendor_admin)
    entry(world.tenant, world.vendor_admin.user)
    client.get(URL)
    with CaptureQueriesContext(connection) as baseline:
        client.get(URL)
    for n in range(8):
        actor = (world.vendor_admin, world.channel_manager)[n % 2].user
        entry(world.tenant, actor, verb=f"verb_{n}")
    with django_assert_num_queries(len(baseline)):
        assert client.get(URL).status_code == 200

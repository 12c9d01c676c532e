"""Vendor portal registration pages: the review queue (SLA clock, overdue rows, bulk
approval, the other tabs), a registration beside its findings, and the decisions on it.
Role matrix, isolation, bad input, refused transitions, query counts.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Tenant
from accounts.tenancy import tenant_context
from deals.models import DealRegistration, Extension, RejectionReason
from deals.services.decisions import registration_approve
from deals.services.registrations import extension_request
from partners.models import PartnerTier
from tests.conftest import ALL_ACTORS, World
from tests.deals.conftest import RegistrationState, registration_state
from tests.pages import assert_constant_queries, assert_login_redirect, member, messages_of

ACTORS = ("anonymous", *ALL_ACTORS)
PAGE = (302, 200, 200, 403, 403, 403, 200)
DETAIL = (302, 200, 200, 403, 403, 403, 404)
ACTION = (302, 302, 302, 403, 403, 403, 404)
REVERT = (302, 302, 403, 403, 403, 403, 404)


def invalid(value: object) -> str:
    return f"Select a valid choice. {value} is not one of the available choices."


def detail_url(registration: DealRegistration) -> str:
    return reverse("vendor:registration_detail", args=[registration.pk])


def action_url(name: str, registration: DealRegistration, *extra: int) -> str:
    return reverse(f"vendor:{name}", args=[registration.pk, *extra])


def state(
    world: World, in_tenant, registration: DealRegistration, tenant=None
) -> RegistrationState:
    """What any decision would change, seen from the registration's tenant."""
    return registration_state(tenant or world.tenant, registration)


LITWARE = {
    "customer_name": "Litware Inc.",
    "customer_website": "litware.com",
    "contact_email": "ann@litware.com",
}


@pytest.fixture
def clean(deals_world, register) -> DealRegistration:
    """A registration in review without findings (the tier never auto-approves)."""
    return register(deals_world.partner_rep, **LITWARE)


@pytest.fixture
def conflict(deals_world, register) -> tuple[DealRegistration, DealRegistration]:
    """Two partners registered the same customer: the second waits with a finding."""
    first = register(deals_world.partner_rep, amount="40000")
    second = register(
        deals_world.other_partner_rep,
        customer_name="Fabrikam, Inc",
        customer_website="fabrikam.com",
        amount="55000",
    )
    return first, second


# --- Role matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize("tab", ["", "?tab=approved", "?tab=all"])
@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, PAGE, strict=True)))
def test_who_opens_the_registration_list(deals_world, client_for, tab, actor, expected):
    url = reverse("vendor:registration_queue") + tab
    response = client_for(member(deals_world, actor)).get(url)
    assert response.status_code == expected
    if actor == "anonymous" and not tab:
        assert_login_redirect(response, url)


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, DETAIL, strict=True)))
def test_who_opens_a_registration(deals_world, clean, client_for, actor, expected):
    response = client_for(member(deals_world, actor)).get(detail_url(clean))
    assert response.status_code == expected


SUCCESS = {
    "registration_approve": "Approved: Litware Inc. is protected until {until}.",
    "registration_reject": "Rejected; the partner is told the reason.",
    "registration_request_info": "Sent back to the partner for more information.",
}
POSTS = {
    "registration_approve": {"note": "Welcome"},
    "registration_reject": {"reason_code": "outside_territory", "message": "Not your region"},
    "registration_request_info": {"message": "Which department?"},
}


@pytest.mark.parametrize("action", list(POSTS))
@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, ACTION, strict=True)))
def test_who_decides_a_registration(
    deals_world, clean, client_for, in_tenant, sent_tasks, action, actor, expected
):
    before = state(deals_world, in_tenant, clean)
    response = client_for(member(deals_world, actor)).post(action_url(action, clean), POSTS[action])
    assert response.status_code == expected
    after = state(deals_world, in_tenant, clean)
    if expected == 302 and actor != "anonymous":
        assert response.url == detail_url(clean)
        until = timezone.localdate() + timedelta(days=deals_world.tier.protection_days)
        assert messages_of(response) == [SUCCESS[action].format(until=until.isoformat())]
        assert (
            after.status
            == {
                "registration_approve": "approved",
                "registration_reject": "rejected",
                "registration_request_info": "info_requested",
            }[action]
        )
    else:
        assert after == before
        assert sent_tasks == []


def test_a_rejection_carries_the_reason_code_and_message(deals_world, clean, client_for, in_tenant):
    client_for(deals_world.channel_manager).post(
        action_url("registration_reject", clean), POSTS["registration_reject"]
    )
    after = state(deals_world, in_tenant, clean)
    assert (after.status, after.decision_code, after.decision_message) == (
        "rejected",
        "outside_territory",
        "Not your region",
    )


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, REVERT, strict=True)))
def test_only_a_vendor_admin_reverts_a_decision(
    deals_world, clean, client_for, in_tenant, actor, expected
):
    client_for(deals_world.channel_manager).post(action_url("registration_approve", clean), {})
    before = state(deals_world, in_tenant, clean)
    assert before.status == "approved"
    response = client_for(member(deals_world, actor)).post(
        action_url("registration_revert", clean), {"note": "Approved by mistake"}
    )
    assert response.status_code == expected
    after = state(deals_world, in_tenant, clean)
    if expected == 302 and actor != "anonymous":
        assert messages_of(response) == [
            "The decision is reverted: the registration is in review again."
        ]
        reverted = (
            after.status,
            after.decision_code,
            after.decision_message,
            after.protected_until,
        )
        assert reverted == ("in_review", "", "", None)
    else:
        assert after == before


def test_the_revert_form_is_shown_to_vendor_admins_only(deals_world, clean, client_for):
    client_for(deals_world.channel_manager).post(action_url("registration_approve", clean), {})
    admin_page = client_for(deals_world.vendor_admin).get(detail_url(clean))
    cm_page = client_for(deals_world.channel_manager).get(detail_url(clean))
    revert = action_url("registration_revert", clean)
    assert revert in admin_page.content.decode()
    assert revert not in cm_page.content.decode()
    assert admin_page.context["can_revert"] is True
    assert cm_page.context["can_revert"] is False


def test_a_revert_needs_an_audit_note(deals_world, clean, client_for, in_tenant):
    client_for(deals_world.channel_manager).post(action_url("registration_approve", clean), {})
    before = state(deals_world, in_tenant, clean)
    response = client_for(deals_world.vendor_admin).post(
        action_url("registration_revert", clean), {"note": "  "}
    )
    assert response.status_code == 302
    assert messages_of(response) == ["Why (audit note): This field is required."]
    assert state(deals_world, in_tenant, clean) == before


# --- Bad input and refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("registration_reject", {"reason_code": "nope"}, f"Reason: {invalid('nope')}"),
        ("registration_reject", {}, "Reason: This field is required."),
        (
            "registration_request_info",
            {"message": ""},
            "What the partner should add: This field is required.",
        ),
        (
            "registration_approve",
            {"note": "x" * 2001},
            "Note: Ensure this value has at most 2000 characters (it has 2001).",
        ),
        ("registration_mark_duplicate", {"original": "abc"}, f"Duplicate of: {invalid('abc')}"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    deals_world, clean, client_for, in_tenant, action, data, message
):
    before = state(deals_world, in_tenant, clean)
    response = client_for(deals_world.channel_manager).post(action_url(action, clean), data)
    assert response.status_code == 302
    assert response.url == detail_url(clean)
    assert messages_of(response) == [message]
    assert state(deals_world, in_tenant, clean) == before


def test_a_retired_rejection_reason_cannot_be_used(deals_world, clean, client_for, in_tenant):
    client_for(deals_world.vendor_admin).post(
        reverse("vendor:rejection_reason_active", args=[reason_id(deals_world, in_tenant)]),
        {"action": "deactivate"},
    )
    before = state(deals_world, in_tenant, clean)
    response = client_for(deals_world.channel_manager).post(
        action_url("registration_reject", clean), {"reason_code": "outside_territory"}
    )
    assert messages_of(response) == [f"Reason: {invalid('outside_territory')}"]
    assert state(deals_world, in_tenant, clean) == before


def reason_id(world: World, in_tenant, code: str = "outside_territory", tenant=None) -> int:
    with in_tenant(tenant or world.tenant):
        return RejectionReason.objects.get(code=code).pk


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        (
            "registration_approve",
            {},
            "Only a registration in review can be approved; this one is rejected.",
        ),
        (
            "registration_request_info",
            {"message": "More?"},
            "Only a registration in review can be sent back for information; this one is rejected.",
        ),
    ],
)
def test_a_refused_transition_shows_why_and_changes_nothing(
    deals_world, clean, client_for, in_tenant, action, data, message
):
    client_for(deals_world.channel_manager).post(
        action_url("registration_reject", clean), {"reason_code": "other"}
    )
    before = state(deals_world, in_tenant, clean)
    response = client_for(deals_world.channel_manager).post(action_url(action, clean), data)
    assert response.status_code == 302
    assert messages_of(response) == [message]
    assert state(deals_world, in_tenant, clean) == before


def test_reverting_a_registration_in_review_is_refused(deals_world, clean, client_for, in_tenant):
    before = state(deals_world, in_tenant, clean)
    response = client_for(deals_world.vendor_admin).post(
        action_url("registration_revert", clean), {"note": "why not"}
    )
    assert messages_of(response) == [
        "Only an approval or a rejection can be reverted; this registration is in review."
    ]
    assert state(deals_world, in_tenant, clean) == before


def test_decisions_are_hidden_once_decided(deals_world, clean, client_for):
    client = client_for(deals_world.channel_manager)
    assert client.get(detail_url(clean)).context["in_review"] is True
    client.post(action_url("registration_approve", clean), {})
    page = client.get(detail_url(clean))
    assert page.context["in_review"] is False
    assert action_url("registration_approve", clean) not in page.content.decode()


# --- Isolation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "registration_approve",
        "registration_reject",
        "registration_request_info",
        "registration_mark_duplicate",
        "registration_revert",
    ],
)
def test_another_tenants_registration_is_a_404_and_unchanged(
    deals_world, register, client_for, in_tenant, action
):
    theirs = register(deals_world.other_tenant_partner_admin)
    before = state(deals_world, in_tenant, theirs, tenant=deals_world.other_tenant)
    client = client_for(deals_world.vendor_admin)
    assert client.get(detail_url(theirs)).status_code == 404
    data = {**POSTS.get(action, {}), "note": "x", "original": theirs.pk, "reason_code": "other"}
    assert client.post(action_url(action, theirs), data).status_code == 404
    assert state(deals_world, in_tenant, theirs, tenant=deals_world.other_tenant) == before


def test_the_original_of_a_duplicate_must_be_among_the_findings(
    deals_world, conflict, register, client_for, in_tenant
):
    first, second = conflict
    unrelated = register(
        deals_world.partner_rep,
        customer_name="Tailspin Toys",
        customer_website="tailspintoys.com",
        contact_email="a@tailspintoys.com",
    )
    theirs = register(deals_world.other_tenant_partner_admin)
    before = state(deals_world, in_tenant, second)
    for original in (unrelated.pk, theirs.pk, second.pk):
        response = client_for(deals_world.channel_manager).post(
            action_url("registration_mark_duplicate", second), {"original": original}
        )
        assert messages_of(response) == [f"Duplicate of: {invalid(original)}"]
    assert state(deals_world, in_tenant, second) == before


def test_mark_as_duplicate_of_the_finding(deals_world, conflict, client_for, in_tenant):
    first, second = conflict
    response = client_for(deals_world.channel_manager).post(
        action_url("registration_mark_duplicate", second),
        {"original": first.pk, "message": "Northwind was first"},
    )
    assert messages_of(response) == [f"Rejected as a duplicate of registration #{first.pk}."]
    after = state(deals_world, in_tenant, second)
    assert (after.status, after.decision_code, after.decision_message) == (
        "rejected",
        "duplicate",
        "Northwind was first",
    )
    assert (after.protected_until, after.duplicate_of_id) == (None, first.pk)


# --- The detail page -----------------------------------------------------------------------------


def test_the_detail_shows_both_registrations_side_by_side(deals_world, conflict, client_for):
    first, second = conflict
    response = client_for(deals_world.channel_manager).get(detail_url(second))
    assert response.status_code == 200
    [finding] = response.context["findings"]
    assert finding.kind == "partner_conflict"
    assert finding.other.id == first.pk
    assert finding.other.partner_name == "Northwind Resellers"
    html = response.content.decode()
    assert 'data-testid="other-partner">Northwind Resellers<' in html
    assert "Contoso Partners" in html  # this registration's partner, in the left column
    assert "40,000.00 USD" in html
    assert "55,000.00 USD" in html
    assert action_url("registration_mark_duplicate", second) in html


def test_the_first_registration_lists_the_later_conflict(deals_world, conflict, client_for):
    first, second = conflict
    response = client_for(deals_world.channel_manager).get(detail_url(first))
    assert [f.registration_id for f in response.context["later_conflicts"]] == [second.pk]
    assert 'data-testid="later-conflicts"' in response.content.decode()


def test_the_detail_links_the_opportunity_and_shows_the_timeline(
    deals_world, clean, client_for, in_tenant
):
    client = client_for(deals_world.channel_manager)
    client.post(action_url("registration_approve", clean), {"note": "Go"})
    response = client.get(detail_url(clean))
    with in_tenant(deals_world.tenant):
        opportunity_id = DealRegistration.objects.get(pk=clean.pk).opportunity_id
    assert opportunity_id is not None
    html = response.content.decode()
    assert reverse("vendor:opportunity_detail", args=[opportunity_id]) in html
    labels = [event.label for event in response.context["timeline"]]
    assert labels == ["Created", "Submitted", "Screened", "Held for review", "Approved"]


# --- Extensions ------------------------------------------------------------------------------


@pytest.fixture
def extension(deals_world, clean, in_tenant) -> Extension:
    with in_tenant(deals_world.tenant):
        registration_approve(
            tenant=deals_world.tenant, actor=deals_world.channel_manager, registration_id=clean.pk
        )
        return extension_request(
            tenant=deals_world.tenant,
            actor=deals_world.partner_rep,
            registration_id=clean.pk,
            reason="Procurement slipped a month",
        )


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, ACTION, strict=True)))
def test_who_grants_an_extension(
    deals_world, clean, extension, client_for, in_tenant, actor, expected
):
    before = state(deals_world, in_tenant, clean)
    response = client_for(member(deals_world, actor)).post(
        action_url("extension_grant", clean, extension.pk)
    )
    assert response.status_code == expected
    after = state(deals_world, in_tenant, clean)
    if expected == 302 and actor != "anonymous":
        assert messages_of(response) == ["Extension granted: 30 more days of protection."]
        assert after.protected_until == before.protected_until + timedelta(days=30)
        assert after.extensions_granted == 1
    else:
        assert after == before


def test_an_extension_is_declined_with_a_reason(
    deals_world, clean, extension, client_for, in_tenant
):
    response = client_for(deals_world.channel_manager).post(
        action_url("extension_decline", clean, extension.pk), {"reason": "No progress"}
    )
    assert messages_of(response) == ["Extension declined; the partner is told."]
    assert state(deals_world, in_tenant, clean).extensions == [("declined", "No progress")]


def test_a_decided_extension_cannot_be_decided_again(
    deals_world, clean, extension, client_for, in_tenant
):
    client_for(deals_world.channel_manager).post(
        action_url("extension_decline", clean, extension.pk), {"reason": "No"}
    )
    before = state(deals_world, in_tenant, clean)
    response = client_for(deals_world.channel_manager).post(
        action_url("extension_grant", clean, extension.pk)
    )
    assert messages_of(response) == ["This extension request is already declined."]
    assert state(deals_world, in_tenant, clean) == before


def test_an_extension_under_another_registration_is_a_404(
    deals_world, clean, extension, register, client_for, in_tenant
):
    other = register(
        deals_world.partner_rep, customer_name="Litware", customer_website="", contact_email=""
    )
    before = state(deals_world, in_tenant, clean)
    response = client_for(deals_world.channel_manager).post(
        action_url("extension_grant", other, extension.pk)
    )
    assert response.status_code == 404
    assert state(deals_world, in_tenant, clean) == before


def test_the_detail_offers_grant_and_decline_for_an_open_request(
    deals_world, clean, extension, client_for
):
    html = client_for(deals_world.channel_manager).get(detail_url(clean)).content.decode()
    assert action_url("extension_grant", clean, extension.pk) in html
    assert action_url("extension_decline", clean, extension.pk) in html
    assert "Procurement slipped a month" in html


# --- The queue -----------------------------------------------------------------------------------


def test_the_queue_lists_waiting_registrations_longest_first(
    deals_world, conflict, clean, client_for, in_tenant
):
    first, second = conflict
    with in_tenant(deals_world.tenant):
        DealRegistration.objects.filter(pk=clean.pk).update(
            submitted_at=timezone.now() - timedelta(hours=72)
        )
    response = client_for(deals_world.channel_manager).get(reverse("vendor:registration_queue"))
    items = response.context["items"]
    assert [item.registration.pk for item in items] == [clean.pk, first.pk, second.pk]
    assert [item.finding_count for item in items] == [0, 0, 1]
    assert [item.overdue for item in items] == [True, False, False]
    assert items[0].waiting_hours == 72
    html = response.content.decode()
    overdue_rows = re.findall(r'data-testid="queue-row-(\d+)"\s+class="overdue"', html)
    assert overdue_rows == [str(clean.pk)]
    assert "1 overdue" in html
    # Only registrations without findings can be ticked for bulk approval.
    assert f'value="{clean.pk}"' in html
    assert f'value="{second.pk}"' not in html


def test_bulk_approve_skips_registrations_with_findings(
    deals_world, conflict, clean, client_for, in_tenant
):
    first, second = conflict
    response = client_for(deals_world.channel_manager).post(
        reverse("vendor:registration_bulk_approve"),
        {"registration": [clean.pk, second.pk], "note": "Batch"},
    )
    assert response.status_code == 302
    assert response.url == reverse("vendor:registration_queue")
    assert messages_of(response) == [
        f"Approved 1 registration: #{clean.pk} Litware Inc..",
        f"Skipped #{second.pk} Fabrikam, Inc: Has screening findings: decide it on its own page.",
    ]
    assert state(deals_world, in_tenant, clean).status == "approved"
    assert state(deals_world, in_tenant, second).status == "in_review"


def test_bulk_approve_skips_another_tenants_registration(
    deals_world, clean, register, client_for, in_tenant
):
    theirs = register(deals_world.other_tenant_partner_admin)
    before = state(deals_world, in_tenant, theirs, tenant=deals_world.other_tenant)
    response = client_for(deals_world.channel_manager).post(
        reverse("vendor:registration_bulk_approve"), {"registration": [theirs.pk]}
    )
    assert messages_of(response) == [f"Skipped #{theirs.pk}: Not found."]
    assert state(deals_world, in_tenant, theirs, tenant=deals_world.other_tenant) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Registrations: Select at least one registration."),
        ({"registration": ["x"]}, "Registrations: Registration IDs are whole numbers."),
    ],
)
def test_bulk_approve_with_bad_input(deals_world, clean, client_for, in_tenant, data, message):
    before = state(deals_world, in_tenant, clean)
    response = client_for(deals_world.channel_manager).post(
        reverse("vendor:registration_bulk_approve"), data
    )
    assert messages_of(response) == [message]
    assert state(deals_world, in_tenant, clean) == before


@pytest.mark.parametrize("actor", ["partner_admin", "partner_rep"])
def test_partners_cannot_bulk_approve(deals_world, clean, client_for, in_tenant, actor):
    before = state(deals_world, in_tenant, clean)
    response = client_for(deals_world.member(actor)).post(
        reverse("vendor:registration_bulk_approve"), {"registration": [clean.pk]}
    )
    assert response.status_code == 403
    assert state(deals_world, in_tenant, clean) == before


def test_the_tabs_filter_by_status(deals_world, conflict, clean, client_for):
    first, second = conflict
    client = client_for(deals_world.channel_manager)
    client.post(action_url("registration_approve", clean), {})
    client.post(action_url("registration_reject", first), {"reason_code": "other"})

    def ids(tab: str) -> list[int]:
        response = client.get(reverse("vendor:registration_queue") + f"?tab={tab}")
        return [r.pk for r in response.context["rows"]]

    assert ids("approved") == [clean.pk]
    assert ids("rejected") == [first.pk]
    assert ids("all") == [clean.pk, second.pk, first.pk]
    assert ids("info_requested") == []


def test_the_all_tab_pages_by_id(deals_world, clean, register, client_for, monkeypatch):
    monkeypatch.setattr("deals.views.vendor.PAGE_SIZE", 2)
    more = [
        register(
            deals_world.partner_rep,
            customer_name=f"Customer {n}",
            customer_website="",
            contact_email="",
        )
        for n in range(2)
    ]
    client = client_for(deals_world.channel_manager)
    url = reverse("vendor:registration_queue") + "?tab=all"
    first_page = client.get(url)
    assert [r.pk for r in first_page.context["rows"]] == [more[1].pk, more[0].pk]
    assert first_page.context["next_after"] == more[0].pk
    second_page = client.get(url + f"&after={more[0].pk}")
    assert [r.pk for r in second_page.context["rows"]] == [clean.pk]
    assert second_page.context["next_after"] is None


def test_drafts_stay_out_of_the_vendor_lists(deals_world, register, client_for):
    draft = register(deals_world.partner_rep, submit=False)
    response = client_for(deals_world.channel_manager).get(
        reverse("vendor:registration_queue") + "?tab=all"
    )
    assert draft.pk not in [r.pk for r in response.context["rows"]]


@pytest.mark.parametrize("tab", ["review", "all"])
def test_the_queue_costs_the_same_queries_as_rows_grow(
    deals_world, register, client_for, django_assert_num_queries, tab
):
    register(deals_world.partner_rep)
    register(deals_world.other_partner_rep, customer_name="Fabrikam Inc", amount="1")
    n = iter(range(100))

    def add_rows() -> None:
        for _ in range(3):
            i = next(n)
            register(
                deals_world.partner_rep,
                customer_name=f"Initech {i}",
                customer_website=f"initech{i}.com",
                contact_email=f"a@initech{i}.com",
                product_lines=["cloud", "security"],
            )
            register(
                deals_world.other_partner_rep,
                customer_name=f"Initech {i}",
                customer_website=f"initech{i}.com",
                contact_email=f"b@initech{i}.com",
            )

    url = reverse("vendor:registration_queue") + f"?tab={tab}"
    assert_constant_queries(
        client_for(deals_world.channel_manager), url, add_rows, django_assert_num_queries
    )


def test_the_detail_costs_the_same_queries_as_findings_grow(
    deals_world, register, client_for, django_assert_num_queries, in_tenant
):
    target = register(
        deals_world.partner_rep,
        customer_name="Umbrella Corp",
        customer_website="umbrella.com",
        contact_email="x@umbrella.com",
    )
    register(
        deals_world.other_partner_rep,
        customer_name="Umbrella Corp",
        customer_website="umbrella.com",
        contact_email="y@umbrella.com",
    )
    later = []

    def add_rows() -> None:
        later.append(
            register(
                deals_world.other_partner_admin,
                customer_name="Umbrella Corp.",
                customer_website="umbrella.com",
                contact_email="z@umbrella.com",
            )
        )

    url = detail_url(target)
    assert_constant_queries(
        client_for(deals_world.channel_manager), url, add_rows, django_assert_num_queries
    )
    assert later


# --- Demo data -----------------------------------------------------------------------------------


def registrations_by_state(tenant) -> list[tuple[str, str]]:
    with tenant_context(tenant):
        return sorted(
            DealRegistration.objects.for_tenant(tenant).values_list("status", "customer_name")
        )


def test_the_demo_seeds_registrations_in_every_state_once(db, client_for):
    call_command("seed_demo", stdout=StringIO())
    acme = Tenant.objects.get(slug="acme")
    first = registrations_by_state(acme)
    # Every state but "submitted", which lasts only until the worker has screened it.
    assert {status for status, _ in first} == set(DealRegistration.Status.values) - {"submitted"}
    with tenant_context(acme):
        gold = PartnerTier.objects.get(tenant=acme, name="Gold")
        assert (gold.auto_approval_limit, gold.protection_days) == (Decimal("50000.00"), 120)
        cm = Membership.objects.get(user__email="cm@acme.test")
    queue = client_for(cm).get(reverse("vendor:registration_queue")).context["items"]
    conflicts = [i for i in queue if i.finding_count]
    assert [i.registration.customer_name for i in conflicts] == ["Coho Winery Inc."]
    assert [i.registration.customer_name for i in queue if i.overdue] == ["Blue Yonder Airlines"]
    again = StringIO()
    call_command("seed_demo_deals", stdout=again)
    assert again.getvalue() == "Demo registrations ready: 0 created.\n"
    assert registrations_by_state(acme) == first

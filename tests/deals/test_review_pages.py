"""The vendor's review pages as a reviewer works them: the queue keeps a conflicting pair
together and marks both rows, its tabs show counts, a registration opens with a conflict
banner and the side-by-side comparison above the decisions, and every decision offers
the next registration in the queue.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_context
from deals.models import DealRegistration
from deals.services.decisions import registration_reject
from tests.conftest import World
from tests.pages import assert_constant_queries

QUEUE = "vendor:registration_queue"


def detail_url(registration: DealRegistration) -> str:
    return reverse("vendor:registration_detail", args=[registration.pk])


def submitted_hours_ago(world: World, registration: DealRegistration, hours: int) -> None:
    """Move a registration's submission into the past (the queue's order is by it)."""
    at = timezone.now() - timedelta(hours=hours)
    with tenant_context(world.tenant):
        DealRegistration.objects.filter(pk=registration.pk).update(
            submitted_at=at, first_submitted_at=at, created_at=at - timedelta(seconds=7)
        )


def fresh(world: World, registration: DealRegistration) -> DealRegistration:
    with tenant_context(world.tenant):
        return DealRegistration.objects.get(pk=registration.pk)


@pytest.fixture
def queue(deals_world, register) -> dict[str, DealRegistration]:
    """Three waiting registrations, oldest first: Fabrikam (Northwind), Litware, and a later
    Fabrikam of another partner whose finding points at the first one."""
    first = register(deals_world.partner_rep, amount="40000")
    litware = register(
        deals_world.partner_rep,
        customer_name="Litware Inc.",
        customer_website="litware.com",
        contact_email="ann@litware.com",
    )
    second = register(
        deals_world.other_partner_rep,
        customer_name="Fabrikam, Inc",
        customer_website="https://fabrikam.com/contact",
        contact_email="buyer@fabrikam.com",
        customer_country="US",
        product_lines=["cloud", "security"],
        amount="55000",
    )
    for registration, hours in ((first, 10), (litware, 5), (second, 1)):
        submitted_hours_ago(deals_world, registration, hours)
    return {
        "first": fresh(deals_world, first),
        "litware": fresh(deals_world, litware),
        "second": fresh(deals_world, second),
    }


def queue_page(world: World, client_for, query: str = ""):
    response = client_for(world.channel_manager).get(reverse(QUEUE) + query)
    assert response.status_code == 200
    return response


# --- The queue ---------------------------------------------------------------------------------


def test_the_queue_keeps_a_conflicting_pair_together(deals_world, queue, client_for):
    response = queue_page(deals_world, client_for)
    first, litware, second = queue["first"], queue["litware"], queue["second"]
    # Longest waiting first, but the later Fabrikam moves up beside the one it conflicts with.
    assert [item.registration.pk for item in response.context["items"]] == [
        first.pk,
        second.pk,
        litware.pk,
    ]
    groups = [[item.registration.pk for item in g.items] for g in response.context["groups"]]
    assert groups == [[first.pk, second.pk], [litware.pk]]
    html = response.content.decode()
    assert html.count('data-testid="conflict-group"') == 1
    assert "2 registrations of one customer" in html


def test_both_rows_of_a_conflicting_pair_are_marked(deals_world, queue, client_for):
    response = queue_page(deals_world, client_for)
    first, litware, second = queue["first"], queue["litware"], queue["second"]
    marks = {item.registration.pk: item.conflicts_with for item in response.context["items"]}
    assert marks == {first.pk: (second.pk,), second.pk: (first.pk,), litware.pk: ()}
    html = response.content.decode()
    rows = dict(re.findall(r'data-testid="queue-row-(\d+)"(.*?)</tr>', html, flags=re.S))
    assert f"Conflicts with #{second.pk}" in rows[str(first.pk)]
    assert f"Conflicts with #{first.pk}" in rows[str(second.pk)]
    assert "None" not in rows[str(first.pk)]  # the earlier one said "None" before
    assert "None" in rows[str(litware.pk)]
    assert rows[str(first.pk)].lstrip().startswith('class="conflict"')
    assert rows[str(second.pk)].lstrip().startswith('class="conflict"')
    assert 'class="conflict"' not in rows[str(litware.pk)]
    # Neither side of a conflict is ticked for bulk approval; the clean one is.
    assert f'value="{first.pk}"' not in html
    assert f'value="{second.pk}"' not in html
    assert f'value="{litware.pk}"' in html


def test_two_registrations_pointing_at_one_approved_registration_are_grouped(
    deals_world, register, client_for, in_tenant
):
    client = client_for(deals_world.channel_manager)
    earlier = register(deals_world.partner_rep)
    client.post(reverse("vendor:registration_approve", args=[earlier.pk]), {"note": ""})
    assert fresh(deals_world, earlier).status == "approved"
    one = register(deals_world.other_partner_rep, customer_name="Fabrikam, Inc")
    between = register(
        deals_world.partner_rep, customer_name="Tailspin Toys", customer_website="tailspin.com"
    )
    two = register(deals_world.other_partner_admin, customer_name="Fabrikam Inc.")
    for registration, hours in ((one, 9), (between, 6), (two, 2)):
        submitted_hours_ago(deals_world, registration, hours)
    response = queue_page(deals_world, client_for)
    groups = [[item.registration.pk for item in g.items] for g in response.context["groups"]]
    assert groups == [[one.pk, two.pk], [between.pk]]
    marks = {item.registration.pk: item.conflicts_with for item in response.context["items"]}
    assert marks[one.pk] == (two.pk,)
    assert marks[two.pk] == (one.pk,)


def test_registrations_on_different_product_lines_are_not_grouped(
    deals_world, register, client_for
):
    cloud = register(deals_world.partner_rep, product_lines=["cloud"])
    security = register(
        deals_world.other_partner_rep, customer_name="Fabrikam, Inc", product_lines=["security"]
    )
    response = queue_page(deals_world, client_for)
    groups = [[item.registration.pk for item in g.items] for g in response.context["groups"]]
    assert groups == [[cloud.pk], [security.pk]]


def test_the_tabs_show_counts(deals_world, queue, register, client_for):
    client = client_for(deals_world.channel_manager)
    client.post(reverse("vendor:registration_approve", args=[queue["litware"].pk]), {})
    register(deals_world.partner_rep, submit=False, customer_name="A draft")  # never counted
    register(deals_world.other_tenant_partner_admin)  # another tenant: never counted
    for tab in ("", "?tab=approved", "?tab=all"):
        response = queue_page(deals_world, client_for, tab)
        assert response.context["tabs"] == [
            ("review", "In review", 2),
            ("info_requested", "Information requested", 0),
            ("approved", "Approved", 1),
            ("rejected", "Rejected", 0),
            ("all", "All", 3),
        ]
        html = response.content.decode()
        for text in ("In review (2)", "Information requested (0)", "Approved (1)", "All (3)"):
            assert text in html


@pytest.mark.parametrize("tab", ["review", "approved", "rejected"])
def test_the_tab_counts_cost_the_same_queries_as_rows_grow(
    deals_world, register, client_for, django_assert_num_queries, tab
):
    register(deals_world.partner_rep)
    n = iter(range(100))
    client = client_for(deals_world.channel_manager)

    def add_rows() -> None:
        for _ in range(2):
            i = next(n)
            kept = register(
                deals_world.partner_rep,
                customer_name=f"Initech {i}",
                customer_website=f"initech{i}.com",
                contact_email=f"a@initech{i}.com",
            )
            register(
                deals_world.other_partner_rep,
                customer_name=f"Initech {i}",
                customer_website=f"initech{i}.com",
                contact_email=f"b@initech{i}.com",
            )
            with tenant_context(deals_world.tenant):  # no request here: it resets the log
                registration_reject(
                    tenant=deals_world.tenant,
                    actor=deals_world.channel_manager,
                    registration_id=kept.pk,
                    reason_code="other",
                    message="",
                )

    add_rows()  # every tab has a row before the baseline
    url = reverse(QUEUE) + f"?tab={tab}"
    assert_constant_queries(client, url, add_rows, django_assert_num_queries)


# --- The detail page -----------------------------------------------------------------------------


def test_a_registration_with_findings_opens_with_a_conflict_banner(deals_world, queue, client_for):
    html = client_for(deals_world.channel_manager).get(detail_url(queue["second"])).content
    html = html.decode()
    banner = html.index('data-testid="conflict-banner"')
    assert banner < html.index('data-testid="registration-facts"')
    assert "Possible conflict" in html
    assert "Compare them below before you decide" in html


def test_the_earlier_registration_of_a_pair_opens_with_a_banner_too(deals_world, queue, client_for):
    response = client_for(deals_world.channel_manager).get(detail_url(queue["first"]))
    html = response.content.decode()
    assert 'data-testid="conflict-banner"' in html
    assert "The same customer was registered again later (1 registration)." in html
    # and the comparison with the later one
    [later] = response.context["later_findings"]
    assert later.other.id == queue["second"].pk
    assert later.other.partner_name == "Contoso Partners"


def test_a_registration_without_conflicts_has_no_banner(deals_world, queue, client_for):
    html = client_for(deals_world.channel_manager).get(detail_url(queue["litware"])).content
    assert b'data-testid="conflict-banner"' not in html


def test_the_comparison_comes_before_the_decisions(deals_world, queue, client_for):
    html = client_for(deals_world.channel_manager).get(detail_url(queue["second"])).content
    html = html.decode()
    assert html.index('data-testid="finding"') < html.index('data-testid="decisions"')


def compare_rows(html: str) -> dict[str, list[str]]:
    """The comparison table's rows: label → [this registration, the other record]."""
    table = re.search(r'<table class="compare".*?</table>', html, flags=re.S)
    assert table is not None
    rows = {}
    for label, cells in re.findall(
        r'<th scope="row">(.*?)</th>(.*?)</tr>', table.group(0), flags=re.S
    ):
        values = re.findall(r"<td[^>]*>(.*?)</td>", cells, flags=re.S)
        rows[label.strip()] = [" ".join(re.sub(r"<[^>]+>", "", v).split()) for v in values]
    return rows


def test_the_comparison_shows_what_tells_two_customers_apart(deals_world, queue, client_for):
    first, second = queue["first"], queue["second"]
    html = client_for(deals_world.channel_manager).get(detail_url(second)).content.decode()
    rows = compare_rows(html)
    assert rows["Customer"] == ["Fabrikam, Inc", "Fabrikam Inc."]
    assert rows["Website"] == ["https://fabrikam.com/contact", "https://www.fabrikam.com"]
    assert rows["Registrable domain"] == ["fabrikam.com", "fabrikam.com"]
    assert rows["Contact e-mail"] == ["buyer@fabrikam.com", "jane@fabrikam.com"]
    assert rows["Country"] == ["United States of America", "United States of America"]
    assert rows["Product lines"] == ["Cloud Suite, Security", "Cloud Suite"]
    assert rows["Amount"] == ["55,000.00 USD", "40,000.00 USD"]
    close = f"{second.expected_close_date:%Y-%m-%d}"
    assert rows["Expected close"] == [close, f"{first.expected_close_date:%Y-%m-%d}"]
    assert rows["Partner"] == ["Contoso Partners", "Northwind Resellers"]
    assert rows["First submitted"] == [
        f"{second.first_submitted_at:%Y-%m-%d %H:%M:%S} UTC",
        f"{first.first_submitted_at:%Y-%m-%d %H:%M:%S} UTC",
    ]
    assert rows["Created"] == [
        f"{second.created_at:%Y-%m-%d %H:%M:%S} UTC",
        f"{first.created_at:%Y-%m-%d %H:%M:%S} UTC",
    ]
    # the finding's shared product lines by name, never by code
    finding = re.search(r'data-testid="finding-summary">(.*?)</p>', html, flags=re.S)
    assert finding is not None
    assert "Cloud Suite" in finding.group(1)
    assert "cloud" not in finding.group(1)


def test_each_comparison_cell_is_labelled_for_narrow_screens(deals_world, queue, client_for):
    """At 390 px the columns stack (prm.css); each cell then names its column."""
    second = queue["second"]
    html = client_for(deals_world.channel_manager).get(detail_url(second)).content.decode()
    assert f'data-label="This registration (#{second.pk})"' in html
    assert f'data-label="Registration #{queue["first"].pk}"' in html


# --- Next in queue -------------------------------------------------------------------------------


DECISIONS = {
    "registration_approve": {"note": ""},
    "registration_reject": {"reason_code": "other", "message": "No"},
    "registration_request_info": {"message": "Which site?"},
    "registration_mark_duplicate": "original",
}


@pytest.mark.parametrize("action", list(DECISIONS))
def test_after_a_decision_the_page_offers_the_next_in_queue(deals_world, queue, client_for, action):
    # Deciding the later Fabrikam: the queue's order is first, second, Litware.
    second = queue["second"]
    data = DECISIONS[action]
    if data == "original":
        data = {"original": queue["first"].pk, "message": "Northwind was first"}
    client = client_for(deals_world.channel_manager)
    response = client.post(reverse(f"vendor:{action}", args=[second.pk]), data, follow=True)
    assert fresh(deals_world, second).status != "in_review"
    html = response.content.decode()
    link = re.search(r'<a [^>]*data-testid="next-in-queue"[^>]*>(.*?)</a>', html, flags=re.S)
    assert link is not None
    assert f'href="{detail_url(queue["litware"])}"' in link.group(0)
    assert "Next in queue" in link.group(1)
    assert response.context["next_in_queue"].pk == queue["litware"].pk


def test_the_next_in_queue_keeps_a_conflicting_pair_together(deals_world, queue, client_for):
    client = client_for(deals_world.channel_manager)
    client.post(reverse("vendor:registration_approve", args=[queue["first"].pk]), {})
    response = client.get(detail_url(queue["first"]))
    # Litware waited longer than the second Fabrikam, but the pair is decided together.
    assert response.context["next_in_queue"].pk == queue["second"].pk


def test_after_the_last_decision_the_page_leads_back_to_the_queue(
    deals_world, register, client_for
):
    only = register(deals_world.partner_rep)
    client = client_for(deals_world.channel_manager)
    response = client.post(
        reverse("vendor:registration_approve", args=[only.pk]), {"note": ""}, follow=True
    )
    html = response.content.decode()
    assert response.context["next_in_queue"] is None
    link = re.search(r'<a [^>]*data-testid="next-in-queue"[^>]*>(.*?)</a>', html, flags=re.S)
    assert link is not None
    assert f'href="{reverse(QUEUE)}"' in link.group(0)
    assert "Back to the queue" in link.group(1)


def test_a_registration_in_review_offers_no_next_link(deals_world, queue, client_for):
    response = client_for(deals_world.channel_manager).get(detail_url(queue["litware"]))
    assert 'data-testid="next-in-queue"' not in response.content.decode()


def test_the_next_in_queue_is_never_another_tenants(deals_world, register, client_for):
    ours = register(deals_world.partner_rep)
    register(deals_world.other_tenant_partner_admin)
    client = client_for(deals_world.channel_manager)
    response = client.post(
        reverse("vendor:registration_approve", args=[ours.pk]), {"note": ""}, follow=True
    )
    assert response.context["next_in_queue"] is None

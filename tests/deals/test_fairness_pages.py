"""Fairness of protection in the portals (issue 9): the vendor's detail page offers
"approve anyway" with a reason code when another partner's protection blocks the
approval, a plain approval is refused with the blocking finding, bulk approval skips it,
and both partners read the decision without learning who the other is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_context
from deals.models import Finding
from deals.services.decisions import registration_approve
from tests.deals.conftest import registration_state
from tests.deals.test_fairness import EARLIER, LATER
from tests.deals.test_vendor_pages import ACTION, ACTORS, LITWARE, action_url, detail_url
from tests.pages import member, messages_of


@pytest.fixture
def blocked(deals_world, register):
    """(earlier, later, finding): the earlier one approved, the later one blocked by it."""
    w = deals_world
    earlier = register(w.partner_rep, **EARLIER)
    later = register(w.other_partner_rep, **LATER)
    with tenant_context(w.tenant):
        registration_approve(tenant=w.tenant, actor=w.channel_manager, registration_id=earlier.pk)
        finding = Finding.objects.get(registration=later)
    return earlier, later, finding


def blocked_message(finding, earlier) -> str:
    return (
        f"Blocked by finding #{finding.pk} (Another partner's registration): registration "
        f"#{earlier.pk} of another partner is approved and protected for this customer on "
        "Cloud Suite. Reject this one, or approve it anyway with a reason."
    )


def test_a_blocked_registration_offers_approve_anyway_with_the_reason_codes(
    deals_world, blocked, client_for
):
    earlier, later, finding = blocked
    response = client_for(deals_world.channel_manager).get(detail_url(later))

    html = response.content.decode()
    assert [b.finding_id for b in response.context["approval_blockers"]] == [finding.pk]
    assert 'data-testid="approve-anyway"' in html
    assert f"Finding #{finding.pk} (Another partner&#x27;s registration)" in html
    assert f"registration #{earlier.pk}</a>" in html
    assert deals_world.partner.name in html  # vendor roles see both sides
    for code, label in [
        ("different_buying_entity", "Different buying entity"),
        ("different_project", "Different project"),
        ("shared_deal_agreed", "Shared deal agreed"),
    ]:
        assert f'<option value="{code}">{label}</option>' in html
    assert ">Approve anyway</button>" in html
    assert ">Approve</button>" not in html


def test_an_unblocked_registration_offers_the_plain_approval(deals_world, register, client_for):
    clean = register(deals_world.partner_rep, **LITWARE)
    html = client_for(deals_world.channel_manager).get(detail_url(clean)).content.decode()

    assert ">Approve</button>" in html
    assert "override_reason" not in html


def test_a_plain_approval_of_a_blocked_registration_shows_why_and_changes_nothing(
    deals_world, blocked, client_for
):
    earlier, later, finding = blocked
    before = registration_state(deals_world.tenant, later)

    response = client_for(deals_world.channel_manager).post(
        action_url("registration_approve", later), {"note": "Fine"}
    )

    assert response.status_code == 302
    assert messages_of(response) == [blocked_message(finding, earlier)]
    assert registration_state(deals_world.tenant, later) == before


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, ACTION, strict=True)))
def test_who_approves_anyway(deals_world, blocked, client_for, actor, expected):
    _, later, _ = blocked
    before = registration_state(deals_world.tenant, later)

    response = client_for(member(deals_world, actor)).post(
        action_url("registration_approve", later),
        {"override_reason": "different_project", "note": ""},
    )

    assert response.status_code == expected
    if expected == 302 and actor != "anonymous":
        until = timezone.localdate() + timedelta(days=deals_world.tier.protection_days)
        assert messages_of(response) == [
            "Approved alongside an earlier registration (different project): Lakeside "
            f"Veterinary Clinics is protected until {until.isoformat()}."
        ]
        after = registration_state(deals_world.tenant, later)
        assert (after.status, after.decision_message) == (
            "approved",
            "Approved alongside an earlier registration: different project.",
        )
    else:
        assert registration_state(deals_world.tenant, later) == before


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Approve anyway because: This field is required."),
        (
            "because",
            "Approve anyway because: Select a valid choice. because is not one of the "
            "available choices.",
        ),
    ],
)
def test_approve_anyway_needs_a_known_reason(deals_world, blocked, client_for, reason, message):
    _, later, _ = blocked
    before = registration_state(deals_world.tenant, later)

    response = client_for(deals_world.vendor_admin).post(
        action_url("registration_approve", later), {"override_reason": reason}
    )

    assert messages_of(response) == [message]
    assert registration_state(deals_world.tenant, later) == before


def test_both_partners_read_the_decision_without_the_other(deals_world, blocked, client_for):
    earlier, later, _ = blocked
    client_for(deals_world.channel_manager).post(
        action_url("registration_approve", later), {"override_reason": "shared_deal_agreed"}
    )

    theirs = client_for(deals_world.other_partner_rep).get(
        reverse("partner:registration_detail", args=[later.pk])
    )
    mine = client_for(deals_world.partner_rep).get(
        reverse("partner:registration_detail", args=[earlier.pk])
    )

    their_html, my_html = theirs.content.decode(), mine.content.decode()
    assert "Approved alongside an earlier registration: shared deal agreed." in their_html
    assert "Protection shared with a later registration" in my_html
    assert (
        "A later registration of this customer was approved alongside yours: shared deal "
        "agreed. Your protection is unchanged."
    ) in my_html
    assert deals_world.partner.name not in their_html
    assert "Lakeside Veterinary Clinic<" not in their_html
    assert deals_world.other_partner.name not in my_html
    assert "Clinics" not in my_html


def test_bulk_approve_skips_a_blocked_registration_and_says_why(
    deals_world, blocked, register, client_for
):
    earlier, later, finding = blocked
    clean = register(deals_world.partner_rep, **LITWARE)

    response = client_for(deals_world.channel_manager).post(
        reverse("vendor:registration_bulk_approve"), {"registration": [later.pk, clean.pk]}
    )

    assert messages_of(response) == [
        f"Approved 1 registration: #{clean.pk} Litware Inc..",
        f"Skipped #{later.pk} Lakeside Veterinary Clinics: {blocked_message(finding, earlier)}",
    ]
    assert registration_state(deals_world.tenant, later).status == "in_review"

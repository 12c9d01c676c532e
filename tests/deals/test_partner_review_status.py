"""After submitting, a partner's registration page updates itself (htmx polling a status
fragment until a decision), says why the registration waits for review and when a
decision is due — never anything of another partner."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_context
from deals.models import DealRegistration, RegistrationSettings
from deals.selectors import registration_review_wait
from deals.services.decisions import registration_approve, registration_reject
from tests.conftest import ALL_ACTORS, World
from tests.pages import assert_login_redirect, member

ACTORS = ("anonymous", *ALL_ACTORS, "other_tenant_partner_admin")
FRAGMENT = (302, 403, 403, 200, 200, 404, 403, 404)
POLL = 'hx-trigger="every 2s"'


def status_url(registration: DealRegistration, shown: str = "") -> str:
    url = reverse("partner:registration_status", args=[registration.pk])
    return f"{url}?shown={shown}" if shown else url


def page_url(registration: DealRegistration) -> str:
    return reverse("partner:registration_detail", args=[registration.pk])


def set_tier_limit(world: World, limit: str | None) -> None:
    with tenant_context(world.tenant):
        world.tier.auto_approval_limit = None if limit is None else Decimal(limit)
        world.tier.save()


def wait_of(world: World, registration: DealRegistration, actor: str = "partner_rep"):
    with tenant_context(world.tenant):
        fresh = DealRegistration.objects.get(pk=registration.pk)
        return registration_review_wait(registration=fresh, membership=world.member(actor))


@pytest.fixture
def waiting(deals_world, register) -> DealRegistration:
    """In review: the Gold tier approves nothing automatically."""
    return register(deals_world.partner_rep, customer_name="Blue Yonder Airlines")


# --- Role matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, FRAGMENT, strict=True)))
def test_who_polls_a_registrations_status(deals_world, waiting, client_for, actor, expected):
    url = status_url(waiting)
    response = client_for(member(deals_world, actor)).get(url)
    assert response.status_code == expected
    if actor == "anonymous":
        assert_login_redirect(response, url)
    body = response.content.decode()
    if expected == 200:
        assert POLL in body
    else:
        assert "Blue Yonder" not in body
        assert "Your vendor reviews" not in body


def test_the_status_fragment_is_get_only(deals_world, waiting, client_for):
    response = client_for(deals_world.partner_rep).post(status_url(waiting))
    assert response.status_code == 405


def test_a_missing_registration_is_a_404(deals_world, client_for):
    response = client_for(deals_world.partner_rep).get(
        reverse("partner:registration_status", args=[999999])
    )
    assert response.status_code == 404


# --- Polling -------------------------------------------------------------------------------------


def test_the_page_of_a_waiting_registration_polls_its_status(deals_world, waiting, client_for):
    html = client_for(deals_world.partner_rep).get(page_url(waiting)).content.decode()
    assert POLL in html
    assert f'hx-get="{status_url(waiting, "in_review")}"' in html
    assert 'data-testid="review-status"' in html


def test_a_submitted_registration_polls_while_screening_runs(deals_world, register, client_for):
    submitted = register(deals_world.partner_rep, screen=False)
    assert submitted.status == "submitted"
    response = client_for(deals_world.partner_rep).get(status_url(submitted, "submitted"))
    body = response.content.decode()
    assert POLL in body
    assert "Screening is under way" in body
    assert "HX-Refresh" not in response.headers


def test_the_fragment_stops_polling_once_decided_and_refreshes_the_page(
    deals_world, waiting, client_for
):
    client = client_for(deals_world.partner_rep)
    assert POLL in client.get(status_url(waiting, "in_review")).content.decode()
    with tenant_context(deals_world.tenant):
        registration_approve(
            tenant=deals_world.tenant,
            actor=deals_world.channel_manager,
            registration_id=waiting.pk,
            note="",
        )
    response = client.get(status_url(waiting, "in_review"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "hx-trigger" not in body
    assert "Approved" in body
    assert response.headers["HX-Refresh"] == "true"
    # the refreshed page does not poll either
    assert "hx-trigger" not in client.get(page_url(waiting)).content.decode()


def test_a_finished_screening_refreshes_the_page_and_keeps_polling(
    deals_world, register, client_for, in_tenant
):
    from deals.services.screening import registration_screen

    submitted = register(deals_world.partner_rep, screen=False)
    with in_tenant(deals_world.tenant):
        registration_screen(tenant=deals_world.tenant, registration_id=submitted.pk)
    response = client_for(deals_world.partner_rep).get(status_url(submitted, "submitted"))
    assert response.headers["HX-Refresh"] == "true"
    assert POLL in response.content.decode()


@pytest.mark.parametrize("status", ["draft", "info_requested", "rejected"])
def test_pages_that_wait_on_nobody_or_on_the_partner_do_not_poll(
    deals_world, register, client_for, status
):
    registration = register(deals_world.partner_rep, submit=status != "draft")
    with tenant_context(deals_world.tenant):
        if status == "info_requested":
            from deals.services.decisions import registration_request_info

            registration_request_info(
                tenant=deals_world.tenant,
                actor=deals_world.channel_manager,
                registration_id=registration.pk,
                message="Which site?",
            )
        elif status == "rejected":
            registration_reject(
                tenant=deals_world.tenant,
                actor=deals_world.channel_manager,
                registration_id=registration.pk,
                reason_code="other",
                message="",
            )
    html = client_for(deals_world.partner_rep).get(page_url(registration)).content.decode()
    assert "hx-trigger" not in html.replace('hx-trigger="input changed', "")


# --- Why it waits, and until when ------------------------------------------------------------


def test_a_tier_without_automatic_approval_says_the_vendor_reviews_everything(deals_world, waiting):
    wait = wait_of(deals_world, waiting)
    assert wait.reasons == ["Your vendor reviews every registration."]


def test_an_amount_above_the_tiers_limit_says_so(deals_world, register):
    set_tier_limit(deals_world, "50000")
    above = register(deals_world.partner_rep, amount=Decimal("50000.01"))
    assert wait_of(deals_world, above).reasons == [
        "Above your tier's auto-approval limit of $50,000."
    ]


def test_a_limit_with_cents_and_another_currency(deals_world, register):
    set_tier_limit(deals_world, "10000.50")
    above = register(deals_world.partner_rep, amount=Decimal("20000"))
    with tenant_context(deals_world.tenant):
        DealRegistration.objects.filter(pk=above.pk).update(currency="CHF")
    assert wait_of(deals_world, above).reasons == [
        "Above your tier's auto-approval limit of 10,000.50 CHF."
    ]


def test_a_possible_conflict_says_so_without_naming_the_other_partner(
    deals_world, register, client_for
):
    set_tier_limit(deals_world, "100000")
    register(deals_world.other_partner_rep, amount=Decimal("900000"))  # in review: too large
    ours = register(deals_world.partner_rep, customer_name="Fabrikam, Inc")
    assert ours.status == "in_review"
    wait = wait_of(deals_world, ours)
    assert wait.reasons == [
        "A possible conflict was found: another partner registered a similar customer first."
    ]
    html = client_for(deals_world.partner_rep).get(page_url(ours)).content.decode()
    assert "A possible conflict was found" in html
    assert "Contoso" not in html


def test_a_duplicate_of_our_own_says_so(deals_world, register):
    set_tier_limit(deals_world, "100000")
    register(deals_world.partner_admin, amount=Decimal("900000"))
    ours = register(deals_world.partner_rep, customer_name="Fabrikam, Inc")
    assert wait_of(deals_world, ours).reasons == [
        "A possible conflict was found: your organization already registered a similar customer."
    ]


def test_several_reasons_are_all_told(deals_world, register):
    set_tier_limit(deals_world, "1000")
    register(deals_world.other_partner_rep, amount=Decimal("900"))  # approved automatically
    ours = register(deals_world.partner_rep, customer_name="Fabrikam, Inc", amount="2000")
    assert wait_of(deals_world, ours).reasons == [
        "A possible conflict was found: another partner registered a similar customer first.",
        "Above your tier's auto-approval limit of $1,000.",
    ]


def test_a_registration_within_the_limit_and_without_findings_still_says_why(
    deals_world, waiting, in_tenant
):
    """E.g. a reverted decision, or a scope taken meanwhile: held for review all the same."""
    set_tier_limit(deals_world, "1000000")
    assert wait_of(deals_world, waiting).reasons == [
        "It could not be approved automatically, so your vendor reviews it."
    ]


def test_the_decision_is_due_by_the_review_sla(deals_world, waiting, client_for):
    with tenant_context(deals_world.tenant):
        RegistrationSettings.objects.filter(tenant=deals_world.tenant).update(review_sla_hours=24)
    wait = wait_of(deals_world, waiting)
    assert wait.due_at == waiting.submitted_at + timedelta(hours=24)
    assert wait.overdue is False
    html = client_for(deals_world.partner_rep).get(page_url(waiting)).content.decode()
    due = re.search(r'data-testid="decision-due">(.*?)</p>', html, flags=re.S)
    assert due is not None
    assert re.sub(r"<[^>]+>|\s+", " ", due.group(1)).split() == (
        f"A decision is due by {wait.due_at:%Y-%m-%d %H:%M} UTC .".split()
    )
    assert f'datetime="{wait.due_at.isoformat()}"' in html


def test_an_overdue_review_says_so(deals_world, waiting, client_for):
    with tenant_context(deals_world.tenant):
        DealRegistration.objects.filter(pk=waiting.pk).update(
            submitted_at=timezone.now() - timedelta(hours=49)
        )
    assert wait_of(deals_world, waiting).overdue is True
    html = client_for(deals_world.partner_rep).get(page_url(waiting)).content.decode()
    assert "The decision is overdue" in html


@pytest.mark.parametrize("status", ["draft", "approved"])
def test_only_a_waiting_registration_has_a_wait(deals_world, register, status):
    registration = register(deals_world.partner_rep, submit=status != "draft")
    if status == "approved":
        with tenant_context(deals_world.tenant):
            registration_approve(
                tenant=deals_world.tenant,
                actor=deals_world.channel_manager,
                registration_id=registration.pk,
                note="",
            )
    assert wait_of(deals_world, registration) is None

"""Several partners submit the same new customer at the same moment: exactly one (the first
submitted) is protected, the others carry a partner_conflict finding pointing at it.

Truly concurrent transactions: each submitter is a thread with its own PostgreSQL
connection, all released at once by a barrier; screening runs concurrently too, in
whatever order the threads reach it.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections

from accounts.models import Role
from accounts.tenancy import tenant_context
from deals.models import DealRegistration, Finding, ProtectionClaim
from deals.services.registrations import registration_create
from deals.services.screening import registration_screen
from tests.accounts.factories import MembershipFactory
from tests.deals.conftest import registration_data
from tests.partners.factories import PartnerOrganizationFactory
from tests.threads import run_at_once as at_once

pytestmark = pytest.mark.django_db(transaction=True)

SUBMITTERS = 6
ROUNDS = 5


@pytest.fixture
def submitters(deals_world):
    w = deals_world
    with tenant_context(w.tenant):
        w.tier.auto_approval_limit = Decimal("100000")
        w.tier.save()
    reps = []
    for number in range(SUBMITTERS):
        partner = PartnerOrganizationFactory(
            tenant=w.tenant, tier=w.tier, name=f"Concurrent Partner {number}"
        )
        reps.append(
            MembershipFactory(
                tenant=w.tenant,
                role=Role.PARTNER_REP,
                partner=partner,
                user__email=f"rep{number}@concurrent.test",
            )
        )
    return reps


def run_at_once(members, customer: str) -> list[Exception]:
    def submit_and_screen(member) -> None:
        with tenant_context(member.tenant):
            registration = registration_create(
                tenant=member.tenant,
                actor=member,
                submit=True,
                **registration_data(
                    customer_name=f"{customer} Inc",
                    customer_website=f"https://{customer.lower()}.example.com",
                    contact_email="",
                ),
            )
        with tenant_context(member.tenant):
            registration_screen(tenant=member.tenant, registration_id=registration.pk)

    return at_once(submit_and_screen, members)


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_exactly_the_first_submitter_is_protected(deals_world, submitters, round_number):
    w = deals_world
    customer = f"Simultaneous{round_number}"

    assert run_at_once(submitters, customer) == []

    with tenant_context(w.tenant):
        registrations = list(
            DealRegistration.objects.filter(customer_name=f"{customer} Inc").order_by(
                "first_submitted_at", "id"
            )
        )
        first, *others = registrations
        assert len(registrations) == SUBMITTERS
        assert first.status == "approved"
        assert [r.status for r in others] == ["in_review"] * (SUBMITTERS - 1)
        for other in others:  # each also points at any other earlier submitter
            finding = Finding.objects.get(registration=other, other_registration=first)
            assert finding.kind == "partner_conflict"
        assert set(
            ProtectionClaim.objects.filter(is_active=True).values_list("registration_id", flat=True)
        ) == {first.pk}


def test_a_later_submitter_waits_for_an_earlier_one_still_committing(deals_world, submitters):
    """A stamps its submission but has not committed; B submits the same customer. B must
    wait for A (advisory lock on the customer's keys), so A, the first, is protected."""
    w = deals_world
    first_rep, second_rep = submitters[:2]
    stamped, release, second_done = threading.Event(), threading.Event(), threading.Event()
    errors: list[Exception] = []
    data = registration_data(customer_name="Slow Commit Inc", customer_website="slowcommit.com")

    def first() -> None:
        try:
            with tenant_context(w.tenant):
                registration = registration_create(
                    tenant=w.tenant, actor=first_rep, submit=True, **data
                )
                stamped.set()
                release.wait(10)
            with tenant_context(w.tenant):
                registration_screen(tenant=w.tenant, registration_id=registration.pk)
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            with tenant_context(w.tenant):
                registration = registration_create(
                    tenant=w.tenant, actor=second_rep, submit=True, **data
                )
            with tenant_context(w.tenant):
                registration_screen(tenant=w.tenant, registration_id=registration.pk)
            second_done.set()
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert stamped.wait(10)
    threads[1].start()
    blocked = not second_done.wait(1.0)
    release.set()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert blocked, "the second submitter did not wait for the first one's commit"
    with tenant_context(w.tenant):
        statuses = dict(
            DealRegistration.objects.filter(customer_name="Slow Commit Inc").values_list(
                "owner__email", "status"
            )
        )
    assert statuses == {first_rep.user.email: "approved", second_rep.user.email: "in_review"}

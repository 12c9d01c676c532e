"""Screening against opportunities and won customers, the domain-event handlers, the beat
jobs' services, and the tenant pinning of the candidate functions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Notification
from accounts.tenancy import activate, tenant_context
from deals.handlers import convert_lost, convert_won, protect_again
from deals.models import DealRegistration, Finding, ProtectionClaim, RegistrationAlert
from deals.services import alerts
from deals.services.decisions import registration_approve
from pipeline.models import Opportunity
from tests.pipeline.factories import CustomerFactory, OpportunityFactory


def fabrikam(w):
    return CustomerFactory(
        tenant=w.tenant,
        name="Fabrikam Inc",
        name_normalized="fabrikam",
        name_core="fabrikam",
        root_domain="fabrikam.com",
    )


def findings_of(w, registration):
    with tenant_context(w.tenant):
        return list(
            Finding.objects.filter(registration=registration).values_list(
                "kind", "other_opportunity_id"
            )
        )


def test_an_open_direct_deal_is_a_direct_conflict(deals_world, register):
    w = deals_world
    deal = OpportunityFactory(tenant=w.tenant, customer=fabrikam(w), owner=w.channel_manager.user)
    registration = register(w.partner_rep)
    assert findings_of(w, registration) == [("direct_conflict", deal.pk)]
    assert registration.status == "in_review"


def test_an_unregistered_partner_deal_conflicts_and_ones_own_is_a_duplicate(deals_world, register):
    w = deals_world
    customer = fabrikam(w)
    theirs = OpportunityFactory(
        tenant=w.tenant, customer=customer, partner=w.other_partner, owner=w.other_partner_rep.user
    )
    mine = OpportunityFactory(
        tenant=w.tenant, customer=customer, partner=w.partner, owner=w.partner_rep.user
    )
    registration = register(w.partner_rep)
    assert sorted(findings_of(w, registration)) == sorted(
        [("partner_conflict", theirs.pk), ("duplicate", mine.pk)]
    )


def test_a_customer_won_in_the_last_twelve_months_is_an_existing_customer(deals_world, register):
    w = deals_world
    customer = fabrikam(w)
    recent = OpportunityFactory(tenant=w.tenant, customer=customer, owner=w.channel_manager.user)
    old = OpportunityFactory(tenant=w.tenant, customer=customer, owner=w.channel_manager.user)
    with tenant_context(w.tenant):
        Opportunity.objects.filter(pk=recent.pk).update(
            status="won", closed_on=timezone.localdate() - timedelta(days=300)
        )
        Opportunity.objects.filter(pk=old.pk).update(
            status="won", closed_on=timezone.localdate() - timedelta(days=400)
        )
    registration = register(w.partner_rep)
    assert findings_of(w, registration) == [("existing_customer", recent.pk)]


def test_the_registered_deal_is_not_a_finding_of_a_new_registration_its_registration_is(
    deals_world, register
):
    w = deals_world
    first = register(w.partner_rep)
    with tenant_context(w.tenant):
        registration_approve(tenant=w.tenant, actor=w.channel_manager, registration_id=first.pk)
    second = register(w.other_partner_rep)
    with tenant_context(w.tenant):
        kinds = list(
            Finding.objects.filter(registration=second).values_list(
                "kind", "other_registration_id", "other_opportunity_id"
            )
        )
    assert kinds == [("partner_conflict", first.pk, None)]


def approved(w, register):
    registration = register(w.partner_rep)
    with tenant_context(w.tenant):
        registration_approve(
            tenant=w.tenant, actor=w.channel_manager, registration_id=registration.pk
        )
        return DealRegistration.objects.get(pk=registration.pk)


def event_for(registration):
    class Event:  # what the dispatcher hands a handler: the subject is the opportunity
        tenant_id = registration.tenant_id
        subject_id = str(registration.opportunity_id)

    return Event()


def test_won_and_lost_convert_and_reopening_protects_again(deals_world, register):
    w = deals_world
    registration = approved(w, register)
    with tenant_context(w.tenant):
        convert_won(event_for(registration))
        assert DealRegistration.objects.get(pk=registration.pk).status == "won"
        assert not ProtectionClaim.objects.filter(is_active=True).exists()
        protect_again(event_for(registration))
        assert DealRegistration.objects.get(pk=registration.pk).status == "approved"
        assert ProtectionClaim.objects.filter(is_active=True).count() == 2
        convert_lost(event_for(registration))
        convert_lost(event_for(registration))  # delivered twice: nothing more happens
        assert DealRegistration.objects.get(pk=registration.pk).status == "lost"


def test_lapsed_protection_expires_unless_the_deal_is_closed(deals_world, register):
    w = deals_world
    lapsed = approved(w, register)
    closed = approved(
        w,
        lambda m: register(
            m, customer_name="Closed Co", customer_website="closed.com", contact_email=""
        ),
    )
    with tenant_context(w.tenant):
        yesterday = timezone.localdate() - timedelta(days=1)
        DealRegistration.objects.filter(pk__in=[lapsed.pk, closed.pk]).update(
            protected_until=yesterday
        )
        Opportunity.objects.filter(pk=closed.opportunity_id).update(status="won")
        assert alerts.protection_expire(tenant=w.tenant) == 1
        assert alerts.protection_expire(tenant=w.tenant) == 0
        statuses = dict(DealRegistration.objects.values_list("pk", "status"))
        assert not ProtectionClaim.objects.filter(registration=lapsed, is_active=True).exists()
    assert (statuses[lapsed.pk], statuses[closed.pk]) == ("expired", "approved")


def test_reminders_go_out_once_per_threshold(deals_world, register):
    w = deals_world
    registration = approved(w, register)
    with tenant_context(w.tenant):
        for days, kind in ((14, "expiry_14"), (7, "expiry_7"), (1, "expiry_1")):
            DealRegistration.objects.filter(pk=registration.pk).update(
                protected_until=timezone.localdate() + timedelta(days=days)
            )
            assert alerts.protection_remind(tenant=w.tenant) == 1
            assert alerts.protection_remind(tenant=w.tenant) == 0
            assert RegistrationAlert.objects.filter(kind=kind).count() == 1
        messages = list(
            Notification.objects.filter(recipient=w.partner_rep.user, verb="protection_reminder")
            .values_list("message", flat=True)
            .order_by("id")
        )
    assert len(messages) == 3
    assert "ends tomorrow" in messages[-1]


def test_overdue_reviews_are_escalated_once(deals_world, register):
    w = deals_world
    registration = register(w.partner_rep)
    fresh = register(
        w.partner_rep, customer_name="Fresh Co", customer_website="fresh.com", contact_email=""
    )
    with tenant_context(w.tenant):
        DealRegistration.objects.filter(pk=registration.pk).update(
            submitted_at=timezone.now() - timedelta(hours=49)
        )
        assert alerts.review_escalate(tenant=w.tenant) == 1
        assert alerts.review_escalate(tenant=w.tenant) == 0
        recipients = set(
            Notification.objects.filter(verb="registration_sla_breached").values_list(
                "recipient__email", flat=True
            )
        )
        assert DealRegistration.objects.get(pk=fresh.pk).escalated_at is None
    assert recipients == {"admin@acme.test", "cm@acme.test"}


def test_candidate_functions_see_only_the_pinned_tenant(deals_world, register):
    w = deals_world
    register(w.partner_rep)
    query = "SELECT count(*) FROM deals_registration_name_candidates(%s, 100)"
    with tenant_context(w.tenant), connection.cursor() as cursor:
        cursor.execute(query, ["fabrikam"])
        assert cursor.fetchone() == (1,)
    with tenant_context(w.other_tenant), connection.cursor() as cursor:
        cursor.execute(query, ["fabrikam"])
        assert cursor.fetchone() == (0,)
    with transaction.atomic(), connection.cursor() as cursor:
        activate(tenant_id=None)
        cursor.execute(query, ["fabrikam"])
        assert cursor.fetchone() == (0,)


def test_amounts_stay_decimal(deals_world, register):
    registration = register(deals_world.partner_rep, amount="1234.5")
    assert registration.amount == Decimal("1234.50")

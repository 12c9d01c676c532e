"""Deciding registrations (services): approve and protect, reject with a reason, ask for
information and screen the resubmission, mark duplicates, bulk approve, revert; extensions;
withdrawal frees the scope. Refusals change nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.errors import Conflict, PermissionDenied, ValidationFailed
from accounts.models import AuditEntry, DomainEvent, Notification
from accounts.tenancy import tenant_context
from deals.models import DealRegistration, Extension, ProtectionClaim, RegistrationEvent
from deals.services import decisions
from deals.services.registrations import (
    extension_request,
    registration_submit,
    registration_update,
    registration_withdraw,
)
from deals.services.screening import registration_screen
from pipeline.models import Opportunity
from tests.deals.conftest import submit_tasks


def call(w, service, membership, **kwargs):
    with tenant_context(w.tenant):
        return service(tenant=w.tenant, actor=membership, **kwargs)


def reload(w, registration):
    with tenant_context(w.tenant):
        return DealRegistration.objects.get(pk=registration.pk)


def assert_refused(w, error, service, membership, registration, match=None, **kwargs):
    """The service refuses with `error` and the registration keeps its status."""
    status = reload(w, registration).status
    with pytest.raises(error, match=match):
        call(w, service, membership, registration_id=registration.pk, **kwargs)
    assert reload(w, registration).status == status


def test_approval_protects_and_opens_the_opportunity(deals_world, register):
    w = deals_world
    registration = register(w.partner_rep)
    assert registration.status == "in_review"  # no auto-approval limit on the tier

    call(
        w,
        decisions.registration_approve,
        w.channel_manager,
        registration_id=registration.pk,
        note="Welcome aboard",
    )

    with tenant_context(w.tenant):
        approved = DealRegistration.objects.get(pk=registration.pk)
        deal = Opportunity.objects.select_related("stage").get(pk=approved.opportunity_id)
        notes = list(
            Notification.objects.filter(recipient=w.partner_rep.user).values_list("verb", flat=True)
        )
        verbs = list(
            RegistrationEvent.objects.filter(registration=approved).values_list("verb", flat=True)
        )
        claims = ProtectionClaim.objects.filter(registration=approved, is_active=True).count()
        assert DomainEvent.objects.filter(name="registration.approved").count() == 1
    assert approved.status == "approved"
    assert approved.protected_until == timezone.localdate() + timedelta(days=90)
    assert (approved.decided_by_id, approved.decision_message) == (
        w.channel_manager.user_id,
        "Welcome aboard",
    )
    assert (deal.partner_id, deal.owner_id, deal.stage.position) == (
        w.partner.pk,
        w.partner_rep.user_id,
        1,
    )
    assert (deal.amount, deal.budget_confirmed, deal.customer_id) == (
        Decimal("25000.00"),
        True,
        approved.customer_id,
    )
    assert notes == ["registration_approved"]
    assert verbs == ["created", "submitted", "screened", "in_review", "approved"]
    assert claims == 2  # root domain and name keys × one product line


def test_the_tier_sets_the_protection_days(deals_world, register):
    w = deals_world
    with tenant_context(w.tenant):
        w.tier.protection_days = 30
        w.tier.auto_approval_limit = Decimal("25000")
        w.tier.save()
    registration = register(w.partner_rep)
    assert (registration.status, registration.auto_approved) == ("approved", True)
    assert registration.protected_until == timezone.localdate() + timedelta(days=30)


def test_an_amount_above_the_tier_limit_waits_for_review(deals_world, register):
    w = deals_world
    with tenant_context(w.tenant):
        w.tier.auto_approval_limit = Decimal("24999.99")
        w.tier.save()
    assert register(w.partner_rep).status == "in_review"


@pytest.mark.parametrize(
    ("submitter", "refusal"),
    [
        ("other_partner_rep", "Blocked by finding #"),  # another partner: deals/services/blocking
        ("partner_admin", "already holds protection"),  # the same partner: the claim constraint
    ],
)
def test_approval_is_refused_while_another_registration_holds_the_scope(
    deals_world, register, submitter, refusal
):
    w = deals_world
    first = register(w.partner_rep)
    second = register(w.member(submitter))
    call(w, decisions.registration_approve, w.channel_manager, registration_id=first.pk)

    with pytest.raises(Conflict, match=refusal):
        call(w, decisions.registration_approve, w.channel_manager, registration_id=second.pk)

    second_now = reload(w, second)
    assert (second_now.status, second_now.opportunity_id, second_now.protected_until) == (
        "in_review",
        None,
        None,
    )
    with tenant_context(w.tenant):
        assert not ProtectionClaim.objects.filter(registration=second).exists()


@pytest.mark.parametrize(
    ("service", "fields"),
    [
        (decisions.registration_reject, {"reason_code": "nonsense"}),
        (decisions.registration_request_info, {"message": "  "}),
    ],
    ids=["rejection_needs_a_known_reason", "request_info_needs_a_message"],
)
def test_a_decision_without_its_reason_is_refused(deals_world, register, service, fields):
    w = deals_world
    registration = register(w.partner_rep)
    assert_refused(w, ValidationFailed, service, w.channel_manager, registration, **fields)


def test_rejection_tells_the_partner_the_reason(deals_world, register):
    w = deals_world
    registration = register(w.partner_rep)
    call(
        w,
        decisions.registration_reject,
        w.channel_manager,
        registration_id=registration.pk,
        reason_code="outside_territory",
        message="We sell direct in this region.",
    )

    rejected = reload(w, registration)
    assert (rejected.status, rejected.decision_code, rejected.decision_message) == (
        "rejected",
        "outside_territory",
        "We sell direct in this region.",
    )
    with tenant_context(w.tenant):
        message = Notification.objects.get(recipient=w.partner_rep.user).message
    assert message == (
        "Your registration for Fabrikam Inc. was rejected: Outside territory. "
        "We sell direct in this region."
    )
    with pytest.raises(Conflict, match="Only a registration in review"):
        call(w, decisions.registration_approve, w.channel_manager, registration_id=registration.pk)


def test_information_request_then_resubmission_is_screened_again(
    deals_world, register, sent_tasks, django_capture_on_commit_callbacks
):
    w = deals_world
    registration = register(w.partner_rep)
    call(
        w,
        decisions.registration_request_info,
        w.channel_manager,
        registration_id=registration.pk,
        message="Who signs the contract?",
    )
    assert reload(w, registration).status == "info_requested"

    call(
        w,
        registration_update,
        w.partner_rep,
        registration_id=registration.pk,
        contact_name="Sam Signer",
        description="Sam signs.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        call(w, registration_submit, w.partner_rep, registration_id=registration.pk)
    assert sent_tasks == submit_tasks(w.tenant, registration.pk)
    with tenant_context(w.tenant):
        registration_screen(tenant=w.tenant, registration_id=registration.pk)
    again = reload(w, registration)
    assert (again.status, again.contact_name) == ("in_review", "Sam Signer")
    assert again.first_submitted_at < again.submitted_at


def test_mark_as_duplicate_names_only_the_date_to_the_partner(deals_world, register):
    w = deals_world
    original = register(w.partner_rep)
    duplicate = register(w.other_partner_rep)
    call(
        w,
        decisions.registration_mark_duplicate,
        w.channel_manager,
        registration_id=duplicate.pk,
        original_id=original.pk,
    )

    marked = reload(w, duplicate)
    assert (marked.status, marked.decision_code, marked.duplicate_of_id) == (
        "rejected",
        "duplicate",
        original.pk,
    )
    with tenant_context(w.tenant):
        message = Notification.objects.get(recipient=w.other_partner_rep.user).message
    assert w.partner.name not in message
    assert original.first_submitted_at.date().isoformat() in message


def test_mark_duplicate_refuses_another_tenants_registration(deals_world, register):
    w = deals_world
    foreign = register(w.other_tenant_partner_admin)
    mine = register(w.partner_rep)
    assert_refused(
        w,
        ValidationFailed,
        decisions.registration_mark_duplicate,
        w.channel_manager,
        mine,
        original_id=foreign.pk,
    )


def test_bulk_approve_skips_registrations_with_findings(deals_world, register):
    w = deals_world
    clean = register(
        w.partner_rep, customer_name="Clean Co", customer_website="clean.com", contact_email=""
    )
    first = register(w.partner_admin)
    conflicting = register(w.other_partner_rep)

    result = call(
        w,
        decisions.registration_bulk_approve,
        w.channel_manager,
        registration_ids=[clean.pk, first.pk, conflicting.pk, 999999],
    )

    assert result.approved == [clean.pk, first.pk]
    assert set(result.skipped) == {conflicting.pk, 999999}
    assert reload(w, conflicting).status == "in_review"


def test_only_a_vendor_admin_reverts_and_protection_is_released(deals_world, register):
    w = deals_world
    registration = register(w.partner_rep)
    call(w, decisions.registration_approve, w.channel_manager, registration_id=registration.pk)
    revert = decisions.registration_revert
    assert_refused(w, PermissionDenied, revert, w.channel_manager, registration, note="Oops")
    assert reload(w, registration).status == "approved"

    call(
        w,
        decisions.registration_revert,
        w.vendor_admin,
        registration_id=registration.pk,
        note="Approved the wrong one",
    )

    reverted = reload(w, registration)
    assert (reverted.status, reverted.protected_until, reverted.decision_code) == (
        "in_review",
        None,
        "",
    )
    with tenant_context(w.tenant):
        assert not ProtectionClaim.objects.filter(
            registration=registration, is_active=True
        ).exists()
        assert AuditEntry.objects.filter(verb="registration_reverted").count() == 1
    # approving again reuses the opportunity it opened the first time
    call(w, decisions.registration_approve, w.channel_manager, registration_id=registration.pk)
    assert reload(w, registration).opportunity_id == reverted.opportunity_id


def test_extensions_add_the_tenant_days_up_to_the_maximum(deals_world, register):
    w = deals_world
    registration = register(w.partner_rep)
    call(w, decisions.registration_approve, w.channel_manager, registration_id=registration.pk)
    until = reload(w, registration).protected_until
    for number in (1, 2):
        extension = call(
            w,
            extension_request,
            w.partner_rep,
            registration_id=registration.pk,
            reason=f"Procurement delay {number}",
        )
        call(
            w,
            decisions.extension_grant,
            w.channel_manager,
            registration_id=registration.pk,
            extension_id=extension.pk,
        )
    extended = reload(w, registration)
    assert (extended.protected_until, extended.extensions_granted) == (
        until + timedelta(days=60),
        2,
    )
    with pytest.raises(Conflict, match="most extensions"):
        call(w, extension_request, w.partner_rep, registration_id=registration.pk, reason="Again")


def test_a_declined_extension_keeps_the_date(deals_world, register):
    w = deals_world
    registration = register(w.partner_rep)
    call(w, decisions.registration_approve, w.channel_manager, registration_id=registration.pk)
    until = reload(w, registration).protected_until
    extension = call(
        w, extension_request, w.partner_rep, registration_id=registration.pk, reason="Slow"
    )
    with pytest.raises(Conflict, match="already waiting"):
        call(w, extension_request, w.partner_rep, registration_id=registration.pk, reason="Slow")
    call(
        w,
        decisions.extension_decline,
        w.channel_manager,
        registration_id=registration.pk,
        extension_id=extension.pk,
        reason="Move faster",
    )
    with tenant_context(w.tenant):
        assert Extension.objects.get(pk=extension.pk).status == "declined"
    assert reload(w, registration).protected_until == until
    with pytest.raises(Conflict):
        call(
            w,
            decisions.extension_grant,
            w.channel_manager,
            registration_id=registration.pk,
            extension_id=extension.pk,
        )


def test_withdrawing_frees_the_scope_for_another_partner(deals_world, register):
    w = deals_world
    first = register(w.partner_rep)
    call(w, decisions.registration_approve, w.channel_manager, registration_id=first.pk)
    second = register(w.other_partner_rep)

    call(w, registration_withdraw, w.partner_rep, registration_id=first.pk)
    call(w, decisions.registration_approve, w.channel_manager, registration_id=second.pk)

    assert (reload(w, first).status, reload(w, second).status) == ("withdrawn", "approved")
    with pytest.raises(Conflict):
        call(w, registration_withdraw, w.partner_rep, registration_id=first.pk)


def test_partners_cannot_decide_and_vendors_cannot_register(deals_world, register):
    w = deals_world
    registration = register(w.partner_rep)
    with pytest.raises(PermissionDenied):
        call(w, decisions.registration_approve, w.partner_admin, registration_id=registration.pk)
    with pytest.raises(PermissionDenied):
        register(w.channel_manager)
    assert reload(w, registration).status == "in_review"

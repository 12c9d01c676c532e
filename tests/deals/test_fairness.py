"""Fairness of protection (issue 9): a registration is not approved beside another
partner's protected registration of the same customer on an overlapping product line,
unless a vendor role approves it anyway with a reason code; both partners are told the
decision, never who the other is. Bulk approval skips such registrations."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.db.models import Count

from accounts.errors import Conflict, PermissionDenied, ValidationFailed
from accounts.models import AuditEntry, DomainEvent, Notification
from accounts.tenancy import tenant_context
from deals.models import DealRegistration, Finding, ProtectionClaim, RegistrationEvent
from deals.services import decisions
from deals.services.blocking import ApprovalBlocked
from deals.services.registrations import registration_withdraw
from tests.deals.conftest import registration_state

EARLIER = {
    "customer_name": "Lakeside Veterinary Clinic",
    "customer_website": "https://lakesidevet.com",
    "contact_email": "jane@lakesidevet.com",
}
LATER = {  # 98 % alike, no domain: the exact keys (and so the claims) differ
    "customer_name": "Lakeside Veterinary Clinics",
    "customer_website": "",
    "contact_email": "bob@gmail.com",
}


def call(w, service, membership, **kwargs):
    with tenant_context(w.tenant):
        return service(tenant=w.tenant, actor=membership, **kwargs)


def reload(w, registration):
    with tenant_context(w.tenant):
        return DealRegistration.objects.get(pk=registration.pk)


def approve(w, registration, membership=None, **kwargs):
    return call(
        w,
        decisions.registration_approve,
        membership or w.channel_manager,
        registration_id=registration.pk,
        **kwargs,
    )


@pytest.fixture
def pair(deals_world, register):
    """Two partners' registrations of one customer; the later carries the finding."""
    w = deals_world
    earlier = register(w.partner_rep, **EARLIER)
    later = register(w.other_partner_rep, **LATER)
    with tenant_context(w.tenant):
        finding = Finding.objects.get(registration=later)
    assert (finding.kind, finding.other_registration_id) == ("partner_conflict", earlier.pk)
    return earlier, later, finding


def test_approval_beside_a_protection_approved_after_screening_is_refused(deals_world, pair):
    w = deals_world
    earlier, later, finding = pair
    approve(w, earlier)  # approved after the later one was screened
    before = registration_state(w.tenant, later)

    with pytest.raises(ApprovalBlocked) as refused:
        approve(w, later)

    assert isinstance(refused.value, Conflict)
    assert refused.value.status == 409
    assert refused.value.message == (
        f"Blocked by finding #{finding.pk} (Another partner's registration): registration "
        f"#{earlier.pk} of another partner is approved and protected for this customer on "
        "Cloud Suite. Reject this one, or approve it anyway with a reason."
    )
    assert refused.value.details() == {
        "blocking_findings": [
            {
                "finding_id": finding.pk,
                "kind": "partner_conflict",
                "registration_id": earlier.pk,
            }
        ]
    }
    assert registration_state(w.tenant, later) == before
    with tenant_context(w.tenant):
        assert not ProtectionClaim.objects.filter(registration=later).exists()


def test_the_earlier_registration_is_refused_beside_the_later_protected_one(deals_world, pair):
    w = deals_world
    earlier, later, finding = pair
    approve(w, later)  # the earlier one was still in review: nothing blocked it
    before = registration_state(w.tenant, earlier)

    with pytest.raises(ApprovalBlocked) as refused:
        approve(w, earlier)

    assert refused.value.details()["blocking_findings"] == [
        {"finding_id": finding.pk, "kind": "partner_conflict", "registration_id": later.pk}
    ]
    assert registration_state(w.tenant, earlier) == before


@pytest.mark.parametrize("end", ["withdrawn", "reverted"])
def test_a_protection_that_ended_blocks_nothing(deals_world, pair, end):
    w = deals_world
    earlier, later, _ = pair
    approve(w, earlier)
    if end == "withdrawn":
        call(w, registration_withdraw, w.partner_rep, registration_id=earlier.pk)
    else:
        call(w, decisions.registration_revert, w.vendor_admin, registration_id=earlier.pk, note="x")

    assert approve(w, later).status == "approved"


def test_the_same_partner_is_not_blocked_by_its_own_protection(deals_world, register):
    w = deals_world
    earlier = register(w.partner_rep, **EARLIER)
    later = register(w.partner_admin, **LATER)  # a duplicate: the vendor decides
    approve(w, earlier)

    assert approve(w, later).status == "approved"


def test_no_product_lines_overlap_every_line(deals_world, register):
    """A registration without product lines (data from before lines were required) counts
    as registering every line: it blocks, and is blocked by, any line."""
    w = deals_world
    earlier = register(w.partner_rep, **EARLIER)
    with tenant_context(w.tenant):
        earlier.product_lines.clear()
    later = register(w.other_partner_rep, product_lines=["security"], **LATER)
    approve(w, earlier)

    with pytest.raises(ApprovalBlocked):
        approve(w, later)


def test_approve_anyway_is_recorded_and_told_to_both_partners_without_identity(deals_world, pair):
    w = deals_world
    earlier, later, finding = pair
    approve(w, earlier)

    approved = approve(w, later, override_reason="different_project", note="Separate site.")

    approved = reload(w, later)
    assert (approved.status, approved.override_reason, approved.decision_code) == (
        "approved",
        "different_project",
        "approved",
    )
    assert approved.decision_message == (
        "Approved alongside an earlier registration: different project. Separate site."
    )
    with tenant_context(w.tenant):
        mine = RegistrationEvent.objects.filter(registration=later).last()
        theirs = RegistrationEvent.objects.filter(registration=earlier).last()
        told_later = Notification.objects.get(recipient=w.other_partner_rep.user).message
        told_earlier = Notification.objects.filter(recipient=w.partner_rep.user).last()
        audit = AuditEntry.objects.filter(verb="registration_approved_alongside").get()
        event = DomainEvent.objects.filter(name="registration.approved").last()
        claims = ProtectionClaim.objects.filter(registration=later, is_active=True).count()
    assert (mine.verb, mine.reason_code, mine.actor_id) == (
        "approved_alongside",
        "different_project",
        w.channel_manager.user_id,
    )
    assert mine.message == approved.decision_message
    assert (theirs.verb, theirs.reason_code, theirs.from_status, theirs.to_status) == (
        "protection_shared",
        "different_project",
        "approved",
        "approved",
    )
    assert theirs.message == (
        "A later registration of this customer was approved alongside yours: different "
        "project. Your protection is unchanged."
    )
    assert told_later == (
        "Your registration for Lakeside Veterinary Clinics is approved alongside an earlier "
        f"registration (different project) and protected until {approved.protected_until}. "
        "Note: Separate site."
    )
    assert told_earlier.verb == "registration_protection_shared"
    assert told_earlier.message == (
        "A later registration of Lakeside Veterinary Clinic was approved alongside yours: "
        "different project. Your protection is unchanged."
    )
    for text in (told_later, told_earlier.message, mine.message, theirs.message):
        assert "#" not in text
        assert w.partner.name not in text
        assert w.other_partner.name not in text
    assert (audit.subject_id, audit.after["override_reason"]) == (
        str(later.pk),
        "different_project",
    )
    assert event.payload["override_reason"] == "different_project"
    assert claims == 1  # its own name key: nothing it shares with the earlier one


def test_approve_anyway_on_the_same_keys_shares_the_claims_without_a_crash(deals_world, register):
    w = deals_world
    earlier = register(w.partner_rep)
    later = register(w.other_partner_rep)  # the same domain and name: the same claims
    approve(w, earlier)
    with pytest.raises(ApprovalBlocked):
        approve(w, later)

    approve(w, later, override_reason="shared_deal_agreed")

    with tenant_context(w.tenant):
        held = dict(
            ProtectionClaim.objects.filter(is_active=True)
            .values_list("registration_id")
            .annotate(n=Count("id"))
            .order_by()
        )
    assert reload(w, later).status == "approved"
    assert held == {earlier.pk: 2}  # the earlier one keeps its claims; none is doubled


def test_an_unknown_override_reason_is_refused_and_changes_nothing(deals_world, pair):
    w = deals_world
    earlier, later, _ = pair
    approve(w, earlier)
    before = registration_state(w.tenant, later)

    with pytest.raises(ValidationFailed) as refused:
        approve(w, later, override_reason="because")

    assert refused.value.fields == {
        "override_reason": [
            "One of: different_buying_entity, different_project, shared_deal_agreed."
        ]
    }
    assert registration_state(w.tenant, later) == before


@pytest.mark.parametrize("actor", ["partner_rep", "partner_admin", "other_partner_admin"])
def test_partner_roles_never_override(deals_world, pair, actor):
    w = deals_world
    earlier, later, _ = pair
    approve(w, earlier)
    before = registration_state(w.tenant, later)

    with pytest.raises(PermissionDenied):
        approve(w, later, w.member(actor), override_reason="different_project")

    assert registration_state(w.tenant, later) == before


def test_approve_anyway_without_a_conflict_is_a_plain_approval(deals_world, register):
    w = deals_world
    registration = register(w.partner_rep)

    approved = approve(w, registration, override_reason="different_project")

    assert (approved.status, approved.override_reason, approved.decision_message) == (
        "approved",
        "",
        "",
    )


def test_reverting_an_override_clears_it_and_blocks_again(deals_world, pair):
    w = deals_world
    earlier, later, _ = pair
    approve(w, earlier)
    approve(w, later, override_reason="different_buying_entity")

    call(w, decisions.registration_revert, w.vendor_admin, registration_id=later.pk, note="No")

    assert (reload(w, later).status, reload(w, later).override_reason) == ("in_review", "")
    with pytest.raises(ApprovalBlocked):
        approve(w, later)


# --- Bulk approval ---------------------------------------------------------------------------


def test_bulk_approve_skips_a_blocked_registration_and_says_why(deals_world, pair, register):
    w = deals_world
    earlier, later, finding = pair
    clean = register(
        w.partner_rep, customer_name="Tailspin Toys", customer_website="", contact_email=""
    )
    approve(w, later)  # the earlier one has no finding of its own, yet is blocked now

    result = call(
        w,
        decisions.registration_bulk_approve,
        w.channel_manager,
        registration_ids=[earlier.pk, clean.pk],
    )

    assert result.approved == [clean.pk]
    assert result.skipped == {
        earlier.pk: (
            f"Blocked by finding #{finding.pk} (Another partner's registration): registration "
            f"#{later.pk} of another partner is approved and protected for this customer on "
            "Cloud Suite. Reject this one, or approve it anyway with a reason."
        )
    }
    assert reload(w, earlier).status == "in_review"


# --- Concurrency -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_number", range(3))
def test_two_simultaneous_approvals_of_a_pair_protect_exactly_one(
    deals_world, register, round_number
):
    """The pair's exact keys differ, so the claim constraint cannot arbitrate: the approval
    locks the keys of the registrations its findings link, and checks under them."""
    w = deals_world
    earlier = register(w.partner_rep, **EARLIER)
    later = register(w.other_partner_rep, **LATER)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def run(registration) -> None:
        try:
            barrier.wait(timeout=10)
            approve(w, registration)
        except Exception as error:  # noqa: BLE001  (reported by the test)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(r,)) for r in (earlier, later)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(reload(w, r).status for r in (earlier, later))
    assert statuses == ["approved", "in_review"]
    assert [type(error) for error in errors] == [ApprovalBlocked]

"""The audit log lists only the fields a change changed, in words people read (field labels,
choice labels, names instead of IDs), and links each record to its page — also for rows
written before the audit kept only changes."""

# ruff: noqa: F811  (the deals fixtures are imported to be shared, then used as parameters)
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEntry
from accounts.services.audit import audit_record, snapshot
from accounts.tenancy import tenant_context
from deals.models import DealRegistration
from pipeline.models import CoSellRequest, Stage
from pipeline.services.opportunities import AUDITED
from tests.deals.conftest import deals_world  # noqa: F401  (fixture)
from tests.partners.home_data import TODAY, deal, registration
from tests.pipeline.factories import cosell_type

URL = "/vendor/audit/"


def old_row(tenant, actor, subject_type, subject_id, before, after, verb="changed") -> None:
    """A row as the audit wrote them before it kept only changes."""
    with tenant_context(tenant):
        AuditEntry.objects.create(
            tenant=tenant,
            actor=actor,
            verb=verb,
            subject_type=subject_type,
            subject_id=str(subject_id),
            subject_repr="Recorded",
            before=before,
            after=after,
        )


def rows(client) -> list:
    return client.get(URL).context["rows"]


def stages_of(tenant) -> list[Stage]:
    with tenant_context(tenant):
        return list(Stage.objects.for_tenant(tenant).filter(kind="open").order_by("position"))


def test_a_stage_move_is_written_with_the_changed_fields_only(deals_world):
    w = deals_world
    opportunity = deal(w.tenant, w.partner_rep, amount="5000.00")
    first, second = stages_of(w.tenant)[:2]
    with tenant_context(w.tenant):
        before = snapshot(opportunity, AUDITED)  # what the move service snapshots before
        after = {**snapshot(opportunity, ["status", "amount"]), "stage": second.pk}
        entry = audit_record(
            tenant=w.tenant,
            actor=w.partner_rep.user,
            verb="opportunity_moved",
            subject=opportunity,
            before=before,
            after=after,
        )
        stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.before, stored.after) == ({"stage": first.pk}, {"stage": second.pk})


def test_an_old_stage_move_row_shows_the_stage_by_name_and_nothing_else(deals_world, client_for):
    w = deals_world
    opportunity = deal(w.tenant, w.partner_rep, amount="5000.00")
    first, second = stages_of(w.tenant)[:2]
    with tenant_context(w.tenant):
        before = snapshot(opportunity, AUDITED)
    after = {**{k: before[k] for k in ("status", "amount")}, "stage": second.pk}
    old_row(w.tenant, w.partner_rep.user, "pipeline.opportunity", opportunity.pk, before, after)

    [row] = rows(client_for(w.vendor_admin))
    assert [(c.label, c.before, c.after) for c in row.changes] == [
        ("Stage", first.name, second.name)
    ]
    assert row.url == reverse("vendor:opportunity_detail", args=[opportunity.pk])
    assert row.subject_label == "Opportunity"


def test_values_read_as_labels_names_yes_no_and_money(deals_world, client_for):
    w = deals_world
    old_row(
        w.tenant,
        w.vendor_admin.user,
        "deals.dealregistration",
        123,
        {"status": "in_review", "protected_until": None, "extensions_granted": 0},
        {"status": "approved", "protected_until": "2027-03-01", "extensions_granted": 0},
        verb="registration_approved",
    )
    old_row(
        w.tenant,
        w.vendor_admin.user,
        "partners.partnerorganization",
        w.partner.pk,
        {"region": "EMEA", "tier": None, "status": "active"},
        {"region": "APAC", "tier": w.tier.pk, "status": "active"},
    )
    old_row(
        w.tenant,
        w.vendor_admin.user,
        "partners.partnertier",
        w.tier.pk,
        {"auto_approval_limit": "25000.00", "requires_review": True},
        {"auto_approval_limit": "1250000.50", "requires_review": False},
    )
    tier_row, partner_row, registration_row = rows(client_for(w.vendor_admin))
    assert registration_row.verb_label == "Registration approved"
    assert [(c.label, c.before, c.after) for c in registration_row.changes] == [
        ("Status", "In review", "Approved"),
        ("Protected until", None, "2027-03-01"),
    ]
    assert [(c.label, c.before, c.after) for c in partner_row.changes] == [
        ("Tier", None, "Gold"),  # in the order of the record's fields
        ("Region", "Europe, Middle East & Africa", "Asia Pacific"),
    ]
    assert [(c.label, c.before, c.after) for c in tier_row.changes] == [
        ("Auto approval limit", "25,000.00", "1,250,000.50"),
        ("Requires review", "Yes", "No"),  # not a field (any more): its name, readable
    ]


def test_each_record_links_to_its_page(deals_world, client_for):
    w = deals_world
    opportunity = deal(w.tenant, w.partner_rep)
    approved = registration(w.partner_rep, DealRegistration.Status.APPROVED, ends_in=30)
    with tenant_context(w.tenant):
        request = CoSellRequest.objects.create(
            tenant=w.tenant,
            opportunity=opportunity,
            resource_type=cosell_type(w.tenant, "solution_architect"),
            need_by=TODAY() + timedelta(days=3),
        )
    deal_page = reverse("vendor:opportunity_detail", args=[opportunity.pk])
    subjects = [
        ("deals.dealregistration", approved.pk, f"/vendor/registrations/{approved.pk}/"),
        ("pipeline.opportunity", opportunity.pk, deal_page),
        ("pipeline.cosellrequest", request.pk, deal_page),
        ("partners.partnerorganization", w.partner.pk, f"/vendor/partners/{w.partner.pk}/"),
        ("partners.partnertier", w.tier.pk, f"/vendor/tiers/{w.tier.pk}/edit/"),
        ("deals.productline", 1, reverse("vendor:registration_settings")),
        ("nothing.known", 5, None),
    ]
    for subject_type, pk, _ in subjects:
        old_row(w.tenant, w.vendor_admin.user, subject_type, pk, None, {"name": "x"})
    response = client_for(w.vendor_admin).get(URL)
    shown = {row.entry.subject_type: row.url for row in response.context["rows"]}
    assert shown == {subject_type: url for subject_type, _, url in subjects}
    html = response.content.decode()
    for _, _, url in subjects[:-1]:
        assert f'href="{url}"' in html


def test_a_record_of_another_tenant_is_never_linked_through_a_parent(deals_world, client_for):
    w = deals_world
    foreign = deal(w.other_tenant, w.other_tenant_partner_admin)
    with tenant_context(w.other_tenant):
        request = CoSellRequest.objects.create(
            tenant=w.other_tenant,
            opportunity=foreign,
            resource_type=cosell_type(w.other_tenant, "solution_architect"),
            need_by=TODAY(),
        )
    old_row(w.tenant, w.vendor_admin.user, "pipeline.cosellrequest", request.pk, None, {"a": 1})
    [row] = rows(client_for(w.vendor_admin))
    assert row.url is None


@pytest.mark.parametrize("count", [8])
def test_the_query_count_does_not_grow_with_mixed_records(
    deals_world, client_for, django_assert_num_queries, count
):
    w = deals_world
    first, second = stages_of(w.tenant)[:2]

    def add(n: int) -> None:
        opportunity = deal(w.tenant, w.partner_rep)
        old_row(
            w.tenant,
            w.vendor_admin.user,
            "pipeline.opportunity",
            opportunity.pk,
            {"stage": first.pk},
            {"stage": second.pk},
        )
        old_row(
            w.tenant,
            w.vendor_admin.user,
            "partners.partnerorganization",
            w.partner.pk,
            {"tier": None},
            {"tier": w.tier.pk},
        )
        old_row(w.tenant, w.vendor_admin.user, "commissions.commissionentry", 10_000 + n,
                {"status": "accrued"}, {"status": "approved"})  # fmt: skip

    add(0)
    client = client_for(w.vendor_admin)
    client.get(URL)
    with CaptureQueriesContext(connection) as baseline:
        client.get(URL)
    for n in range(1, count):
        add(n)
    with django_assert_num_queries(len(baseline)):
        assert client.get(URL).status_code == 200

"""Vendor portal commission pages: the ledger (approve, pay), payout batches, totals by
partner and period, CSV exports, and the plan versions (list, create, edit, preview).
Role matrix, isolation, bad input, refused transitions, exact CSV rows, query counts.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, Tenant
from commissions.forms import PlanVersionForm
from commissions.models import CommissionEntry, PayoutBatch, PlanVersion, ProductBonus, TierRate
from commissions.selectors import period_current
from commissions.services.calculation import quarter_start
from commissions.services.ledger import commission_approve, payout_create
from commissions.services.plans import plan_version_create
from deals.models import ProductLine
from pipeline.services.opportunities import opportunity_close_won, opportunity_reopen
from tests.commissions.conftest import dispatch_last, entries_of
from tests.conftest import World
from tests.pages import assert_constant_queries, assert_login_redirect, member, messages_of
from tests.partners.factories import PartnerOrganizationFactory
from tests.pipeline.factories import OpportunityFactory, make_ready_to_win

ACTORS = (
    "anonymous",
    "vendor_admin",
    "channel_manager",
    "partner_admin",
    "partner_rep",
    "other_partner_admin",
    "other_tenant_admin",
)
PAGE = (302, 200, 200, 403, 403, 403, 200)
DETAIL = (302, 200, 200, 403, 403, 403, 404)
ADMIN_PAGE = (302, 200, 403, 403, 403, 403, 200)
ADMIN_DETAIL = (302, 200, 403, 403, 403, 403, 404)
ACTION = (302, 302, 302, 403, 403, 403, 404)
ADMIN_ACTION = (302, 302, 403, 403, 403, 403, 404)
TODAY = timezone.localdate


def matrix(expected: tuple[int, ...]) -> list[tuple[str, int]]:
    return list(zip(ACTORS, expected, strict=True))


def ledger_state(tenant, in_tenant) -> list[tuple]:  # noqa: ANN001
    """Everything a ledger action could change."""
    with in_tenant(tenant):
        return [
            *CommissionEntry.objects.order_by("pk").values_list(
                "pk", "status", "approved_at", "approved_by", "payout_id", "amount"
            ),
            list(PayoutBatch.objects.order_by("pk").values_list("reference", "total")),
            AuditEntry.objects.count(),
        ]


def plan_state(tenant, in_tenant) -> list[tuple]:  # noqa: ANN001
    with in_tenant(tenant):
        return [
            *PlanVersion.objects.order_by("pk").values_list(
                "pk",
                "name",
                "effective_from",
                "registered_multiplier",
                "unregistered_multiplier",
                "cap_per_deal",
                "accelerator_threshold",
                "accelerator_rate",
            ),
            list(TierRate.objects.order_by("pk").values_list("version", "tier", "rate")),
            list(
                ProductBonus.objects.order_by("pk").values_list("version", "product_line", "bonus")
            ),
            AuditEntry.objects.count(),
        ]


@pytest.fixture
def entries(deals_world, plan, partner_deal, close_won, in_tenant) -> list[CommissionEntry]:
    """Three accruals: Northwind 500.00 and 250.00, Contoso 1,000.00 (unregistered: ×0.5)."""
    w = deals_world
    deals = [
        partner_deal(name="Northwind rollout", amount=Decimal("10000.00")),
        partner_deal(w.other_partner_rep, name="Contoso rollout", amount=Decimal("20000.00")),
        partner_deal(name="Northwind upsell", amount=Decimal("5000.00")),
    ]
    for deal in deals:
        close_won(deal)
    return [entries_of(w.tenant, deal)[0] for deal in deals]


@pytest.fixture
def foreign(deals_world, in_tenant) -> dict[str, object]:
    """The other tenant's plan, an approved entry, a paid batch and an accrued entry."""
    w = deals_world
    tenant, admin = w.other_tenant, w.other_tenant_admin
    with in_tenant(tenant):
        version = PlanVersion.objects.create(
            tenant=tenant, name="Globex plan", effective_from=date(2020, 1, 1)
        )
        TierRate.objects.create(
            tenant=tenant, version=version, tier=w.other_tenant_partner.tier, rate=Decimal(10)
        )
    made = []
    for name in ("Initech paid", "Initech waiting"):
        deal = OpportunityFactory(
            tenant=tenant,
            partner=w.other_tenant_partner,
            owner=w.other_tenant_partner_admin.user,
            name=name,
            amount=Decimal(1000),
        )
        make_ready_to_win(tenant, deal.pk)
        with in_tenant(tenant):
            opportunity_close_won(
                tenant=tenant, actor=admin, opportunity_id=deal.pk, close_date=TODAY()
            )
        dispatch_last(tenant, "opportunity.won")
        made.append(entries_of(tenant, deal)[0])
    with in_tenant(tenant):
        commission_approve(tenant=tenant, actor=admin, entry_id=made[0].pk)
        batch = payout_create(tenant=tenant, actor=admin, entry_ids=[made[0].pk], reference="G-1")
    return {"version": version, "entry": made[1], "paid": made[0], "batch": batch}


def approve(world: World, in_tenant, *entries: CommissionEntry) -> None:
    with in_tenant(world.tenant):
        for entry in entries:
            commission_approve(tenant=world.tenant, actor=world.channel_manager, entry_id=entry.pk)


def pay(world: World, in_tenant, reference: str, *entries: CommissionEntry) -> PayoutBatch:
    with in_tenant(world.tenant):
        return payout_create(
            tenant=world.tenant,
            actor=world.channel_manager,
            entry_ids=[e.pk for e in entries],
            reference=reference,
            paid_on=date(2026, 1, 15),
        )


def upcoming(world: World, in_tenant, **changes) -> PlanVersion:  # noqa: ANN003
    with in_tenant(world.tenant):
        return plan_version_create(
            tenant=world.tenant,
            actor=world.vendor_admin,
            name=changes.pop("name", "Next year"),
            effective_from=changes.pop("effective_from", TODAY() + timedelta(days=30)),
            **changes,
        )


def version_form(world: World, in_tenant, source: PlanVersion, **overrides) -> dict[str, str]:  # noqa: ANN003
    """The POST data of the plan form as the page prefills it from `source`."""
    with in_tenant(world.tenant):
        form = PlanVersionForm(tenant=world.tenant, source=source)
        data = {
            name: "" if field.initial is None else str(field.initial)
            for name, field in form.fields.items()
        }
    data.update(name=source.name, effective_from=str(source.effective_from))
    data.update({key: str(value) for key, value in overrides.items()})
    return data


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


# --- Role matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "commission_list",
        "payout_list",
        "commission_totals",
        "commission_csv",
        "commission_totals_csv",
        "plan_list",
    ],
)
@pytest.mark.parametrize(("actor", "expected"), matrix(PAGE))
def test_who_opens_the_commission_pages(deals_world, entries, client_for, name, actor, expected):
    url = reverse(f"vendor:{name}")
    response = client_for(member(deals_world, actor)).get(url)
    assert response.status_code == expected
    if actor == "anonymous":
        assert_login_redirect(response, url)
    if actor == "other_tenant_admin" and name == "commission_list":  # their own, empty ledger
        assert list(response.context["entries"]) == []


@pytest.mark.parametrize("name", ["payout_detail", "plan_preview"])
@pytest.mark.parametrize(("actor", "expected"), matrix(DETAIL))
def test_who_opens_a_batch_or_a_preview(
    deals_world, plan, entries, in_tenant, client_for, name, actor, expected
):
    approve(deals_world, in_tenant, entries[0])
    batch = pay(deals_world, in_tenant, "P-1", entries[0])
    url = reverse(f"vendor:{name}", args=[batch.pk if name == "payout_detail" else plan.pk])
    assert client_for(member(deals_world, actor)).get(url).status_code == expected


@pytest.mark.parametrize(("actor", "expected"), matrix(ADMIN_PAGE))
def test_only_vendor_admins_open_the_new_version_form(
    deals_world, plan, client_for, actor, expected
):
    response = client_for(member(deals_world, actor)).get(reverse("vendor:plan_create"))
    assert response.status_code == expected


@pytest.mark.parametrize(("actor", "expected"), matrix(ADMIN_DETAIL))
def test_only_vendor_admins_open_the_edit_form(
    deals_world, plan, in_tenant, client_for, actor, expected
):
    version = upcoming(deals_world, in_tenant)
    response = client_for(member(deals_world, actor)).get(
        reverse("vendor:plan_edit", args=[version.pk])
    )
    assert response.status_code == expected


@pytest.mark.parametrize(("actor", "expected"), matrix(ACTION))
def test_who_approves_entries(deals_world, entries, in_tenant, client_for, actor, expected):
    w = deals_world
    before = ledger_state(w.tenant, in_tenant)
    response = client_for(member(w, actor)).post(
        reverse("vendor:commission_approve"), {"entry": [entries[0].pk]}
    )
    assert response.status_code == expected
    with in_tenant(w.tenant):
        status = CommissionEntry.objects.get(pk=entries[0].pk).status
    if actor in ("vendor_admin", "channel_manager"):
        assert status == "approved"
    else:
        assert status == "accrued"
        assert ledger_state(w.tenant, in_tenant) == before


@pytest.mark.parametrize(("actor", "expected"), matrix(ACTION))
def test_who_pays_entries(deals_world, entries, in_tenant, client_for, actor, expected):
    w = deals_world
    approve(w, in_tenant, entries[0])
    before = ledger_state(w.tenant, in_tenant)
    response = client_for(member(w, actor)).post(
        reverse("vendor:payout_create"), {"entry": [entries[0].pk], "reference": "PAY-7"}
    )
    assert response.status_code == expected
    with in_tenant(w.tenant):
        batches = list(PayoutBatch.objects.values_list("reference", flat=True))
    if actor in ("vendor_admin", "channel_manager"):
        assert batches == ["PAY-7"]
    else:
        assert batches == []
        assert ledger_state(w.tenant, in_tenant) == before


@pytest.mark.parametrize(("actor", "expected"), matrix(ADMIN_PAGE))
def test_only_vendor_admins_create_a_version(
    deals_world, plan, in_tenant, client_for, actor, expected
):
    w = deals_world
    before = plan_state(w.tenant, in_tenant)
    data = version_form(w, in_tenant, plan, name="Bold", effective_from=TODAY() + timedelta(days=9))
    response = client_for(member(w, actor)).post(reverse("vendor:plan_create"), data)
    if actor == "other_tenant_admin":  # their own tenant: its form fields are its own tiers
        assert response.status_code == 200
        assert plan_state(w.tenant, in_tenant) == before
        return
    expected = 302 if actor == "vendor_admin" else expected
    assert response.status_code == expected
    with in_tenant(w.tenant):
        names = list(PlanVersion.objects.order_by("pk").values_list("name", flat=True))
    assert names == (["Standard", "Bold"] if actor == "vendor_admin" else ["Standard"])
    if actor != "vendor_admin":
        assert plan_state(w.tenant, in_tenant) == before


@pytest.mark.parametrize(("actor", "expected"), matrix(ADMIN_ACTION))
def test_only_vendor_admins_edit_a_version(
    deals_world, plan, in_tenant, client_for, actor, expected
):
    w = deals_world
    version = upcoming(w, in_tenant)
    before = plan_state(w.tenant, in_tenant)
    data = version_form(w, in_tenant, version, name="Renamed")
    response = client_for(member(w, actor)).post(
        reverse("vendor:plan_edit", args=[version.pk]), data
    )
    assert response.status_code == expected
    with in_tenant(w.tenant):
        name = PlanVersion.objects.get(pk=version.pk).name
    assert name == ("Renamed" if actor == "vendor_admin" else "Next year")
    if actor != "vendor_admin":
        assert plan_state(w.tenant, in_tenant) == before


# --- Isolation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [("plan_edit", "version"), ("plan_preview", "version"), ("payout_detail", "batch")],
)
def test_another_tenants_records_are_not_found(
    deals_world, plan, foreign, in_tenant, client_for, name, key
):
    w = deals_world
    before = plan_state(w.other_tenant, in_tenant), ledger_state(w.other_tenant, in_tenant)
    client = client_for(w.vendor_admin)
    url = reverse(f"vendor:{name}", args=[foreign[key].pk])
    assert client.get(url).status_code == 404
    if name == "plan_edit":
        data = version_form(w, in_tenant, plan, name="Stolen")
        assert client.post(url, data).status_code == 404
    after = plan_state(w.other_tenant, in_tenant), ledger_state(w.other_tenant, in_tenant)
    assert after == before


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("commission_approve", {}),
        ("payout_create", {"reference": "STEAL-1"}),
    ],
)
def test_another_tenants_entries_cannot_be_approved_or_paid(
    deals_world, entries, foreign, in_tenant, client_for, name, data
):
    w = deals_world
    approve(w, in_tenant, entries[1])
    before = ledger_state(w.tenant, in_tenant), ledger_state(w.other_tenant, in_tenant)
    ids = [entries[1].pk, foreign["entry"].pk]
    response = client_for(w.channel_manager).post(reverse(f"vendor:{name}"), {"entry": ids, **data})
    assert response.status_code == 404
    after = ledger_state(w.tenant, in_tenant), ledger_state(w.other_tenant, in_tenant)
    assert after == before


def test_the_ledger_never_lists_another_tenants_entries(deals_world, entries, foreign, client_for):
    response = client_for(deals_world.vendor_admin).get(reverse("vendor:commission_list"))
    listed = {entry.pk for entry in response.context["entries"]}
    assert listed == {entry.pk for entry in entries}
    assert "Initech" not in response.content.decode()


# --- Ledger ------------------------------------------------------------------------------------


def test_the_ledger_lists_entries_to_approve_first_with_their_breakdown(
    deals_world, entries, in_tenant, client_for
):
    w = deals_world
    approve(w, in_tenant, entries[0])
    response = client_for(w.channel_manager).get(reverse("vendor:commission_list"))
    rows = [
        (e.pk, e.opportunity.name, e.partner.name, e.kind, e.amount, e.status)
        for e in response.context["entries"]
    ]
    assert rows == [
        (
            entries[2].pk,
            "Northwind upsell",
            "Northwind Resellers",
            "accrual",
            Decimal("250.00"),
            "accrued",
        ),
        (
            entries[1].pk,
            "Contoso rollout",
            "Contoso Partners",
            "accrual",
            Decimal("1000.00"),
            "accrued",
        ),
        (
            entries[0].pk,
            "Northwind rollout",
            "Northwind Resellers",
            "accrual",
            Decimal("500.00"),
            "approved",
        ),
    ]
    assert response.context["waiting"] == 2
    html = " ".join(response.content.decode().split())
    assert "2 entries waiting for approval." in html
    assert "500.00 USD" in html
    assert response.context["entries"][2].lines == [
        ("Plan version", "Standard"),
        ("Deal amount", "10,000.00 USD"),
        ("Base", "10 % (Gold) = 1,000.00 USD"),
        ("Registration", "Not registered ×0.5"),
        ("Quarter attainment", "10,000.00 USD"),
        ("Accelerator", "0.00 USD"),
        ("Before cap", "500.00 USD"),
        ("Cap", "None"),
        ("Capped", "No"),
        ("Amount", "500.00 USD"),
    ]
    assert f'data-testid="breakdown-{entries[0].pk}"' in html
    assert "<summary>Breakdown" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "approved"}, [0]),
        ({"status": "accrued"}, [2, 1]),
        ({"partner": "PARTNER"}, [2, 0]),
        ({"period": "CURRENT"}, [2, 1, 0]),
        ({"period": "2020-01"}, []),
        ({"period": "2020-Q1", "status": "accrued"}, []),
    ],
)
def test_the_ledger_filters_by_status_partner_and_period(
    deals_world, entries, in_tenant, client_for, query, expected
):
    approve(deals_world, in_tenant, entries[0])
    params = {
        key: {"PARTNER": deals_world.partner.pk, "CURRENT": period_current().label}.get(v, v)
        for key, v in query.items()
    }
    response = client_for(deals_world.channel_manager).get(
        reverse("vendor:commission_list"), params
    )
    assert [e.pk for e in response.context["entries"]] == [entries[i].pk for i in expected]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"period": "2026-13"}, "A period is a month (2026-11) or a quarter (2026-Q4)."),
        ({"period": "last month"}, "A period is a month (2026-11) or a quarter (2026-Q4)."),
        ({"status": "void"}, "Select a valid choice. void is not one of the available choices."),
        ({"partner": "OTHER"}, "Select a valid choice."),
    ],
)
def test_a_bad_filter_shows_its_error_and_no_rows(deals_world, entries, client_for, query, error):
    params = {
        k: deals_world.other_tenant_partner.pk if v == "OTHER" else v for k, v in query.items()
    }
    response = client_for(deals_world.channel_manager).get(
        reverse("vendor:commission_list"), params
    )
    assert response.status_code == 200
    assert list(response.context["entries"]) == []
    assert error in " ".join(response.context["filter_form"].errors.as_text().split())
    assert error.split(" (")[0] in response.content.decode()


def test_approving_selected_entries_says_what_was_approved(
    deals_world, entries, in_tenant, client_for
):
    w = deals_world
    response = client_for(w.channel_manager).post(
        reverse("vendor:commission_approve"),
        {"entry": [entries[0].pk, entries[1].pk], "filters": "status=accrued"},
    )
    assert response.status_code == 302
    assert response.url == reverse("vendor:commission_list") + "?status=accrued"
    assert messages_of(response) == [
        f"Approved 2 entries: #{entries[0].pk} Northwind rollout (Northwind Resellers, 500.00 USD)"
        f"; #{entries[1].pk} Contoso rollout (Contoso Partners, 1,000.00 USD)."
    ]
    with in_tenant(w.tenant):
        rows = list(CommissionEntry.objects.order_by("pk").values_list("status", "approved_by"))
    user = w.channel_manager.user_id
    assert rows == [("approved", user), ("approved", user), ("accrued", None)]


def test_approving_twice_is_refused_with_a_message_and_changes_nothing(
    deals_world, entries, in_tenant, client_for
):
    w = deals_world
    approve(w, in_tenant, entries[0])
    before = ledger_state(w.tenant, in_tenant)
    response = client_for(w.vendor_admin).post(
        reverse("vendor:commission_approve"), {"entry": [entries[0].pk]}
    )
    assert response.status_code == 302
    assert messages_of(response) == [
        f"Not approved: #{entries[0].pk} Northwind rollout (Northwind Resellers, 500.00 USD): "
        "This entry is already approved."
    ]
    assert ledger_state(w.tenant, in_tenant) == before


def test_approving_some_approves_those_it_can(deals_world, entries, in_tenant, client_for):
    w = deals_world
    approve(w, in_tenant, entries[0])
    response = client_for(w.vendor_admin).post(
        reverse("vendor:commission_approve"), {"entry": [entries[0].pk, entries[2].pk]}
    )
    assert messages_of(response) == [
        f"Approved 1 entry: #{entries[2].pk} Northwind upsell (Northwind Resellers, 250.00 USD).",
        f"Not approved: #{entries[0].pk} Northwind rollout (Northwind Resellers, 500.00 USD): "
        "This entry is already approved.",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Entries: Select at least one entry."),
        ({"entry": ["x"]}, "Entries: Entry IDs are whole numbers."),
    ],
)
def test_approving_nothing_says_so(deals_world, entries, in_tenant, client_for, data, message):
    before = ledger_state(deals_world.tenant, in_tenant)
    response = client_for(deals_world.vendor_admin).post(reverse("vendor:commission_approve"), data)
    assert response.status_code == 302
    assert messages_of(response) == [message]
    assert ledger_state(deals_world.tenant, in_tenant) == before


def test_paying_approved_entries_makes_a_batch(deals_world, entries, in_tenant, client_for):
    w = deals_world
    approve(w, in_tenant, entries[0], entries[2])
    response = client_for(w.channel_manager).post(
        reverse("vendor:payout_create"),
        {
            "entry": [entries[0].pk, entries[2].pk],
            "reference": " WIRE-2026-01 ",
            "paid_on": "2026-01-31",
        },
    )
    with in_tenant(w.tenant):
        batch = PayoutBatch.objects.get()
        paid = list(
            CommissionEntry.objects.filter(status="paid").order_by("pk").values_list("pk", "payout")
        )
    assert response.status_code == 302
    assert response.url == reverse("vendor:payout_detail", args=[batch.pk])
    assert (batch.reference, batch.paid_on, batch.total, batch.currency) == (
        "WIRE-2026-01",
        date(2026, 1, 31),
        Decimal("750.00"),
        "USD",
    )
    assert paid == [(entries[0].pk, batch.pk), (entries[2].pk, batch.pk)]
    assert messages_of(response) == [
        "Payout “WIRE-2026-01” recorded: 2 entries, 750.00 USD, paid on 2026-01-31."
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"reference": "W-1", "entry": ["UNAPPROVED"]},
            "Only approved entries can be paid; not these: [ID].",
        ),
        ({"reference": "", "entry": ["APPROVED"]}, "Payout reference: This field is required."),
        (
            {"reference": "USED", "entry": ["APPROVED"]},
            "A payout with the reference “USED” exists already.",
        ),
        (
            {"reference": "W-1", "entry": ["APPROVED"], "paid_on": "31/01"},
            "Paid on: Enter a valid date.",
        ),
        (
            {"reference": "W-1", "entry": ["PAID"]},
            "Only approved entries can be paid; not these: [ID].",
        ),
    ],
)
def test_a_refused_payout_says_why_and_changes_nothing(
    deals_world, entries, in_tenant, client_for, data, message
):
    w = deals_world
    approve(w, in_tenant, entries[0], entries[1])
    pay(w, in_tenant, "USED", entries[1])
    target = {"UNAPPROVED": entries[2], "APPROVED": entries[0], "PAID": entries[1]}
    ids = [target[value].pk for value in data["entry"]]
    before = ledger_state(w.tenant, in_tenant)
    response = client_for(w.channel_manager).post(
        reverse("vendor:payout_create"), {**data, "entry": ids}
    )
    assert response.status_code == 302
    assert response.url == reverse("vendor:commission_list")
    assert messages_of(response) == [message.replace("ID", str(ids[0]))]
    assert ledger_state(w.tenant, in_tenant) == before


def test_the_ledger_offers_approve_and_pay_only_on_unpaid_entries(
    deals_world, entries, in_tenant, client_for
):
    w = deals_world
    approve(w, in_tenant, entries[0])
    batch = pay(w, in_tenant, "P-9", entries[0])
    html = client_for(w.channel_manager).get(reverse("vendor:commission_list")).content.decode()
    assert f'value="{entries[1].pk}"' in html
    assert f'value="{entries[0].pk}"' not in html  # paid: no checkbox
    assert reverse("vendor:payout_detail", args=[batch.pk]) in html
    assert "Approve selected" in html
    assert "Pay selected" in html


def test_the_ledger_costs_the_same_queries_with_more_entries(
    deals_world, entries, partner_deal, close_won, in_tenant, client_for, django_assert_num_queries
):
    w = deals_world
    approve(w, in_tenant, entries[0])
    pay(w, in_tenant, "P-1", entries[0])

    def add_rows() -> None:
        more = [partner_deal(w.other_partner_rep), partner_deal()]
        for deal in more:
            close_won(deal)
        added = [entries_of(w.tenant, deal)[0] for deal in more]
        approve(w, in_tenant, *added)
        pay(w, in_tenant, "P-2", added[0])

    assert_constant_queries(
        client_for(w.channel_manager),
        reverse("vendor:commission_list"),
        add_rows,
        django_assert_num_queries,
    )


# --- Payout batches ----------------------------------------------------------------------------


def test_the_payout_list_and_a_batch_page_show_their_entries(
    deals_world, entries, foreign, in_tenant, client_for
):
    w = deals_world
    approve(w, in_tenant, *entries)
    first = pay(w, in_tenant, "P-1", entries[0], entries[2])
    second = pay(w, in_tenant, "P-2", entries[1])
    client = client_for(w.channel_manager)

    listed = client.get(reverse("vendor:payout_list")).context["batches"]
    assert [(b.reference, b.entry_count, b.total, b.paid_on) for b in listed] == [
        ("P-2", 1, Decimal("1000.00"), date(2026, 1, 15)),
        ("P-1", 2, Decimal("750.00"), date(2026, 1, 15)),
    ]
    response = client.get(reverse("vendor:payout_detail", args=[first.pk]))
    assert [e.pk for e in response.context["entries"]] == [entries[0].pk, entries[2].pk]
    html = " ".join(response.content.decode().split())
    assert "Payout P-1" in html
    assert "750.00 USD" in html
    assert "Northwind upsell" in html
    assert "Contoso rollout" not in html
    assert second.pk != first.pk


def test_the_payout_pages_cost_the_same_queries_with_more_rows(
    deals_world, entries, in_tenant, client_for, django_assert_num_queries
):
    w = deals_world
    approve(w, in_tenant, *entries)
    small = pay(w, in_tenant, "P-1", entries[0])
    client = client_for(w.vendor_admin)
    assert_constant_queries(
        client,
        reverse("vendor:payout_list"),
        lambda: pay(w, in_tenant, "P-2", entries[1], entries[2]),
        django_assert_num_queries,
    )
    with in_tenant(w.tenant):
        large = PayoutBatch.objects.get(reference="P-2")
    client.get(reverse("vendor:payout_detail", args=[small.pk]))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("vendor:payout_detail", args=[small.pk]))
    with django_assert_num_queries(len(one)):
        assert client.get(reverse("vendor:payout_detail", args=[large.pk])).status_code == 200


# --- Totals and CSV ----------------------------------------------------------------------------


def at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12, 0)))


@pytest.fixture
def november(deals_world, entries, in_tenant) -> CommissionEntry:
    """Northwind 500 paid and Contoso 1,000 approved in 2026-11; Northwind 250 accrued in
    2026-10 and clawed back in 2026-11. Returns the clawback."""
    w = deals_world
    approve(w, in_tenant, entries[0], entries[1])
    pay(w, in_tenant, "P-1", entries[0])
    with in_tenant(w.tenant):
        opportunity_reopen(
            tenant=w.tenant, actor=w.channel_manager, opportunity_id=entries[2].opportunity_id
        )
    dispatch_last(w.tenant, "opportunity.reopened")
    with in_tenant(w.tenant):
        clawback = CommissionEntry.objects.get(kind="clawback")
        for entry, day in (
            (entries[0], date(2026, 11, 10)),
            (entries[1], date(2026, 11, 11)),
            (entries[2], date(2026, 10, 31)),
            (clawback, date(2026, 11, 20)),
        ):
            CommissionEntry.objects.filter(pk=entry.pk).update(created_at=at(day))
    return clawback


TOTALS = {
    "2026-11": [
        ("Contoso Partners", "0.00", "1000.00", "0.00", "1000.00"),
        ("Northwind Resellers", "-250.00", "0.00", "500.00", "250.00"),
    ],
    "2026-10": [("Northwind Resellers", "250.00", "0.00", "0.00", "250.00")],
    "2026-Q4": [
        ("Contoso Partners", "0.00", "1000.00", "0.00", "1000.00"),
        ("Northwind Resellers", "0.00", "0.00", "500.00", "500.00"),
    ],
    "2026-12": [],
}


@pytest.mark.parametrize("period", list(TOTALS))
def test_totals_by_partner_and_period(deals_world, november, client_for, period):
    response = client_for(deals_world.channel_manager).get(
        reverse("vendor:commission_totals"), {"period": period}
    )
    totals = response.context["totals"]
    assert [
        (t.partner_name, *(f"{getattr(t, n):.2f}" for n in ("accrued", "approved", "paid", "net")))
        for t in totals
    ] == TOTALS[period]
    html = " ".join(response.content.decode().split())
    assert f"Commission totals for {period}" in html
    for row in TOTALS[period]:
        assert f"{Decimal(row[4]):,.2f} USD" in html  # with thousands separators


def test_the_totals_add_up_and_link_to_the_ledger(deals_world, november, client_for):
    response = client_for(deals_world.vendor_admin).get(
        reverse("vendor:commission_totals"), {"period": "2026-11"}
    )
    sums = {name: f"{value:.2f}" for name, value in response.context["sums"].items()}
    assert sums == {"accrued": "-250.00", "approved": "1000.00", "paid": "500.00", "net": "1250.00"}
    assert (response.context["previous_period"], response.context["next_period"]) == (
        "2026-10",
        "2026-12",
    )
    html = response.content.decode()
    assert f"?partner={deals_world.partner.pk}&amp;period=2026-11" in html


def test_the_totals_default_to_this_month(deals_world, entries, client_for):
    response = client_for(deals_world.channel_manager).get(reverse("vendor:commission_totals"))
    assert response.context["period"].label == period_current().label
    assert [(t.partner_name, t.net) for t in response.context["totals"]] == [
        ("Contoso Partners", Decimal("1000.00")),
        ("Northwind Resellers", Decimal("750.00")),
    ]


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "26-11", "November"])
def test_a_bad_totals_period_shows_its_error(deals_world, entries, client_for, period):
    client = client_for(deals_world.channel_manager)
    response = client.get(reverse("vendor:commission_totals"), {"period": period})
    assert response.status_code == 200
    assert "totals" not in response.context
    assert response.context["period_form"].errors == {
        "period": ["A period is a month (2026-11) or a quarter (2026-Q4)."]
    }
    csv_response = client.get(reverse("vendor:commission_totals_csv"), {"period": period})
    assert csv_response.status_code == 400
    assert csv_response.content.decode() == (
        "Period: A period is a month (2026-11) or a quarter (2026-Q4)."
    )


def test_the_totals_cost_the_same_queries_with_more_partners(
    deals_world, entries, partner_deal, close_won, client_for, django_assert_num_queries
):
    w = deals_world

    def add_rows() -> None:
        PartnerOrganizationFactory(tenant=w.tenant, tier=w.tier, name="Zeta Partners")
        close_won(partner_deal(w.other_partner_rep))

    assert_constant_queries(
        client_for(w.channel_manager),
        reverse("vendor:commission_totals"),
        add_rows,
        django_assert_num_queries,
    )


def test_the_totals_csv(deals_world, november, client_for):
    response = client_for(deals_world.channel_manager).get(
        reverse("vendor:commission_totals_csv"), {"period": "2026-11"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="commission-totals-2026-11.csv"'
    )
    assert csv_rows(response) == [
        ["Partner", "Accrued", "Approved", "Paid", "Net", "Currency"],
        ["Contoso Partners", "0.00", "1000.00", "0.00", "1000.00", "USD"],
        ["Northwind Resellers", "-250.00", "0.00", "500.00", "250.00", "USD"],
    ]


def ledger_csv_row(entry: CommissionEntry, created: str, payout: list[str]) -> list[str]:
    name = {"Northwind rollout", "Contoso rollout", "Northwind upsell"}
    assert entry.opportunity.name in name
    return [
        str(entry.pk),
        created,
        str(entry.opportunity_id),
        entry.opportunity.name,
        entry.partner.name,
        entry.kind,
        entry.status,
        f"{entry.amount:.2f}",
        "USD",
        entry.closed_on.isoformat(),
        *payout,
    ]


def test_the_ledger_csv_has_every_entry_of_the_period(
    deals_world, entries, november, in_tenant, client_for
):
    with in_tenant(deals_world.tenant):
        rows = {
            e.pk: e
            for e in CommissionEntry.objects.select_related("opportunity", "partner", "payout")
        }
    response = client_for(deals_world.vendor_admin).get(
        reverse("vendor:commission_csv"), {"period": "2026-11"}
    )
    assert response["Content-Disposition"] == 'attachment; filename="commissions-2026-11.csv"'
    today = TODAY().isoformat()
    assert csv_rows(response) == [
        [
            "Entry",
            "Created",
            "Deal ID",
            "Deal",
            "Partner",
            "Kind",
            "Status",
            "Amount",
            "Currency",
            "Close date",
            "Payout",
            "Paid on",
        ],
        [
            str(entries[0].pk),
            "2026-11-10 12:00",
            str(entries[0].opportunity_id),
            "Northwind rollout",
            "Northwind Resellers",
            "accrual",
            "paid",
            "500.00",
            "USD",
            today,
            "P-1",
            "2026-01-15",
        ],
        [
            str(entries[1].pk),
            "2026-11-11 12:00",
            str(entries[1].opportunity_id),
            "Contoso rollout",
            "Contoso Partners",
            "accrual",
            "approved",
            "1000.00",
            "USD",
            today,
            "",
            "",
        ],
        [
            str(november.pk),
            "2026-11-20 12:00",
            str(entries[2].opportunity_id),
            "Northwind upsell",
            "Northwind Resellers",
            "clawback",
            "accrued",
            "-250.00",
            "USD",
            today,
            "",
            "",
        ],
    ]
    assert len(rows) == 4


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"partner": "PARTNER"}, ["E2", "E0", "CLAWBACK"]),
        ({"status": "approved"}, ["E1"]),
        ({"period": "2026-10"}, ["E2"]),
        ({}, ["E2", "E0", "E1", "CLAWBACK"]),
    ],
)
def test_the_ledger_csv_uses_the_lists_filters(
    deals_world, entries, november, client_for, query, expected
):
    params = {k: deals_world.partner.pk if v == "PARTNER" else v for k, v in query.items()}
    response = client_for(deals_world.channel_manager).get(reverse("vendor:commission_csv"), params)
    ids = {"E0": entries[0].pk, "E1": entries[1].pk, "E2": entries[2].pk, "CLAWBACK": november.pk}
    assert [row[0] for row in csv_rows(response)[1:]] == [str(ids[key]) for key in expected]
    if not query:
        assert response["Content-Disposition"] == 'attachment; filename="commissions-all.csv"'


def test_the_ledger_csv_refuses_a_bad_filter(deals_world, entries, client_for):
    response = client_for(deals_world.channel_manager).get(
        reverse("vendor:commission_csv"), {"period": "2026-11-03"}
    )
    assert response.status_code == 400
    assert response.content.decode() == (
        "Period: A period is a month (2026-11) or a quarter (2026-Q4)."
    )


def test_the_ledger_csv_never_has_another_tenants_entries(
    deals_world, entries, foreign, client_for
):
    response = client_for(deals_world.vendor_admin).get(reverse("vendor:commission_csv"))
    body = [row[0] for row in csv_rows(response)[1:]]
    assert body == [str(e.pk) for e in entries]


# --- Plans -------------------------------------------------------------------------------------


def line_id(world: World, in_tenant, code: str) -> int:
    with in_tenant(world.tenant):
        return ProductLine.objects.get(code=code).pk


def test_the_plan_list_shows_each_version_and_which_is_in_force(
    deals_world, plan, in_tenant, client_for
):
    w = deals_world
    later = upcoming(
        w,
        in_tenant,
        cap_per_deal="5000",
        accelerator_threshold="100000",
        accelerator_rate="1.5",
        tier_rates={w.tier.pk: "12.5"},
    )
    response = client_for(w.vendor_admin).get(reverse("vendor:plan_list"))
    versions = response.context["versions"]
    assert [(v.name, v.state, v.until) for v in versions] == [
        ("Next year", "upcoming", None),
        ("Standard", "in force", later.effective_from - timedelta(days=1)),
    ]
    assert [(r.tier.name, r.rate) for r in versions[0].rates] == [("Gold", Decimal("12.5"))]
    assert [(b.product_line.code, b.bonus) for b in versions[0].bonuses] == [("cloud", Decimal(2))]
    html = " ".join(response.content.decode().split())
    assert "In force: Standard, since 2020-01-01." in html
    assert "+1.5 % above 100,000.00 USD won in a quarter" in html
    assert "5,000.00 USD" in html
    assert "12.5 %" in html
    assert "×0.5" in html
    assert "0.5000" not in html
    edit = reverse("vendor:plan_edit", args=[later.pk])
    assert f'href="{edit}"' in html
    assert reverse("vendor:plan_edit", args=[plan.pk]) not in html  # in force: no edit button
    assert reverse("vendor:plan_preview", args=[plan.pk]) in html
    assert "New version from the current one" in html


def test_channel_managers_read_the_plans_without_change_buttons(
    deals_world, plan, in_tenant, client_for
):
    later = upcoming(deals_world, in_tenant)
    html = client_for(deals_world.channel_manager).get(reverse("vendor:plan_list")).content
    assert reverse("vendor:plan_edit", args=[later.pk]).encode() not in html
    assert b"New version from the current one" not in html
    assert reverse("vendor:plan_preview", args=[later.pk]).encode() in html


def test_the_plan_list_costs_the_same_queries_with_more_versions(
    deals_world, plan, in_tenant, client_for, django_assert_num_queries
):
    w = deals_world

    def add_rows() -> None:
        upcoming(w, in_tenant, name="A", product_bonuses={line_id(w, in_tenant, "security"): 1})
        upcoming(w, in_tenant, name="B", effective_from=TODAY() + timedelta(days=60))

    assert_constant_queries(
        client_for(w.vendor_admin), reverse("vendor:plan_list"), add_rows, django_assert_num_queries
    )


def test_the_new_version_form_starts_from_the_version_in_force(
    deals_world, plan, in_tenant, client_for
):
    w = deals_world
    form = client_for(w.vendor_admin).get(reverse("vendor:plan_create")).context["form"]
    cloud, security = line_id(w, in_tenant, "cloud"), line_id(w, in_tenant, "security")
    initial = {name: form[name].value() for name in form.fields}
    assert initial == {
        "name": None,
        "effective_from": None,
        "registered_multiplier": Decimal("1.0000"),
        "unregistered_multiplier": Decimal("0.5000"),
        "cap_per_deal": None,
        "accelerator_threshold": None,
        "accelerator_rate": None,
        f"tier_{w.tier.pk}": Decimal("10.0000"),
        f"bonus_{line_id(w, in_tenant, 'all-products')}": None,
        f"bonus_{cloud}": Decimal("2.0000"),
        f"bonus_{security}": None,
    }
    assert form[f"tier_{w.tier.pk}"].label == "Gold base rate (%)"


def test_a_new_version_is_created_with_its_rates(deals_world, plan, in_tenant, client_for):
    w = deals_world
    start = TODAY() + timedelta(days=10)
    cloud, security = line_id(w, in_tenant, "cloud"), line_id(w, in_tenant, "security")
    data = version_form(
        w,
        in_tenant,
        plan,
        name=" Bold ",
        effective_from=start,
        unregistered_multiplier="0.25",
        cap_per_deal="5000",
        accelerator_threshold="100000",
        accelerator_rate="1.5",
        **{f"tier_{w.tier.pk}": "12.5", f"bonus_{cloud}": "", f"bonus_{security}": "3"},
    )
    response = client_for(w.vendor_admin).post(reverse("vendor:plan_create"), data)
    assert response.status_code == 302
    assert response.url == reverse("vendor:plan_list")
    assert messages_of(response) == [f"Plan version “Bold” saved; it starts on {start}."]
    state = plan_state(w.tenant, in_tenant)
    with in_tenant(w.tenant):
        bold = PlanVersion.objects.get(name="Bold")
    assert state[1] == (
        bold.pk,
        "Bold",
        start,
        Decimal("1.0000"),
        Decimal("0.2500"),
        Decimal("5000.00"),
        Decimal("100000.00"),
        Decimal("1.5000"),
    )
    assert [r for r in state[2] if r[0] == bold.pk] == [(bold.pk, w.tier.pk, Decimal("12.5"))]
    assert sorted(b for b in state[3] if b[0] == bold.pk) == [
        (bold.pk, security, Decimal(3)),  # emptied cloud: no bonus row at all, not 0 %
    ]


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"effective_from": "TODAY"}, "effective_from", "A date after today."),
        ({"effective_from": "YESTERDAY"}, "effective_from", "A date after today."),
        ({"effective_from": "2026-02-30"}, "effective_from", "Enter a valid date."),
        ({"effective_from": "TAKEN"}, "effective_from", "A version already starts on this date."),
        ({"TIER": "150"}, "TIER", "Ensure this value is less than or equal to 100."),
        ({"TIER": "-1"}, "TIER", "Ensure this value is greater than or equal to 0."),
        ({"TIER": "ten"}, "TIER", "Enter a number."),
        ({"TIER": ""}, "TIER", "This field is required."),
        ({"BONUS": "1.23456"}, "BONUS", "Ensure that there are no more than 4 decimal places."),
        (
            {"registered_multiplier": "11"},
            "registered_multiplier",
            "Ensure this value is less than or equal to 10.",
        ),
        (
            {"cap_per_deal": "-5"},
            "cap_per_deal",
            "Ensure this value is greater than or equal to 0.",
        ),
        ({"accelerator_rate": "2"}, "accelerator_rate", "Set both or neither."),
        ({"name": "  "}, "name", "This field is required."),
    ],
)
def test_a_bad_version_is_refused_with_its_error_and_nothing_changes(
    deals_world, plan, in_tenant, client_for, changes, field, error
):
    w = deals_world
    taken = upcoming(w, in_tenant)
    before = plan_state(w.tenant, in_tenant)
    cloud = line_id(w, in_tenant, "cloud")
    names = {"TIER": f"tier_{w.tier.pk}", "BONUS": f"bonus_{cloud}"}
    days = {
        "TODAY": TODAY(),
        "YESTERDAY": TODAY() - timedelta(days=1),
        "TAKEN": taken.effective_from,
    }
    overrides = {names.get(k, k): days.get(v, v) for k, v in changes.items()}
    data = version_form(w, in_tenant, plan, name="Bad", effective_from=TODAY() + timedelta(days=5))
    data.update({k: str(v) for k, v in overrides.items()})
    response = client_for(w.vendor_admin).post(reverse("vendor:plan_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[names.get(field, field)] == [error]
    assert error in response.content.decode()
    assert plan_state(w.tenant, in_tenant) == before


def test_an_upcoming_version_is_edited(deals_world, plan, in_tenant, client_for):
    w = deals_world
    version = upcoming(w, in_tenant)
    cloud = line_id(w, in_tenant, "cloud")
    client = client_for(w.vendor_admin)
    form = client.get(reverse("vendor:plan_edit", args=[version.pk])).context["form"]
    assert (form["name"].value(), form["effective_from"].value()) == (
        "Next year",
        version.effective_from,
    )
    start = version.effective_from + timedelta(days=1)
    data = version_form(
        w,
        in_tenant,
        version,
        name="Next year, revised",
        effective_from=start,
        **{f"tier_{w.tier.pk}": "11", f"bonus_{cloud}": "4"},
    )
    response = client.post(reverse("vendor:plan_edit", args=[version.pk]), data)
    assert response.status_code == 302
    assert messages_of(response) == [
        f"Plan version “Next year, revised” saved; it starts on {start}."
    ]
    with in_tenant(w.tenant):
        version.refresh_from_db()
        rates = list(TierRate.objects.filter(version=version).values_list("rate", flat=True))
        bonuses = list(ProductBonus.objects.filter(version=version).values_list("bonus", flat=True))
        verbs = list(AuditEntry.objects.order_by("pk").values_list("verb", flat=True))
    assert (version.name, version.effective_from) == ("Next year, revised", start)
    assert (rates, bonuses) == ([Decimal(11)], [Decimal(4)])
    assert verbs[-1] == "plan_version_updated"


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_version_in_force_is_never_edited(deals_world, plan, in_tenant, client_for, method):
    w = deals_world
    before = plan_state(w.tenant, in_tenant)
    data = version_form(
        w, in_tenant, plan, name="Rewritten", effective_from=TODAY() + timedelta(days=3)
    )
    url = reverse("vendor:plan_edit", args=[plan.pk])
    response = getattr(client_for(w.vendor_admin), method)(url, data)
    assert response.status_code == 302
    assert response.url == reverse("vendor:plan_list")
    assert messages_of(response) == [
        "This version is in force (or was): it never changes. Create a new version instead."
    ]
    assert plan_state(w.tenant, in_tenant) == before


def test_the_preview_shows_last_quarters_deals_beside_what_accrued(
    deals_world, plan, partner_deal, close_won, in_tenant, client_for
):
    w = deals_world
    end = quarter_start(TODAY()) - timedelta(days=1)
    start = quarter_start(end)
    first = partner_deal(name="Early", amount=Decimal("10000.00"))
    second = partner_deal(w.other_partner_rep, name="Late", amount=Decimal("20000.00"))
    close_won(first, on=start)
    close_won(second, on=end)
    close_won(partner_deal(name="This quarter"))  # not last quarter
    close_won(OpportunityFactory(tenant=w.tenant, owner=w.channel_manager.user, amount=1), on=end)
    bolder = upcoming(w, in_tenant, tier_rates={w.tier.pk: "20"})

    response = client_for(w.channel_manager).get(reverse("vendor:plan_preview", args=[bolder.pk]))
    preview = response.context["preview"]
    assert (preview.start, preview.end) == (start, end)
    assert [(r.opportunity.name, r.accrued, r.would_pay) for r in preview.rows] == [
        ("Early", Decimal("500.00"), Decimal("1000.00")),
        ("Late", Decimal("1000.00"), Decimal("2000.00")),
    ]
    assert (preview.accrued_total, preview.would_pay_total) == (
        Decimal("1500.00"),
        Decimal("3000.00"),
    )
    html = " ".join(response.content.decode().split())
    assert "1,500.00 USD" in html
    assert "3,000.00 USD" in html
    assert response.context["difference"] == Decimal("1500.00")
    same = client_for(w.vendor_admin).get(reverse("vendor:plan_preview", args=[plan.pk]))
    assert same.context["preview"].would_pay_total == Decimal("1500.00")
    assert same.context["difference"] == Decimal(0)


def test_the_preview_says_when_nothing_was_won(deals_world, plan, client_for):
    response = client_for(deals_world.vendor_admin).get(
        reverse("vendor:plan_preview", args=[plan.pk])
    )
    assert response.context["preview"].rows == []
    assert "No partner deals were won last quarter." in response.content.decode()


# --- Navigation and demo seed ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "labels"),
    [("vendor_admin", ["Commissions", "Commission plans"]), ("channel_manager", ["Commissions"])],
)
def test_the_navigation_links_the_commission_pages(deals_world, client_for, actor, labels):
    html = client_for(deals_world.member(actor)).get(reverse("vendor:home")).content.decode()
    nav = html.split('<nav class="sidenav"', 1)[1].split("</nav>", 1)[0]
    shown = [label for label in ("Commissions", "Commission plans") if f">{label}</a>" in nav]
    assert shown == labels


@pytest.mark.django_db
def test_the_demo_seed_makes_plans_and_accruals_once(in_tenant):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    acme = Tenant.objects.get(slug="acme")
    with in_tenant(acme):
        versions = list(PlanVersion.objects.order_by("effective_from"))
        rates = dict(TierRate.objects.filter(version=versions[0]).values_list("tier__name", "rate"))
        bonuses = dict(
            ProductBonus.objects.filter(version=versions[0]).values_list(
                "product_line__code", "bonus"
            )
        )
        accruals = list(
            CommissionEntry.objects.order_by("pk").values_list(
                "opportunity__name", "partner__name", "kind", "status"
            )
        )
    assert [v.name for v in versions][0] == "Partner plan 2025"
    assert versions[0].effective_from <= TODAY() < versions[1].effective_from
    assert rates == {"Gold": Decimal(12), "Silver": Decimal(9), "Registered": Decimal(6)}
    assert bonuses == {"cloud": Decimal(2), "security": Decimal(3), "analytics": Decimal(1)}
    assert len(accruals) == 2
    assert {row[2:] for row in accruals} == {("accrual", "accrued")}
    assert "Demo commissions ready: 5 created." in out.getvalue()

    again = io.StringIO()
    call_command("seed_demo_commissions", stdout=again)
    assert again.getvalue() == "Demo commissions ready: 0 created.\n"
    with in_tenant(acme):
        assert CommissionEntry.objects.count() == 2


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_the_csv_exports_neutralize_formulas_in_names(
    deals_world, entries, in_tenant, client_for, start
):
    w = deals_world
    with in_tenant(w.tenant):
        type(w.partner).objects.filter(pk=w.partner.pk).update(name=f"{start}cmd|'/C calc'!A0")
        type(entries[0].opportunity).objects.filter(pk=entries[0].opportunity_id).update(
            name=f"{start}SUM(1+1)"
        )
    client = client_for(w.vendor_admin)
    period = {"period": period_current().label}

    ledger = csv_rows(client.get(reverse("vendor:commission_csv")))
    totals = csv_rows(client.get(reverse("vendor:commission_totals_csv"), period))

    assert f"'{start}SUM(1+1)" in [row[3] for row in ledger]
    assert f"'{start}cmd|'/C calc'!A0" in [row[4] for row in ledger]
    assert f"'{start}cmd|'/C calc'!A0" in [row[0] for row in totals]

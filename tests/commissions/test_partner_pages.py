"""Partner portal commission pages: my commissions (reps: their own deals), one entry with its
breakdown, and the organization's statement per month or quarter with its CSV (partner
admins only; a partner rep gets a 403 there). Role matrix, isolation, totals that add up
with a clawback, exact CSV rows, period navigation, query counts."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import DomainEvent
from accounts.services.events import event_dispatch
from accounts.tenancy import tenant_context
from commissions.models import CommissionEntry, PlanVersion, TierRate
from commissions.services.ledger import commission_approve, payout_create
from pipeline.services.opportunities import opportunity_close_won, opportunity_reopen
from tests.commissions.conftest import PLAN_START, dispatch_last, entries_of
from tests.pages import assert_constant_queries, member
from tests.pipeline.factories import OpportunityFactory, make_ready_to_win

ACTORS = (
    "anonymous",
    "vendor_admin",
    "channel_manager",
    "partner_admin",
    "partner_rep",
    "other_partner_admin",
    "other_tenant_admin",
    "other_tenant_partner_admin",
)
LIST = (302, 403, 403, 200, 200, 200, 403, 200)
STATEMENT = (302, 403, 403, 200, 403, 200, 403, 200)
ENTRY = (302, 403, 403, 200, 200, 404, 403, 404)  # the rep's accrual


class Ledger:
    """Northwind: the rep's deal (10,000 → 500.00, approved); the admin's deal (20,000 →
    1,000.00, paid in PAY-1, then reopened: a -1,000.00 clawback). Contoso: 30,000 →
    1,500.00. Initech (the other tenant): 40,000 → 2,000.00."""

    def __init__(self, world, rep_deal, admin_deal, foreign_deal, other_tenant_deal):
        self.world = world
        self.rep_deal, self.admin_deal = rep_deal, admin_deal
        self.foreign_deal, self.other_tenant_deal = foreign_deal, other_tenant_deal
        [self.rep_accrual] = entries_of(world.tenant, rep_deal)
        self.admin_accrual, self.clawback = entries_of(world.tenant, admin_deal)
        [self.foreign_accrual] = entries_of(world.tenant, foreign_deal)
        [self.other_tenant_accrual] = entries_of(world.other_tenant, other_tenant_deal)


def other_tenant_accrual(world, amount: Decimal):
    """A won partner deal in the other tenant, with that tenant's own plan."""
    tenant = world.other_tenant
    with tenant_context(tenant):
        partner = world.other_tenant_partner
        version = PlanVersion.objects.create(
            tenant=tenant, name="Globex", effective_from=PLAN_START
        )
        TierRate.objects.create(tenant=tenant, version=version, tier=partner.tier, rate=Decimal(10))
        deal = OpportunityFactory(
            tenant=tenant,
            partner=partner,
            owner=world.other_tenant_partner_admin.user,
            amount=amount,
            name="Initech deal",
        )
        make_ready_to_win(tenant, deal.pk)
        opportunity_close_won(
            tenant=tenant,
            actor=world.other_tenant_admin,
            opportunity_id=deal.pk,
            close_date=timezone.localdate(),
        )
        event = DomainEvent.objects.get(name="opportunity.won", subject_id=str(deal.pk))
    event_dispatch(tenant_id=tenant.pk, event_id=event.pk)
    return deal


@pytest.fixture
def ledger(deals_world, plan, partner_deal, close_won) -> Ledger:
    w = deals_world
    rep_deal = partner_deal(name="Rep deal", amount=Decimal("10000"))
    admin_deal = partner_deal(w.partner_admin, name="Admin deal", amount=Decimal("20000"))
    foreign_deal = partner_deal(w.other_partner_admin, name="Contoso deal", amount=Decimal(30000))
    for deal in (rep_deal, admin_deal, foreign_deal):
        close_won(deal)
    with tenant_context(w.tenant):
        [admin_accrual] = CommissionEntry.objects.filter(opportunity=admin_deal)
        [rep_accrual] = CommissionEntry.objects.filter(opportunity=rep_deal)
        for entry in (admin_accrual, rep_accrual):
            commission_approve(tenant=w.tenant, actor=w.channel_manager, entry_id=entry.pk)
        payout_create(
            tenant=w.tenant,
            actor=w.channel_manager,
            entry_ids=[admin_accrual.pk],
            reference="PAY-1",
        )
        opportunity_reopen(tenant=w.tenant, actor=w.channel_manager, opportunity_id=admin_deal.pk)
    dispatch_last(w.tenant, "opportunity.reopened")
    other = other_tenant_accrual(w, Decimal(40000))
    return Ledger(w, rep_deal, admin_deal, foreign_deal, other)


def this_month() -> str:
    return f"{timezone.localdate():%Y-%m}"


def statement(client, **params):
    return client.get(reverse("partner:commission_statement"), params)


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def move_entries(tenant, entries, when: datetime) -> None:
    with tenant_context(tenant):
        CommissionEntry.objects.filter(pk__in=[e.pk for e in entries]).update(created_at=when)


# --- Role matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, LIST, strict=True)))
def test_who_opens_my_commissions(ledger, client_for, actor, expected):
    response = client_for(member(ledger.world, actor)).get(reverse("partner:commission_list"))
    assert response.status_code == expected


@pytest.mark.parametrize("name", ["commission_statement", "commission_statement_csv"])
@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, STATEMENT, strict=True)))
def test_only_partner_admins_open_the_statement(ledger, client_for, name, actor, expected):
    response = client_for(member(ledger.world, actor)).get(reverse(f"partner:{name}"))
    assert response.status_code == expected


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, ENTRY, strict=True)))
def test_who_opens_an_entry(ledger, client_for, actor, expected):
    url = reverse("partner:commission_detail", args=[ledger.rep_accrual.pk])
    response = client_for(member(ledger.world, actor)).get(url)
    assert response.status_code == expected
    if expected == 200:
        assert "Rep deal" in response.content.decode()


def test_the_statement_link_shows_in_the_menu_for_partner_admins_only(ledger, client_for):
    home = reverse("partner:home")
    admin_page = client_for(ledger.world.partner_admin).get(home).content.decode()
    rep_page = client_for(ledger.world.partner_rep).get(home).content.decode()
    assert reverse("partner:commission_list") in admin_page
    assert reverse("partner:commission_list") in rep_page
    assert reverse("partner:commission_statement") in admin_page
    assert reverse("partner:commission_statement") not in rep_page


# --- My commissions ----------------------------------------------------------------------------


def listed(response) -> list[tuple[str, str, Decimal]]:
    return [(e.opportunity.name, e.kind, e.amount) for e in response.context["entries"]]


def test_a_rep_sees_what_their_own_won_deals_earned_with_the_breakdown(ledger, client_for):
    response = client_for(ledger.world.partner_rep).get(reverse("partner:commission_list"))
    assert listed(response) == [("Rep deal", "accrual", Decimal("500.00"))]
    assert response.context["net"] == Decimal("500.00")
    html = response.content.decode()
    line = " ".join(html.split('data-testid="breakdown-line">')[1].split("</span>")[0].split())
    assert line == "10 % of 10,000.00 · not registered ×0.5"
    for hidden in ("Admin deal", "Contoso deal", "Initech deal"):
        assert hidden not in html


def test_a_partner_admin_sees_the_organizations_entries_and_no_other_partners(ledger, client_for):
    response = client_for(ledger.world.partner_admin).get(reverse("partner:commission_list"))
    assert listed(response) == [
        ("Admin deal", "clawback", Decimal("-1000.00")),
        ("Admin deal", "accrual", Decimal("1000.00")),
        ("Rep deal", "accrual", Decimal("500.00")),
    ]
    assert response.context["net"] == Decimal("500.00")
    html = response.content.decode()
    assert "The deal was reopened." in html
    assert "Contoso deal" not in html
    assert "Initech deal" not in html


def test_the_other_partner_sees_only_its_own_entry(ledger, client_for):
    response = client_for(ledger.world.other_partner_admin).get(reverse("partner:commission_list"))
    assert listed(response) == [("Contoso deal", "accrual", Decimal("1500.00"))]
    assert response.context["net"] == Decimal("1500.00")


def test_entries_of_another_partner_tenant_or_colleague_are_404(ledger, client_for):
    w = ledger.world

    def status(actor, entry) -> int:
        url = reverse("partner:commission_detail", args=[entry.pk])
        return client_for(actor).get(url).status_code

    assert status(w.partner_admin, ledger.foreign_accrual) == 404
    assert status(w.partner_admin, ledger.other_tenant_accrual) == 404
    assert status(w.partner_rep, ledger.admin_accrual) == 404  # a colleague's deal
    assert status(w.partner_admin, ledger.admin_accrual) == 200
    assert client_for(w.partner_admin).get("/partner/commissions/999999/").status_code == 404


def test_an_entry_page_shows_the_full_breakdown(deals_world, plan, register, close_won, client_for):
    w = deals_world
    registration = register(w.partner_rep, amount=Decimal("20000"), product_lines=["cloud"])
    with tenant_context(w.tenant):
        from deals.services.decisions import registration_approve

        registration = registration_approve(
            tenant=w.tenant, actor=w.channel_manager, registration_id=registration.pk
        )
    deal = registration.opportunity
    close_won(deal)
    [entry] = entries_of(w.tenant, deal)
    response = client_for(w.partner_rep).get(reverse("partner:commission_detail", args=[entry.pk]))
    html = " ".join(response.content.decode().split())
    assert "10 % (Gold tier) = 2,000.00 USD" in html
    assert "Registered deal ×1" in html
    assert "Cloud Suite +400.00 USD" in html
    assert '<strong data-testid="breakdown-amount">2,400.00 USD</strong>' in html


def test_my_commissions_query_count_does_not_grow(
    ledger, partner_deal, close_won, client_for, django_assert_num_queries
):
    def more_entries() -> None:
        for n in range(3):
            close_won(partner_deal(ledger.world.partner_admin, name=f"More {n}"))

    assert_constant_queries(
        client_for(ledger.world.partner_admin),
        reverse("partner:commission_list"),
        more_entries,
        django_assert_num_queries,
    )


# --- The statement -----------------------------------------------------------------------------


def test_the_statement_totals_add_up_with_a_clawback(ledger, client_for):
    response = statement(client_for(ledger.world.partner_admin))
    s = response.context["statement"]
    assert s.period.label == this_month()  # the current month by default
    assert [(e.opportunity.name, e.kind, e.amount, e.status) for e in s.entries] == [
        ("Rep deal", "accrual", Decimal("500.00"), "approved"),
        ("Admin deal", "accrual", Decimal("1000.00"), "paid"),
        ("Admin deal", "clawback", Decimal("-1000.00"), "accrued"),
    ]
    assert s.by_status == {
        "accrued": Decimal("-1000.00"),
        "approved": Decimal("500.00"),
        "paid": Decimal("1000.00"),
    }
    assert (s.accrued, s.clawed_back, s.net) == (
        Decimal("1500.00"),
        Decimal("-1000.00"),
        Decimal("500.00"),
    )
    assert sum(s.by_status.values()) == s.net
    html = response.content.decode()
    assert '<strong data-testid="total-net">500.00 USD</strong>' in html
    assert '<dd data-testid="total-clawed-back">-1,000.00 USD</dd>' in html
    assert "PAY-1" in html


def test_a_partner_never_sees_another_partners_entries_or_totals(ledger, client_for):
    w = ledger.world
    # a forged partner in the query string changes nothing: the partner is the membership's
    response = statement(client_for(w.other_partner_admin), partner_id=w.partner.pk)
    s = response.context["statement"]
    assert s.partner == w.other_partner
    assert [(e.opportunity.name, e.amount) for e in s.entries] == [
        ("Contoso deal", Decimal("1500.00"))
    ]
    assert s.net == Decimal("1500.00")
    html = response.content.decode()
    for hidden in ("Northwind", "Rep deal", "Admin deal", "PAY-1", "Initech"):
        assert hidden not in html


def test_the_other_tenants_partner_sees_only_its_tenant(ledger, client_for):
    response = statement(client_for(ledger.world.other_tenant_partner_admin))
    s = response.context["statement"]
    assert [(e.opportunity.name, e.amount) for e in s.entries] == [
        ("Initech deal", Decimal("2000.00"))
    ]


def test_the_statement_csv_has_exact_rows(ledger, client_for):
    response = client_for(ledger.world.partner_admin).get(
        reverse("partner:commission_statement_csv"), {"period": this_month()}
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="commissions-{ledger.world.partner.pk}-{this_month()}.csv"'
    )
    rep, admin, clawback = ledger.rep_accrual, ledger.admin_accrual, ledger.clawback
    today = timezone.localdate().isoformat()

    def row(entry, deal, status, amount, payout=""):
        return [
            str(entry.pk),
            entry.created_at.isoformat(),
            str(deal.pk),
            deal.name,
            entry.kind,
            status,
            amount,
            "USD",
            today,
            payout,
        ]

    assert csv_rows(response) == [
        [
            "entry_id",
            "created_at",
            "opportunity_id",
            "deal",
            "kind",
            "status",
            "amount",
            "currency",
            "closed_on",
            "payout_reference",
        ],
        row(rep, ledger.rep_deal, "approved", "500.00"),
        row(admin, ledger.admin_deal, "paid", "1000.00", "PAY-1"),
        row(clawback, ledger.admin_deal, "accrued", "-1000.00"),
    ]


def test_a_month_and_its_quarter(ledger, client_for):
    w = ledger.world
    today = timezone.localdate()
    earlier = timezone.now() - timedelta(days=400)
    move_entries(w.tenant, [ledger.rep_accrual], earlier)
    month, quarter = f"{earlier:%Y-%m}", f"{earlier.year}-Q{(earlier.month - 1) // 3 + 1}"
    client = client_for(w.partner_admin)

    def names(period: str) -> list[str]:
        return [
            e.opportunity.name
            for e in statement(client, period=period).context["statement"].entries
        ]

    assert names(month) == ["Rep deal"]
    assert names(quarter) == ["Rep deal"]
    assert names(f"{today:%Y-%m}") == ["Admin deal", "Admin deal"]
    rows = csv_rows(client.get(reverse("partner:commission_statement_csv"), {"period": quarter}))
    assert [r[3] for r in rows[1:]] == ["Rep deal"]


@pytest.mark.parametrize(
    ("period", "previous", "following", "switch"),
    [
        ("2026-11", "2026-10", "2026-12", "2026-Q4"),
        ("2026-12", "2026-11", "2027-01", "2026-Q4"),
        ("2026-01", "2025-12", "2026-02", "2026-Q1"),
        ("2026-Q1", "2025-Q4", "2026-Q2", "2026-01"),
        ("2026-Q4", "2026-Q3", "2027-Q1", "2026-10"),
    ],
)
def test_the_period_links(ledger, client_for, period, previous, following, switch):
    response = statement(client_for(ledger.world.partner_admin), period=period)
    base = reverse("partner:commission_statement")
    assert response.context["previous_url"] == f"{base}?period={previous}"
    assert response.context["next_url"] == f"{base}?period={following}"
    assert response.context["switch_url"] == f"{base}?period={switch}"
    csv_base = reverse("partner:commission_statement_csv")
    assert response.context["csv_url"] == f"{csv_base}?period={period}"


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "last month", "0000-01", "9999-12"])
def test_a_bad_period_is_an_error_and_shows_no_rows(ledger, client_for, period):
    client = client_for(ledger.world.partner_admin)
    response = statement(client, period=period)
    assert response.status_code == 200
    assert response.context["statement"] is None
    assert response.context["period_error"]
    assert "Rep deal" not in response.content.decode()
    csv_response = client.get(reverse("partner:commission_statement_csv"), {"period": period})
    assert csv_response.status_code == 400


def test_the_last_period_there_is_has_no_next_link(ledger, client_for):
    response = statement(client_for(ledger.world.partner_admin), period="9999-11")
    assert response.context["next_url"] is None
    assert response.context["switch_url"] is None  # 9999-Q4 ends past the calendar
    assert response.context["previous_url"].endswith("period=9999-10")


def test_the_statement_query_count_does_not_grow(
    ledger, partner_deal, close_won, client_for, django_assert_num_queries
):
    def more_entries() -> None:
        for n in range(3):
            close_won(partner_deal(name=f"More {n}"))

    client = client_for(ledger.world.partner_admin)
    for name in ("partner:commission_statement", "partner:commission_statement_csv"):
        assert_constant_queries(
            client,
            f"{reverse(name)}?period={this_month()}",
            more_entries,
            django_assert_num_queries,
        )


def test_the_statement_csv_neutralizes_formulas_typed_into_a_deal(ledger, client_for):
    with tenant_context(ledger.world.tenant):
        type(ledger.rep_deal).objects.filter(pk=ledger.rep_deal.pk).update(
            name='=HYPERLINK("http://evil.test","Open")'
        )

    response = client_for(ledger.world.partner_admin).get(
        reverse("partner:commission_statement_csv"), {"period": this_month()}
    )

    deals = {row[3] for row in csv_rows(response)[1:]}
    assert '\'=HYPERLINK("http://evil.test","Open")' in deals
    assert not any(name.startswith("=") for name in deals)

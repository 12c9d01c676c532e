"""Stale-deal alerts: thresholds, who is told, once per deal/reason/period, the daily digest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from partners.models import PartnerOrganization
from pipeline.models import Opportunity, StaleAlert, StaleDigest
from pipeline.services import staleness
from pipeline.services.opportunities import opportunity_close_lost, opportunity_close_won
from pipeline.services.stages import stage_update, stages_install_defaults
from pipeline.services.staleness import stale_digest_prepare, stale_digest_send, stale_scan
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory, make_ready_to_win

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
IDLE_LIMIT = timedelta(days=30)  # Identification, the first default stage


@pytest.fixture
def managed(world: World, stages, in_tenant) -> World:
    """The partner has the channel manager as its channel manager."""
    with in_tenant(world.tenant):
        PartnerOrganization.objects.filter(pk=world.partner.pk).update(
            channel_manager=world.channel_manager.user
        )
    return world


def make_deal(world: World, *, entered=START, activity=None, **fields) -> Opportunity:
    fields.setdefault("partner", world.partner)
    fields.setdefault("owner", world.partner_rep.user)
    return OpportunityFactory(
        tenant=world.tenant,
        stage_entered_at=entered,
        last_activity_at=activity or entered,
        **fields,
    )


def scan(world: World, in_tenant, now: datetime):
    with in_tenant(world.tenant):
        return stale_scan(tenant=world.tenant, now=now)


def alerts(world: World, in_tenant) -> list[tuple[int, str, date]]:
    with in_tenant(world.tenant):
        return list(
            StaleAlert.objects.order_by("opportunity_id", "reason", "period").values_list(
                "opportunity_id", "reason", "period"
            )
        )


def notifications(world: World, in_tenant) -> list[tuple[str, str, str, bool]]:
    with in_tenant(world.tenant):
        return list(
            Notification.objects.order_by("recipient__email", "verb").values_list(
                "recipient__email", "verb", "message", "email"
            )
        )


@pytest.mark.parametrize(
    ("entered", "activity", "now", "stale"),
    [
        (START, START, START + IDLE_LIMIT, False),  # stale_at == now: not yet
        (START, START, START + IDLE_LIMIT + timedelta(seconds=1), True),
        (START, START + timedelta(days=5), START + IDLE_LIMIT + timedelta(seconds=1), False),
        (START, START + timedelta(days=5), START + timedelta(days=35, seconds=1), True),
        (START + timedelta(days=2), START, START + timedelta(days=32), False),  # stage change
    ],
)
def test_a_deal_is_idle_only_after_its_stage_limit(
    managed: World, in_tenant, entered, activity, now, stale
):
    deal = make_deal(managed, entered=entered, activity=activity)

    result = scan(managed, in_tenant, now)

    expected = [(deal.pk, "idle", now.date())] if stale else []
    assert alerts(managed, in_tenant) == expected
    assert result.alerts == len(expected)


@pytest.mark.parametrize(("days_ago", "stale"), [(0, False), (1, True), (40, True)])
def test_a_deal_is_stale_once_its_expected_close_date_has_passed(
    managed: World, in_tenant, days_ago, stale
):
    now = START + timedelta(days=1)
    close = now.date() - timedelta(days=days_ago)
    deal = make_deal(managed, expected_close_date=close)

    scan(managed, in_tenant, now)

    assert alerts(managed, in_tenant) == ([(deal.pk, "close_date_passed", close)] if stale else [])


def test_owner_and_channel_manager_are_told_in_app_only(managed: World, in_tenant):
    deal = make_deal(managed, name="Initrode renewal", expected_close_date=date(2026, 3, 1))
    now = START + IDLE_LIMIT + timedelta(hours=1)

    result = scan(managed, in_tenant, now)

    idle = (
        "“Initrode renewal” is stale: no stage change or activity in Identification "
        "for over 30 days."
    )
    slipped = "“Initrode renewal” is past its expected close date (2026-03-01)."
    assert (result.alerts, result.notifications) == (2, 4)
    assert notifications(managed, in_tenant) == [
        ("cm@acme.test", "opportunity_stale_close_date_passed", slipped, False),
        ("cm@acme.test", "opportunity_stale_idle", idle, False),
        ("rep@northwind.test", "opportunity_stale_close_date_passed", slipped, False),
        ("rep@northwind.test", "opportunity_stale_idle", idle, False),
    ]
    assert alerts(managed, in_tenant) == [
        (deal.pk, "close_date_passed", date(2026, 3, 1)),
        (deal.pk, "idle", now.date()),
    ]


def test_a_direct_deal_alerts_its_owner_only(managed: World, in_tenant):
    make_deal(managed, partner=None, owner=managed.vendor_admin.user, name="Direct")

    scan(managed, in_tenant, START + timedelta(days=31))

    assert [n[0] for n in notifications(managed, in_tenant)] == ["admin@acme.test"]


def test_a_partner_without_channel_manager_alerts_the_owner_only(world: World, stages, in_tenant):
    make_deal(world)

    scan(world, in_tenant, START + timedelta(days=31))

    assert [n[0] for n in notifications(world, in_tenant)] == ["rep@northwind.test"]


@pytest.mark.parametrize("close", ["won", "lost"])
def test_closed_deals_are_never_stale(managed: World, in_tenant, close):
    deal = make_deal(managed, amount=100, expected_close_date=date(2026, 1, 1))
    make_ready_to_win(managed.tenant, deal.pk)
    with in_tenant(managed.tenant):
        if close == "won":
            opportunity_close_won(
                tenant=managed.tenant,
                actor=managed.vendor_admin,
                opportunity_id=deal.pk,
                close_date=timezone.localdate(),
            )
        else:
            opportunity_close_lost(
                tenant=managed.tenant,
                actor=managed.vendor_admin,
                opportunity_id=deal.pk,
                reason_code="price",
            )

    result = scan(managed, in_tenant, timezone.now() + timedelta(days=400))

    assert (result.alerts, result.notifications) == (0, 0)
    assert alerts(managed, in_tenant) == []
    assert notifications(managed, in_tenant) == []


def test_a_stage_without_stale_after_days_never_makes_deals_idle(managed: World, stages, in_tenant):
    with in_tenant(managed.tenant):
        stage_update(
            tenant=managed.tenant,
            actor=managed.vendor_admin,
            stage_id=stages[0].pk,
            stale_after_days=None,
        )
    deal = make_deal(managed, expected_close_date=date(2026, 3, 1))

    scan(managed, in_tenant, START + timedelta(days=3000))

    assert alerts(managed, in_tenant) == [(deal.pk, "close_date_passed", date(2026, 3, 1))]


def test_each_deal_and_reason_alerts_once_per_period(managed: World, in_tenant):
    deal = make_deal(managed, expected_close_date=date(2026, 3, 20))
    day_one = START + timedelta(days=31)  # 2026-04-02

    first = scan(managed, in_tenant, day_one)
    again = scan(managed, in_tenant, day_one + timedelta(hours=5))
    next_day = scan(managed, in_tenant, day_one + timedelta(days=1))

    assert (first.alerts, again.alerts, next_day.alerts) == (2, 0, 1)
    assert (first.notifications, again.notifications, next_day.notifications) == (4, 0, 2)
    assert alerts(managed, in_tenant) == [
        (deal.pk, "close_date_passed", date(2026, 3, 20)),  # once per slipped date
        (deal.pk, "idle", date(2026, 4, 2)),
        (deal.pk, "idle", date(2026, 4, 3)),  # idle: once per day
    ]


def test_a_new_slipped_close_date_alerts_again(managed: World, in_tenant):
    deal = make_deal(managed, entered=START, expected_close_date=START.date())
    scan(managed, in_tenant, START + timedelta(days=1))
    with in_tenant(managed.tenant):
        Opportunity.objects.filter(pk=deal.pk).update(expected_close_date=date(2026, 3, 10))

    scan(managed, in_tenant, START + timedelta(days=10))  # 03-12: the new date has passed too

    assert alerts(managed, in_tenant) == [
        (deal.pk, "close_date_passed", START.date()),
        (deal.pk, "close_date_passed", date(2026, 3, 10)),
    ]


def test_the_constraint_not_a_check_decides_who_alerts(managed: World, in_tenant):
    """Two overlapping scans both list the deal; only the insert that wins notifies."""
    make_deal(managed)
    now = START + timedelta(days=31)
    with in_tenant(managed.tenant):
        listed_by_the_slow_scan = staleness.stale_candidates(tenant=managed.tenant, now=now)
        stale_scan(tenant=managed.tenant, now=now)  # the fast scan inserts and notifies

        late = staleness._insert_alerts(managed.tenant, listed_by_the_slow_scan, now)

        assert late == []
        assert StaleAlert.objects.count() == 1
        assert Notification.objects.count() == 2


def test_another_tenants_deals_are_not_scanned(managed: World, in_tenant):
    with in_tenant(managed.other_tenant):
        stages_install_defaults(tenant=managed.other_tenant)
    OpportunityFactory(
        tenant=managed.other_tenant,
        owner=managed.other_tenant_admin.user,
        stage_entered_at=START,
        last_activity_at=START,
    )
    mine = make_deal(managed)

    result = scan(managed, in_tenant, START + timedelta(days=31))

    assert result.alerts == 1
    assert [a[0] for a in alerts(managed, in_tenant)] == [mine.pk]
    with in_tenant(managed.other_tenant):
        assert StaleAlert.objects.count() == 0


# --- The daily digest ------------------------------------------------------------------------


def digest(world: World, in_tenant, now: datetime) -> list[int]:
    """Prepare the day's digests and send them, as the worker would."""
    with in_tenant(world.tenant):
        ids = stale_digest_prepare(tenant=world.tenant, now=now)
    for digest_id in ids:
        with in_tenant(world.tenant):
            stale_digest_send(tenant=world.tenant, digest_id=digest_id)
    return ids


def inbox() -> dict[str, list[str]]:
    return {
        m.to[0]: [line.strip() for line in m.body.splitlines() if line.startswith("- ")]
        for m in mail.outbox
    }


def test_the_digest_sends_one_email_per_person_with_all_their_deals(managed: World, in_tenant):
    alpha = make_deal(managed, name="Alpha", customer__name="Initrode")
    beta = make_deal(
        managed, name="Beta", customer__name="Umbrella", expected_close_date=START.date()
    )
    make_deal(
        managed,
        partner=None,
        owner=managed.vendor_admin.user,
        name="Gamma",
        customer__name="Hooli",
    )
    now = START + timedelta(days=31)
    scan(managed, in_tenant, now)

    sent = digest(managed, in_tenant, now + timedelta(hours=20))

    assert len(sent) == 3
    assert len(mail.outbox) == 3
    assert inbox() == {
        "rep@northwind.test": [
            "- Alpha (Initrode), stage Identification",
            "- Beta (Umbrella), stage Identification",
        ],
        "cm@acme.test": [
            "- Alpha (Initrode), stage Identification",
            "- Beta (Umbrella), stage Identification",
        ],
        "admin@acme.test": ["- Gamma (Hooli), stage Identification"],
    }
    rep_mail = next(m for m in mail.outbox if m.to == ["rep@northwind.test"])
    assert rep_mail.subject == "[PRM] 2 stale deals need your attention"
    site = settings.SITE_URL
    assert rep_mail.body == (
        f"Hello {managed.partner_rep.user.display_name},\n\n"
        "These 2 deals have gone stale since your last digest:\n\n"
        "- Alpha (Initrode), stage Identification\n"
        "  No stage change or activity\n"
        f"  {site}{reverse('partner:opportunity_detail', args=[alpha.pk])}\n\n"
        "- Beta (Umbrella), stage Identification\n"
        "  Expected close date passed; No stage change or activity\n"
        f"  {site}{reverse('partner:opportunity_detail', args=[beta.pk])}\n\n"
        "Log an activity, move the deal on, or update its expected close date.\n"
    )
    with in_tenant(managed.tenant):
        assert sorted(StaleDigest.objects.values_list("recipient__email", "deal_count")) == [
            ("admin@acme.test", 1),
            ("cm@acme.test", 2),
            ("rep@northwind.test", 2),
        ]


def test_a_second_digest_the_same_day_sends_nothing(managed: World, in_tenant):
    make_deal(managed)
    now = START + timedelta(days=31)
    scan(managed, in_tenant, now)
    digest(managed, in_tenant, now + timedelta(hours=1))

    later = scan(managed, in_tenant, now + timedelta(hours=2))  # nothing new: same period
    again = digest(managed, in_tenant, now + timedelta(hours=3))

    assert later.alerts == 0
    assert again == []
    assert sorted(m.to[0] for m in mail.outbox) == ["cm@acme.test", "rep@northwind.test"]
    with in_tenant(managed.tenant):
        assert StaleDigest.objects.count() == 2


def test_a_person_gets_one_digest_a_day_even_with_new_alerts(managed: World, in_tenant):
    make_deal(managed, name="Early")
    now = START + timedelta(days=31)
    scan(managed, in_tenant, now)
    digest(managed, in_tenant, now + timedelta(hours=1))
    make_deal(managed, name="Late", entered=START + timedelta(hours=5))

    scan(managed, in_tenant, now + timedelta(hours=6))
    same_day = digest(managed, in_tenant, now + timedelta(hours=7))
    next_day = digest(managed, in_tenant, now + timedelta(days=1))

    assert same_day == []
    assert len(next_day) == 2
    rep = [m for m in mail.outbox if m.to == ["rep@northwind.test"]]
    assert [m.subject for m in rep] == [
        "[PRM] 1 stale deal needs your attention",
        "[PRM] 1 stale deal needs your attention",
    ]
    assert "- Early (" in rep[0].body
    assert "- Late (" in rep[1].body  # only what is new since the last digest
    assert "Early" not in rep[1].body


def test_a_digest_whose_deals_closed_meanwhile_is_not_sent(managed: World, in_tenant):
    deal = make_deal(managed, amount=10)
    scan(managed, in_tenant, timezone.now() - timedelta(hours=1))
    make_ready_to_win(managed.tenant, deal.pk)
    with in_tenant(managed.tenant):
        opportunity_close_won(
            tenant=managed.tenant,
            actor=managed.vendor_admin,
            opportunity_id=deal.pk,
            close_date=timezone.localdate(),
        )

    sent = digest(managed, in_tenant, timezone.now())

    assert sent == []
    assert mail.outbox == []

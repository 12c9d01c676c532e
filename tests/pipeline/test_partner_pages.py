"""Partner portal pipeline pages: my opportunities (table and board), a deal's page and
the actions on it. Role matrix, isolation, refused moves with their message, query counts.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, DomainEvent, Notification
from pipeline.models import Activity, CoSellRequest, Opportunity, Stage, StageMove
from tests.conftest import World
from tests.pages import (
    assert_constant_queries,
    member,
    messages_of,
)
from tests.pipeline.factories import CustomerFactory, OpportunityFactory, make_ready_to_win

ACTORS = (
    "anonymous",
    "vendor_admin",
    "channel_manager",
    "partner_admin",
    "partner_rep",
    "other_partner_admin",
    "other_tenant_admin",
)
# Expected status of a partner-portal page about the rep's deal, per actor above.
DETAIL = (302, 403, 403, 200, 200, 404, 403)
ACTION = (302, 403, 403, 302, 302, 404, 403)
LIST = (302, 403, 403, 200, 200, 200, 403)
QUALIFIED = {
    "budget_confirmed": True,
    "decision_maker": True,
    "need": "Faster quoting",
    "timeline": "This quarter",
}
INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."


def stage(stages: list[Stage], name: str) -> Stage:
    return next(s for s in stages if s.name == name)


@pytest.fixture
def deal(world: World, stages) -> Opportunity:
    return OpportunityFactory(
        tenant=world.tenant,
        partner=world.partner,
        owner=world.partner_rep.user,
        name="Rep deal",
        customer__name="Blue Yonder Airlines",
    )


@pytest.fixture
def admin_deal(world: World, stages) -> Opportunity:
    return OpportunityFactory(
        tenant=world.tenant,
        partner=world.partner,
        owner=world.partner_admin.user,
        name="Admin deal",
    )


@pytest.fixture
def foreign_deal(world: World, stages) -> Opportunity:
    return OpportunityFactory(
        tenant=world.tenant,
        partner=world.other_partner,
        owner=world.other_partner_admin.user,
        name="Contoso deal",
    )


def reload(world, in_tenant, deal) -> Opportunity:
    with in_tenant(world.tenant):
        return Opportunity.objects.select_related("stage").get(pk=deal.pk)


def state(world, in_tenant, deal) -> tuple:
    with in_tenant(world.tenant):
        d = Opportunity.objects.get(pk=deal.pk)
        return (
            d.stage_id,
            d.status,
            d.name,
            d.amount,
            d.need,
            StageMove.objects.filter(opportunity=d).count(),
            Activity.objects.filter(opportunity=d).count(),
            CoSellRequest.objects.filter(opportunity=d).count(),
            AuditEntry.objects.count(),
            DomainEvent.objects.count(),
        )


def qualify(world, in_tenant, deal, **extra) -> None:
    with in_tenant(world.tenant):
        Opportunity.objects.filter(pk=deal.pk).update(**QUALIFIED, **extra)


def url(name: str, deal: Opportunity) -> str:
    return reverse(f"partner:{name}", args=[deal.pk])


# --- Role matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, DETAIL, strict=True)))
def test_who_opens_a_deal_page(world, deal, client_for, actor, expected):
    response = client_for(member(world, actor)).get(url("opportunity_detail", deal))
    assert response.status_code == expected
    if expected == 200:
        assert "Rep deal" in response.content.decode()


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, DETAIL, strict=True)))
def test_who_opens_a_deal_edit_page(world, deal, client_for, actor, expected):
    response = client_for(member(world, actor)).get(url("opportunity_edit", deal))
    assert response.status_code == expected


@pytest.mark.parametrize("name", ["partner:opportunity_list", "partner:opportunity_board"])
@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, LIST, strict=True)))
def test_who_opens_the_lists(world, stages, client_for, name, actor, expected):
    assert client_for(member(world, actor)).get(reverse(name)).status_code == expected


def action_posts(world, stages) -> dict[str, dict]:
    return {
        "opportunity_move": {"stage": stage(stages, "Qualification").pk},
        "opportunity_close_won": {"amount": "5000", "close_date": timezone.localdate()},
        "opportunity_close_lost": {"reason": "price", "note": "Too dear"},
        "opportunity_edit": {"name": "Renamed", "amount": "10"},
        "opportunity_activity": {"kind": "call", "body": "Spoke to the CFO"},
        "opportunity_cosell": {
            "resource_type": "marketing_support",
            "need": "A joint webinar",
            "need_by": timezone.localdate() + timedelta(days=7),
        },
    }


@pytest.mark.parametrize(
    "action",
    [
        "opportunity_move",
        "opportunity_close_won",
        "opportunity_close_lost",
        "opportunity_edit",
        "opportunity_activity",
        "opportunity_cosell",
    ],
)
@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, ACTION, strict=True)))
def test_who_may_act_on_a_deal(
    world,
    stages,
    deal,
    client_for,
    in_tenant,
    sent_tasks,
    django_capture_on_commit_callbacks,
    action,
    actor,
    expected,
):
    qualify(world, in_tenant, deal)
    make_ready_to_win(world.tenant, deal.pk)
    before = state(world, in_tenant, deal)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(member(world, actor)).post(
            url(action, deal), action_posts(world, stages)[action]
        )
    assert response.status_code == expected
    after = state(world, in_tenant, deal)
    if actor in ("partner_admin", "partner_rep"):
        assert response.url == url("opportunity_detail", deal)
        assert after != before
        assert messages_of(response)[0].startswith(
            ("Moved to", "The deal is", "Deal “", "Call added", "Marketing support")
        )
    else:
        assert after == before
        assert sent_tasks == []


def test_a_partner_rep_cannot_reach_a_colleagues_deal(world, admin_deal, client_for, in_tenant):
    before = state(world, in_tenant, admin_deal)
    client = client_for(world.partner_rep)
    assert client.get(url("opportunity_detail", admin_deal)).status_code == 404
    assert client.post(url("opportunity_edit", admin_deal), {"name": "x"}).status_code == 404
    assert state(world, in_tenant, admin_deal) == before
    # while the partner admin sees the whole organization
    assert (
        client_for(world.partner_admin).get(url("opportunity_detail", admin_deal)).status_code
        == 200
    )


def test_a_missing_deal_is_a_404(world, stages, client_for):
    response = client_for(world.partner_admin).get(
        reverse("partner:opportunity_detail", args=[999999])
    )
    assert response.status_code == 404


# --- Table ---------------------------------------------------------------------------------------


def names(response) -> list[str]:
    return [d.name for d in response.context["opportunities"]]


def test_the_table_shows_the_reps_own_deals_and_the_admin_the_organization(
    world, deal, admin_deal, foreign_deal, client_for
):
    rep = client_for(world.partner_rep).get(reverse("partner:opportunity_list"))
    admin = client_for(world.partner_admin).get(reverse("partner:opportunity_list"))
    assert names(rep) == ["Rep deal"]
    assert names(admin) == ["Admin deal", "Rep deal"]
    assert "Contoso deal" not in admin.content.decode()


@pytest.fixture
def table(world, stages, in_tenant):
    """Four deals of the partner with distinct values."""
    today = timezone.localdate()
    rows = [
        ("Alpha", "Zephyr Corp", Decimal("100"), today + timedelta(days=30), "Identification"),
        ("Bravo", "Yellow Ltd", Decimal("5000"), today + timedelta(days=10), "Qualification"),
        ("Charlie", "Xeno GmbH", Decimal("900"), today - timedelta(days=2), "Qualification"),
        ("Delta", "Alpha Bank", None, None, "Solution Development"),
    ]
    for name, customer, amount, close, stage_name in rows:
        OpportunityFactory(
            tenant=world.tenant,
            partner=world.partner,
            owner=world.partner_admin.user,
            name=name,
            customer=CustomerFactory(tenant=world.tenant, name=customer),
            amount=amount,
            expected_close_date=close,
            stage=stage(stages, stage_name),
        )
    return world


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Delta", "Charlie", "Bravo", "Alpha"]),
        ({"q": "alpha"}, ["Delta", "Alpha"]),  # deal name or customer name
        ({"stage": "Qualification"}, ["Charlie", "Bravo"]),
        ({"amount_min": "500", "amount_max": "1000"}, ["Charlie"]),
        ({"close_from": "+5", "close_to": "+20"}, ["Bravo"]),
        ({"stale": "yes"}, ["Charlie"]),  # its expected close date has passed
        ({"sort": "name"}, ["Alpha", "Bravo", "Charlie", "Delta"]),
        ({"sort": "-amount"}, ["Delta", "Bravo", "Charlie", "Alpha"]),  # NULLs first desc
        ({"sort": "close"}, ["Charlie", "Bravo", "Alpha", "Delta"]),
        ({"sort": "-stage"}, ["Delta", "Charlie", "Bravo", "Alpha"]),
        ({"status": "won"}, []),
    ],
)
def test_the_table_filters_and_sorts(table, stages, client_for, query, expected):
    today = timezone.localdate()
    params = dict(query)
    if "stage" in params:
        params["stage"] = stage(stages, params["stage"]).pk
    for key in ("close_from", "close_to"):
        if key in params:
            params[key] = (today + timedelta(days=int(params[key]))).isoformat()
    response = client_for(table.partner_admin).get(reverse("partner:opportunity_list"), params)
    assert names(response) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [({"amount_min": "abc"}, "amount_min"), ({"stage": "other_tenant"}, "stage")],
)
def test_a_bad_filter_is_an_error_and_shows_no_rows(table, client_for, in_tenant, params, field):
    if params.get("stage") == "other_tenant":
        from pipeline.services.stages import stages_install_defaults

        with in_tenant(table.other_tenant):
            stages_install_defaults(tenant=table.other_tenant)
            params = {"stage": Stage.objects.for_tenant(table.other_tenant).first().pk}
    response = client_for(table.partner_admin).get(reverse("partner:opportunity_list"), params)
    assert names(response) == []
    assert field in response.context["filter"].errors


def test_the_table_shows_a_stale_badge(table, client_for):
    html = client_for(table.partner_admin).get(reverse("partner:opportunity_list")).content.decode()
    assert html.count('data-testid="stale-badge"') == 1


def test_the_table_query_count_does_not_grow(world, deal, client_for, django_assert_num_queries):
    def add_rows():
        for _ in range(5):
            OpportunityFactory(
                tenant=world.tenant, partner=world.partner, owner=world.partner_admin.user
            )

    assert_constant_queries(
        client_for(world.partner_admin),
        reverse("partner:opportunity_list"),
        add_rows,
        django_assert_num_queries,
    )


# --- Board ---------------------------------------------------------------------------------------


def test_the_board_has_a_column_per_open_stage_without_closed_deals(
    table, stages, client_for, in_tenant
):
    with in_tenant(table.tenant):
        won = Opportunity.objects.get(name="Alpha")
    with in_tenant(table.tenant):
        Opportunity.objects.filter(pk=won.pk).update(status="won")
    response = client_for(table.partner_admin).get(reverse("partner:opportunity_board"))
    columns = {c.stage.name: [d.name for d in c.cards] for c in response.context["columns"]}
    assert columns == {
        "Identification": [],
        "Qualification": ["Charlie", "Bravo"],
        "Solution Development": ["Delta"],
        "Proposal / Evaluation": [],
        "Negotiation / Closing": [],
    }
    html = response.content.decode()
    assert "Yellow Ltd" in html
    assert html.count('data-testid="stale-badge"') == 1


def test_the_board_query_count_does_not_grow(
    world, stages, deal, client_for, django_assert_num_queries
):
    def add_rows():
        for name in ("Qualification", "Solution Development", "Identification"):
            OpportunityFactory(
                tenant=world.tenant,
                partner=world.partner,
                owner=world.partner_rep.user,
                stage=stage(stages, name),
            )

    assert_constant_queries(
        client_for(world.partner_rep),
        reverse("partner:opportunity_board"),
        add_rows,
        django_assert_num_queries,
    )


# --- Deal page and moves -----------------------------------------------------------------------


def test_the_deal_page_shows_the_path_next_criteria_guidance_and_explains_blocked_moves(
    world, deal, client_for
):
    html = client_for(world.partner_rep).get(url("opportunity_detail", deal)).content.decode()
    assert '<li aria-current="step" class="current">\n        Identification' in html
    assert "Next stage: Qualification" in html
    assert "Confirm budget, decision maker, need and timeline" in html  # guidance
    assert "Budget confirmed" in html
    assert "Move to Qualification\n" in html
    # the moves the rules refuse look disabled and say what they need
    assert 'aria-disabled="true"\n              aria-describedby="move-why-' in html
    assert "Needs: Budget confirmed, Decision maker identified" in html


def test_a_refused_move_shows_its_message_and_changes_nothing(
    world,
    stages,
    deal,
    client_for,
    in_tenant,
    sent_tasks,
    django_capture_on_commit_callbacks,
):
    before = state(world, in_tenant, deal)
    client = client_for(world.partner_rep)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("opportunity_move", deal), {"stage": stage(stages, "Qualification").pk}
        )
    assert response.url == url("opportunity_detail", deal)
    message = (
        "Complete the qualification before leaving Identification: Budget confirmed, "
        "Decision maker identified, Need described, Timeline known."
    )
    assert messages_of(response) == [message]
    assert state(world, in_tenant, deal) == before
    assert sent_tasks == []


def test_entry_criteria_refuse_then_allow_the_move(world, stages, deal, client_for, in_tenant):
    qualify(world, in_tenant, deal)
    client = client_for(world.partner_rep)
    target = stage(stages, "Solution Development")
    refused = client.post(url("opportunity_move", deal), {"stage": target.pk}, follow=True)
    assert "To enter Solution Development, fill in: Amount, Next step." in refused.content.decode()
    assert reload(world, in_tenant, deal).stage.name == "Identification"
    client.post(
        url("opportunity_edit", deal),
        {"name": "Rep deal", "amount": "1200", "next_step": "Demo", **QUALIFIED},
    )
    moved = client.post(url("opportunity_move", deal), {"stage": target.pk, "note": "Scoped"})
    assert messages_of(moved)[-1] == "Moved to Solution Development."
    assert reload(world, in_tenant, deal).stage.name == "Solution Development"
    html = client.get(url("opportunity_detail", deal)).content.decode()
    assert "Scoped" in html  # the history


@pytest.mark.parametrize("forged", ["abc", "other_tenant", "won_stage"])
def test_a_forged_stage_is_refused_and_changes_nothing(
    world, stages, deal, client_for, in_tenant, forged
):
    qualify(world, in_tenant, deal)
    if forged == "other_tenant":
        from pipeline.services.stages import stages_install_defaults

        with in_tenant(world.other_tenant):
            stages_install_defaults(tenant=world.other_tenant)
            value = Stage.objects.for_tenant(world.other_tenant).first().pk
    elif forged == "won_stage":
        value = stage(stages, "Closed Won").pk
    else:
        value = forged
    before = state(world, in_tenant, deal)
    response = client_for(world.partner_rep).post(url("opportunity_move", deal), {"stage": value})
    expected = (
        "Use “close won” or “close lost” to close a deal."
        if forged == "won_stage"
        else f"Stage: {INVALID_CHOICE}"
    )
    assert messages_of(response) == [expected]
    assert state(world, in_tenant, deal) == before


def test_closing_won_needs_a_close_date(world, deal, client_for, in_tenant):
    make_ready_to_win(world.tenant, deal.pk)
    response = client_for(world.partner_rep).post(
        url("opportunity_close_won", deal), {"amount": "100"}
    )
    assert messages_of(response) == ["To close the deal as won, fill in: Close date."]
    assert reload(world, in_tenant, deal).status == "open"


def test_closing_lost_needs_a_reason(world, deal, client_for, in_tenant):
    response = client_for(world.partner_rep).post(url("opportunity_close_lost", deal), {})
    assert messages_of(response) == ["To close the deal as lost, choose a lost reason."]
    assert reload(world, in_tenant, deal).status == "open"


def test_a_won_deal_shows_no_moves(world, deal, client_for):
    make_ready_to_win(world.tenant, deal.pk)
    client = client_for(world.partner_rep)
    client.post(
        url("opportunity_close_won", deal),
        {"amount": "100", "close_date": timezone.localdate().isoformat()},
    )
    html = client.get(url("opportunity_detail", deal)).content.decode()
    assert "Move to" not in html
    assert "Close as won" not in html
    assert "Reopen" not in html  # vendor only
    assert '<li aria-current="step" class="current">\n        Closed Won' in html


# --- Edit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"amount": "abc"}, "amount", "Enter a number."),
        ({"amount": "-1"}, "amount", "Ensure this value is greater than or equal to 0."),
        ({"name": "x" * 201}, "name", "Ensure this value has at most 200 characters (it has 201)."),
        (
            {"need": "n" * 2001},
            "need",
            "Ensure this value has at most 2000 characters (it has 2001).",
        ),
        ({"expected_close_date": "soon"}, "expected_close_date", "Enter a valid date."),
    ],
)
def test_bad_edit_input_is_a_form_error_and_changes_nothing(
    world, deal, client_for, in_tenant, data, field, error
):
    before = state(world, in_tenant, deal)
    response = client_for(world.partner_rep).post(
        url("opportunity_edit", deal), {"name": "Rep deal", **data}
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    assert state(world, in_tenant, deal) == before


def test_the_edit_form_cannot_change_stage_or_status(world, stages, deal, client_for, in_tenant):
    client_for(world.partner_rep).post(
        url("opportunity_edit", deal),
        {"name": "Rep deal", "stage": stage(stages, "Negotiation / Closing").pk, "status": "won"},
    )
    moved = reload(world, in_tenant, deal)
    assert (moved.stage.name, moved.status) == ("Identification", "open")


def test_html_in_a_deal_name_is_shown_escaped(world, deal, client_for):
    client = client_for(world.partner_rep)
    name = '<script>alert("x")</script> & Co'
    client.post(url("opportunity_edit", deal), {"name": name})
    for page in (
        url("opportunity_detail", deal),
        reverse("partner:opportunity_list"),
        reverse("partner:opportunity_board"),
    ):
        html = client.get(page).content.decode()
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in html
        assert "<script>alert" not in html


# --- Activity and co-sell ----------------------------------------------------------------------


def test_partners_do_not_see_the_vendors_internal_notes(world, deal, client_for):
    client_for(world.channel_manager).post(
        reverse("vendor:opportunity_activity", args=[deal.pk]),
        {"kind": "note", "body": "Margin is thin", "vendor_internal": "on"},
    )
    client_for(world.partner_rep).post(
        url("opportunity_activity", deal), {"kind": "meeting", "body": "Met the buyer"}
    )
    html = client_for(world.partner_rep).get(url("opportunity_detail", deal)).content.decode()
    assert "Met the buyer" in html
    assert "Margin is thin" not in html
    vendor = client_for(world.channel_manager).get(
        reverse("vendor:opportunity_detail", args=[deal.pk])
    )
    assert "Margin is thin" in vendor.content.decode()


def test_a_partner_cannot_write_an_internal_note(world, deal, client_for, in_tenant):
    client_for(world.partner_rep).post(
        url("opportunity_activity", deal),
        {"kind": "note", "body": "Sneaky", "vendor_internal": "on"},
    )
    with in_tenant(world.tenant):
        assert list(Activity.objects.values_list("vendor_internal", flat=True)) == [False]


def test_a_co_sell_request_is_listed_and_the_vendor_is_notified(world, deal, client_for, in_tenant):
    need_by = timezone.localdate() + timedelta(days=3)
    response = client_for(world.partner_rep).post(
        url("opportunity_cosell", deal),
        {
            "resource_type": "marketing_support",
            "need": "A joint webinar",
            "need_by": need_by.isoformat(),
            "details": "Two weeks",
        },
    )
    assert messages_of(response) == ["Marketing support requested; the vendor is notified."]
    html = client_for(world.partner_rep).get(url("opportunity_detail", deal)).content.decode()
    assert "Marketing support" in html
    assert "Requested" in html
    with in_tenant(world.tenant):
        recipients = set(Notification.objects.values_list("recipient__email", flat=True))
    assert recipients == {"admin@acme.test", "cm@acme.test"}


def test_a_co_sell_request_in_the_past_is_refused(world, deal, client_for, in_tenant):
    response = client_for(world.partner_rep).post(
        url("opportunity_cosell", deal),
        {"resource_type": "marketing_support", "need": "A webinar", "need_by": "2000-01-01"},
    )
    assert messages_of(response) == ["The need-by date is in the past."]
    with in_tenant(world.tenant):
        assert CoSellRequest.objects.count() == 0

"""Stage settings pages (vendor admins): list, add, edit, activate, delete, reorder and the
movement rules. Role matrix, isolation, bad input, refusals with their message, query count.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.errors import Conflict
from accounts.models import AuditEntry
from pipeline.models import PipelineRules, Stage, StageMove
from pipeline.services import stages as svc
from pipeline.services.opportunities import opportunity_close_lost
from tests.conftest import World
from tests.pages import (
    assert_constant_queries,
    assert_login_redirect,
    member,
    messages_of,
)
from tests.pipeline.factories import OpportunityFactory

ACTORS = (
    "anonymous",
    "vendor_admin",
    "channel_manager",
    "partner_admin",
    "partner_rep",
    "other_partner_admin",
    "other_tenant_admin",
)
DEFAULT_ORDER = [
    "Identification",
    "Qualification",
    "Solution Development",
    "Proposal / Evaluation",
    "Negotiation / Closing",
    "Closed Won",
    "Closed Lost",
]
FORM = {
    "name": " Technical Win ",
    "probability": "70",
    "entry_criteria": ["competitor", "amount"],
    "stale_after_days": "7",
    "guidance": "Prove it works.",
}


@pytest.fixture
def other_stages(world: World, stages, in_tenant) -> list[Stage]:
    """The other tenant's default stages (this tenant's are the `stages` fixture)."""
    with in_tenant(world.other_tenant):
        svc.stages_install_defaults(tenant=world.other_tenant)
        return list(Stage.objects.for_tenant(world.other_tenant))


def by_name(stages: list[Stage], name: str) -> Stage:
    return next(s for s in stages if s.name == name)


def state(world: World, in_tenant, tenant=None) -> list[tuple]:
    """Every stage of a tenant, as the pages may change it."""
    with in_tenant(tenant or world.tenant):
        return list(
            Stage.objects.order_by("position", "pk").values_list(
                "name",
                "position",
                "probability",
                "entry_criteria",
                "stale_after_days",
                "guidance",
                "is_active",
            )
        )


def names(world: World, in_tenant, tenant=None) -> list[str]:
    return [row[0] for row in state(world, in_tenant, tenant)]


def audit_verbs(world: World, in_tenant) -> list[str]:
    with in_tenant(world.tenant):
        return list(AuditEntry.objects.order_by("pk").values_list("verb", flat=True))


def denied_status(actor: str, *, record: bool) -> int:
    """What a refused actor gets: login redirect, 403, or (another tenant's record) 404."""
    if actor == "anonymous":
        return 302
    if actor == "other_tenant_admin":
        return 404 if record else 200
    return 403


# --- List ------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_only_vendor_admins_see_the_stage_list(world, stages, client_for, actor):
    url = reverse("vendor:stage_list")
    response = client_for(member(world, actor)).get(url)
    if actor == "anonymous":
        assert_login_redirect(response, url)
        return
    expected = 200 if actor in ("vendor_admin", "other_tenant_admin") else 403
    assert response.status_code == expected
    html = response.content.decode()
    if actor == "vendor_admin":
        assert [s.name for s in response.context["stages"]] == DEFAULT_ORDER
    if actor == "other_tenant_admin":  # their own (empty) pipeline, never ours
        assert list(response.context["stages"]) == []
        assert "Identification" not in html


def test_the_list_shows_each_stage_and_the_rules(world, stages, client_for, in_tenant):
    OpportunityFactory(tenant=world.tenant, owner=world.partner_rep.user)
    with in_tenant(world.tenant):
        svc.pipeline_rules_update(
            tenant=world.tenant,
            actor=world.vendor_admin,
            allow_skip_forward=False,
            allow_backward=True,
        )
    response = client_for(world.vendor_admin).get(reverse("vendor:stage_list"))
    listed = response.context["stages"]
    assert [
        (s.name, s.position, s.probability, s.kind, s.stale_after_days, s.open_deals)
        for s in listed
    ] == [
        ("Identification", 1, 10, "open", 30, 1),
        ("Qualification", 2, 20, "open", 21, 0),
        ("Solution Development", 3, 40, "open", 21, 0),
        ("Proposal / Evaluation", 4, 60, "open", 14, 0),
        ("Negotiation / Closing", 5, 80, "open", 10, 0),
        ("Closed Won", 6, 100, "won", None, 0),
        ("Closed Lost", 7, 0, "lost", None, 0),
    ]
    assert listed[1].criteria_labels == [
        "Budget confirmed",
        "Decision maker identified",
        "Need described",
        "Timeline known",
    ]
    html = response.content.decode()
    assert "Budget confirmed, Decision maker identified, Need described, Timeline known" in (
        " ".join(html.split())
    )
    assert response.context["rules_form"].initial == {
        "allow_skip_forward": False,
        "allow_backward": True,
    }
    assert 'name="allow_backward" id="id_allow_backward" checked' in html
    assert 'name="allow_skip_forward" id="id_allow_skip_forward">' in html


def test_the_list_offers_up_and_down_only_where_a_stage_can_move(world, stages, client_for):
    html = client_for(world.vendor_admin).get(reverse("vendor:stage_list")).content.decode()
    assert html.count('name="direction" value="up"') == 4  # not the first open stage
    assert html.count('name="direction" value="down"') == 4  # not the last open stage
    assert html.count('value="deactivate"') == 5  # open stages only
    assert ": move Identification up" not in html
    assert ": move Identification down" in html
    assert ": move Negotiation / Closing down" not in html


def test_the_stage_list_query_count_does_not_grow(
    world, stages, client_for, in_tenant, django_assert_num_queries
):
    def add_rows() -> None:
        with in_tenant(world.tenant):
            for n in range(3):
                svc.stage_create(
                    tenant=world.tenant, actor=world.vendor_admin, name=f"Extra {n}", probability=50
                )
        for _ in range(3):
            OpportunityFactory(tenant=world.tenant, owner=world.partner_rep.user)

    assert_constant_queries(
        client_for(world.vendor_admin),
        reverse("vendor:stage_list"),
        add_rows,
        django_assert_num_queries,
    )


# --- Create ----------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_only_vendor_admins_add_stages_to_their_own_tenant(
    world, other_stages, client_for, in_tenant, actor
):
    before_here = state(world, in_tenant)
    response = client_for(member(world, actor)).post(reverse("vendor:stage_create"), FORM)
    after_here = state(world, in_tenant)
    there = names(world, in_tenant, world.other_tenant)
    if actor == "vendor_admin":
        assert response.status_code == 302
        assert response.url == reverse("vendor:stage_list")
        assert messages_of(response) == ["Stage “Technical Win” created."]
        assert after_here[5] == (
            "Technical Win",
            6,
            70,
            ["amount", "competitor"],
            7,
            "Prove it works.",
            True,
        )
        assert [row[0] for row in after_here[6:]] == ["Closed Won", "Closed Lost"]
        assert audit_verbs(world, in_tenant) == ["stage_created"]
        return
    assert after_here == before_here
    assert audit_verbs(world, in_tenant) == []
    if actor == "other_tenant_admin":  # they configure their own tenant
        assert response.status_code == 302
        assert "Technical Win" in there
    else:
        assert response.status_code == (302 if actor == "anonymous" else 403)
        assert "Technical Win" not in there


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        (
            {"name": "n" * 101},
            "name",
            "Ensure this value has at most 100 characters (it has 101).",
        ),
        ({"name": "qualification"}, "name", "A stage with this name already exists."),
        ({"probability": "101"}, "probability", "Ensure this value is less than or equal to 100."),
        (
            {"probability": "-1"},
            "probability",
            "Ensure this value is greater than or equal to 0.",
        ),
        ({"probability": "half"}, "probability", "Enter a whole number."),
        ({"probability": ""}, "probability", "This field is required."),
        (
            {"stale_after_days": "0"},
            "stale_after_days",
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            {"stale_after_days": "3651"},
            "stale_after_days",
            "Ensure this value is less than or equal to 3650.",
        ),
        (
            {"entry_criteria": ["amount", "salary"]},
            "entry_criteria",
            "Select a valid choice. salary is not one of the available choices.",
        ),
        (
            {"guidance": "g" * 4001},
            "guidance",
            "Ensure this value has at most 4000 characters (it has 4001).",
        ),
    ],
)
def test_bad_stage_input_is_a_form_error_and_changes_nothing(
    world, stages, client_for, in_tenant, changes, field, error
):
    before = state(world, in_tenant)
    response = client_for(world.vendor_admin).post(
        reverse("vendor:stage_create"), {**FORM, **changes}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [error]}
    assert state(world, in_tenant) == before
    assert audit_verbs(world, in_tenant) == []


def test_the_add_form_shows_the_entry_criteria_as_checkboxes(world, stages, client_for):
    html = client_for(world.vendor_admin).get(reverse("vendor:stage_create")).content.decode()
    assert html.count('type="checkbox" name="entry_criteria"') == 10
    assert "<legend>Entry criteria</legend>" in html


# --- Edit ------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_only_a_vendor_admin_of_the_tenant_edits_a_stage(
    world, stages, other_stages, client_for, in_tenant, actor
):
    stage = by_name(stages, "Solution Development")
    before = state(world, in_tenant)
    before_there = state(world, in_tenant, world.other_tenant)
    response = client_for(member(world, actor)).post(
        reverse("vendor:stage_edit", args=[stage.pk]),
        {**FORM, "name": "Solution Design", "entry_criteria": ["amount"]},
    )
    assert state(world, in_tenant, world.other_tenant) == before_there
    if actor == "vendor_admin":
        assert response.status_code == 302
        assert messages_of(response) == ["Stage “Solution Design” saved."]
        assert state(world, in_tenant)[2] == (
            "Solution Design",
            3,
            70,
            ["amount"],
            7,
            "Prove it works.",
            True,
        )
        assert audit_verbs(world, in_tenant) == ["stage_updated"]
        return
    assert response.status_code == denied_status(actor, record=True)
    assert state(world, in_tenant) == before
    assert audit_verbs(world, in_tenant) == []


def test_another_tenants_stage_is_a_404_on_every_page(
    world, stages, other_stages, client_for, in_tenant
):
    theirs = other_stages[0]
    before = state(world, in_tenant, world.other_tenant)
    client = client_for(world.vendor_admin)
    responses = [
        client.get(reverse("vendor:stage_edit", args=[theirs.pk])),
        client.post(reverse("vendor:stage_edit", args=[theirs.pk]), FORM),
        client.post(reverse("vendor:stage_active", args=[theirs.pk]), {"action": "deactivate"}),
        client.post(reverse("vendor:stage_delete", args=[theirs.pk])),
        client.post(reverse("vendor:stage_reorder"), {"stage": theirs.pk, "direction": "down"}),
        client.get(reverse("vendor:stage_edit", args=[999_999])),
    ]
    assert [r.status_code for r in responses] == [404] * 6
    assert state(world, in_tenant, world.other_tenant) == before
    assert audit_verbs(world, in_tenant) == []
    with in_tenant(world.other_tenant):
        assert AuditEntry.objects.count() == 0


def test_the_edit_form_starts_from_the_current_values(world, stages, client_for):
    stage = by_name(stages, "Qualification")
    response = client_for(world.vendor_admin).get(reverse("vendor:stage_edit", args=[stage.pk]))
    assert response.status_code == 200
    assert response.context["form"].initial == {
        "name": "Qualification",
        "probability": 20,
        "forecast_category": "pipeline",
        "entry_criteria": ["budget_confirmed", "decision_maker", "need", "timeline"],
        "stale_after_days": 21,
        "guidance": stage.guidance,
    }
    assert 'value="need" id="id_entry_criteria_4" checked' in response.content.decode()


def test_saving_an_unchanged_stage_writes_nothing(world, stages, client_for, in_tenant):
    stage = by_name(stages, "Qualification")
    response = client_for(world.vendor_admin).post(
        reverse("vendor:stage_edit", args=[stage.pk]),
        {
            "name": "Qualification",
            "probability": "20",
            "entry_criteria": ["budget_confirmed", "decision_maker", "need", "timeline"],
            "stale_after_days": "21",
            "guidance": stage.guidance,
        },
    )
    assert response.status_code == 302
    assert audit_verbs(world, in_tenant) == []


def test_emptying_stale_after_days_means_never(world, stages, client_for, in_tenant):
    stage = by_name(stages, "Identification")
    response = client_for(world.vendor_admin).post(
        reverse("vendor:stage_edit", args=[stage.pk]),
        {"name": "Identification", "probability": "10", "stale_after_days": "", "guidance": ""},
    )
    assert response.status_code == 302
    assert state(world, in_tenant)[0] == ("Identification", 1, 10, [], None, "", True)


def test_renaming_to_another_stages_name_is_a_form_error(world, stages, client_for, in_tenant):
    stage = by_name(stages, "Qualification")
    before = state(world, in_tenant)
    response = client_for(world.vendor_admin).post(
        reverse("vendor:stage_edit", args=[stage.pk]), {**FORM, "name": "CLOSED WON"}
    )
    assert response.context["form"].errors == {"name": ["A stage with this name already exists."]}
    assert state(world, in_tenant) == before


# --- Activate / deactivate -------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_only_a_vendor_admin_deactivates_a_stage(
    world, stages, other_stages, client_for, in_tenant, actor
):
    stage = by_name(stages, "Solution Development")
    response = client_for(member(world, actor)).post(
        reverse("vendor:stage_active", args=[stage.pk]), {"action": "deactivate"}
    )
    active = [row[6] for row in state(world, in_tenant)]
    if actor == "vendor_admin":
        assert response.status_code == 302
        assert messages_of(response) == ["Stage “Solution Development” is now inactive."]
        assert active == [True, True, False, True, True, True, True]
        return
    assert response.status_code == denied_status(actor, record=True)
    assert all(active)
    assert audit_verbs(world, in_tenant) == []


def test_deactivate_then_reactivate(world, stages, client_for, in_tenant):
    stage = by_name(stages, "Qualification")
    client = client_for(world.vendor_admin)
    url = reverse("vendor:stage_active", args=[stage.pk])
    first = client.post(url, {"action": "deactivate"})
    client.get(first.url)  # the message is shown and consumed
    second = client.post(url, {"action": "activate"})
    assert messages_of(second) == ["Stage “Qualification” is now active."]
    assert all(row[6] for row in state(world, in_tenant))
    assert audit_verbs(world, in_tenant) == ["stage_deactivated", "stage_activated"]


@pytest.mark.parametrize(
    ("stage_name", "action", "message"),
    [
        ("Qualification", "activate", "The stage is already active."),
        (
            "Closed Won",
            "deactivate",
            "The tenant needs one active won stage; rename or change this one instead.",
        ),
        (
            "Qualification",
            "archive",
            "Action: Select a valid choice. archive is not one of the available choices.",
        ),
        ("Qualification", "", "Action: This field is required."),
    ],
)
def test_an_impossible_activation_is_a_message_and_changes_nothing(
    world, stages, client_for, in_tenant, stage_name, action, message
):
    response = client_for(world.vendor_admin).post(
        reverse("vendor:stage_active", args=[by_name(stages, stage_name).pk]), {"action": action}
    )
    assert response.status_code == 302
    assert messages_of(response) == [message]
    assert all(row[6] for row in state(world, in_tenant))
    assert audit_verbs(world, in_tenant) == []


@pytest.mark.parametrize(
    ("deals", "message"),
    [
        (1, "1 open deal is in this stage; move it first."),
        (3, "3 open deals are in this stage; move them first."),
    ],
)
def test_a_stage_with_open_deals_cannot_be_deactivated(
    world, stages, client_for, in_tenant, deals, message
):
    first = by_name(stages, "Identification")
    for _ in range(deals):
        OpportunityFactory(tenant=world.tenant, owner=world.partner_rep.user)
    response = client_for(world.vendor_admin).post(
        reverse("vendor:stage_active", args=[first.pk]), {"action": "deactivate"}
    )
    assert messages_of(response) == [message]
    assert state(world, in_tenant)[0][6] is True
    assert audit_verbs(world, in_tenant) == []


def test_the_service_refuses_to_deactivate_a_stage_with_open_deals(world, stages, in_tenant):
    first = by_name(stages, "Identification")
    OpportunityFactory(tenant=world.tenant, owner=world.partner_rep.user)
    OpportunityFactory(tenant=world.tenant, owner=world.partner_rep.user)
    with in_tenant(world.tenant), pytest.raises(Conflict) as refused:
        svc.stage_set_active(
            tenant=world.tenant, actor=world.vendor_admin, stage_id=first.pk, active=False
        )
    assert refused.value.message == "2 open deals are in this stage; move them first."
    assert state(world, in_tenant)[0][6] is True


def test_closed_deals_do_not_keep_a_stage_active(world, stages, in_tenant):
    """Only open deals count: a deal closed from a stage is history, not work in it."""
    qualification = by_name(stages, "Qualification")
    deal = OpportunityFactory(
        tenant=world.tenant, owner=world.vendor_admin.user, stage=qualification
    )
    with in_tenant(world.tenant):
        opportunity_close_lost(
            tenant=world.tenant,
            actor=world.vendor_admin,
            opportunity_id=deal.pk,
            reason_code="price",
        )
        stage = svc.stage_set_active(
            tenant=world.tenant, actor=world.vendor_admin, stage_id=qualification.pk, active=False
        )
    assert stage.is_active is False


# --- Delete ----------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_only_a_vendor_admin_deletes_an_unused_stage(
    world, stages, other_stages, client_for, in_tenant, actor
):
    stage = by_name(stages, "Solution Development")
    response = client_for(member(world, actor)).post(
        reverse("vendor:stage_delete", args=[stage.pk])
    )
    if actor == "vendor_admin":
        assert response.status_code == 302
        assert response.url == reverse("vendor:stage_list")
        assert messages_of(response) == ["Stage “Solution Development” deleted."]
        assert "Solution Development" not in names(world, in_tenant)
        assert audit_verbs(world, in_tenant) == ["stage_deleted"]
        return
    assert response.status_code == denied_status(actor, record=True)
    assert names(world, in_tenant) == DEFAULT_ORDER
    assert audit_verbs(world, in_tenant) == []


@pytest.mark.parametrize("use", ["open_deal", "history_only"])
def test_a_stage_in_use_cannot_be_deleted(world, stages, client_for, in_tenant, use):
    first, second = by_name(stages, "Identification"), by_name(stages, "Qualification")
    target = first
    deal = OpportunityFactory(tenant=world.tenant, owner=world.partner_rep.user)
    if use == "history_only":  # the deal has moved on; its history still names the stage
        target = second
        with in_tenant(world.tenant):
            StageMove.objects.create(
                tenant=world.tenant,
                opportunity=deal,
                from_stage=second,
                to_stage=first,
                to_status="open",
            )
    response = client_for(world.vendor_admin).post(reverse("vendor:stage_delete", args=[target.pk]))
    assert response.status_code == 302
    assert messages_of(response) == ["This stage is in use; deactivate it instead."]
    assert names(world, in_tenant) == DEFAULT_ORDER
    assert audit_verbs(world, in_tenant) == []


@pytest.mark.parametrize("stage_name", ["Closed Won", "Closed Lost"])
def test_the_closing_stages_cannot_be_deleted(world, stages, client_for, in_tenant, stage_name):
    response = client_for(world.vendor_admin).post(
        reverse("vendor:stage_delete", args=[by_name(stages, stage_name).pk])
    )
    assert messages_of(response) == ["The won and lost stages cannot be deleted."]
    assert names(world, in_tenant) == DEFAULT_ORDER


def test_deleting_needs_a_post(world, stages, client_for, in_tenant):
    response = client_for(world.vendor_admin).get(
        reverse("vendor:stage_delete", args=[stages[0].pk])
    )
    assert response.status_code == 405
    assert names(world, in_tenant) == DEFAULT_ORDER


# --- Reorder ---------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_only_a_vendor_admin_reorders_stages(
    world, stages, other_stages, client_for, in_tenant, actor
):
    response = client_for(member(world, actor)).post(
        reverse("vendor:stage_reorder"), {"stage": stages[0].pk, "direction": "down"}
    )
    here = names(world, in_tenant)
    if actor == "vendor_admin":
        assert response.status_code == 302
        assert messages_of(response) == ["“Identification” moved down."]
        assert here == ["Qualification", "Identification", *DEFAULT_ORDER[2:]]
        assert audit_verbs(world, in_tenant) == ["stages_reordered"]
        return
    assert response.status_code == denied_status(actor, record=True)
    assert here == DEFAULT_ORDER
    assert names(world, in_tenant, world.other_tenant) == DEFAULT_ORDER


def test_moving_a_stage_up_swaps_it_with_the_one_before(world, stages, client_for, in_tenant):
    client_for(world.vendor_admin).post(
        reverse("vendor:stage_reorder"),
        {"stage": by_name(stages, "Negotiation / Closing").pk, "direction": "up"},
    )
    assert state(world, in_tenant)[3][:2] == ("Negotiation / Closing", 4)
    assert state(world, in_tenant)[4][:2] == ("Proposal / Evaluation", 5)


@pytest.mark.parametrize(
    ("stage_name", "direction", "message"),
    [
        ("Identification", "up", "“Identification” is already the first open stage."),
        (
            "Negotiation / Closing",
            "down",
            "“Negotiation / Closing” is already the last open stage.",
        ),
        ("Closed Won", "up", "The won and lost stages stay last."),
        (
            "Qualification",
            "sideways",
            "Direction: Select a valid choice. sideways is not one of the available choices.",
        ),
    ],
)
def test_an_impossible_reorder_is_a_message_and_changes_nothing(
    world, stages, client_for, in_tenant, stage_name, direction, message
):
    response = client_for(world.vendor_admin).post(
        reverse("vendor:stage_reorder"),
        {"stage": by_name(stages, stage_name).pk, "direction": direction},
    )
    assert response.status_code == 302
    assert messages_of(response) == [message]
    assert names(world, in_tenant) == DEFAULT_ORDER
    assert audit_verbs(world, in_tenant) == []


@pytest.mark.parametrize("stage", ["", "abc", "0"])
def test_a_malformed_stage_id_is_a_message(world, stages, client_for, in_tenant, stage):
    response = client_for(world.vendor_admin).post(
        reverse("vendor:stage_reorder"), {"stage": stage, "direction": "up"}
    )
    assert response.status_code == 302
    assert len(messages_of(response)) == 1
    assert messages_of(response)[0].startswith("Stage: ")
    assert names(world, in_tenant) == DEFAULT_ORDER


# --- Movement rules --------------------------------------------------------------------------


def rules(world: World, in_tenant) -> tuple[bool, bool]:
    with in_tenant(world.tenant):
        r = PipelineRules.objects.get()
        return (r.allow_skip_forward, r.allow_backward)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_a_vendor_admin_sets_the_movement_rules(
    world, stages, other_stages, client_for, in_tenant, actor
):
    response = client_for(member(world, actor)).post(
        reverse("vendor:pipeline_rules"), {"allow_backward": "on"}
    )
    if actor == "vendor_admin":
        assert response.status_code == 302
        assert response.url == reverse("vendor:stage_list")
        assert messages_of(response) == ["Movement rules saved."]
        assert rules(world, in_tenant) == (False, True)
        assert audit_verbs(world, in_tenant) == ["pipeline_rules_updated"]
        return
    assert response.status_code == (302 if actor in ("anonymous", "other_tenant_admin") else 403)
    assert rules(world, in_tenant) == (True, True)
    assert audit_verbs(world, in_tenant) == []


def test_both_rules_can_be_switched_off_and_on(world, stages, client_for, in_tenant):
    client = client_for(world.vendor_admin)
    client.post(reverse("vendor:pipeline_rules"), {})
    assert rules(world, in_tenant) == (False, False)
    client.post(
        reverse("vendor:pipeline_rules"), {"allow_skip_forward": "on", "allow_backward": "on"}
    )
    assert rules(world, in_tenant) == (True, True)


def test_the_rules_page_takes_posts_only(world, stages, client_for):
    assert client_for(world.vendor_admin).get(reverse("vendor:pipeline_rules")).status_code == 405

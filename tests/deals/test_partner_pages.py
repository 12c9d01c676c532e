"""Partner portal registration pages: my registrations, the guided form and its live hint,
a registration's page and the actions on it. Role matrix, isolation, bad input, refusals
that change nothing, query counts, and what a partner may never learn about a conflict.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from deals.models import DealRegistration, Extension, Finding
from deals.services.decisions import (
    extension_decline,
    registration_approve,
    registration_reject,
    registration_request_info,
)
from tests.conftest import ALL_ACTORS, World
from tests.deals.api_helpers import json_body
from tests.deals.conftest import RegistrationState, registration_state, submit_tasks
from tests.pages import assert_constant_queries, assert_login_redirect, member, messages_of

ACTORS = ("anonymous", *ALL_ACTORS, "other_tenant_partner_admin")
# Expected status of a partner-portal page about the rep's registration, per actor above.
DETAIL = (302, 403, 403, 200, 200, 404, 403, 404)
ACTION = (302, 403, 403, 302, 302, 404, 403, 404)
LIST = (302, 403, 403, 200, 200, 200, 403, 200)
SHOWS_A_PAGE = ("partner_admin", "partner_rep")


def url(name: str, registration: DealRegistration | None = None) -> str:
    args = [registration.pk] if registration is not None else []
    return reverse(f"partner:{name}", args=args)


def form_post(**overrides: object) -> dict[str, object]:
    """What the browser sends for a complete registration (submit with action=submit)."""
    checkboxes = {"budget_confirmed": "on", "decision_maker": "on"}
    return {**json_body(**checkboxes), "action": "draft", **overrides}


def reload(world: World, in_tenant, registration: DealRegistration) -> DealRegistration:
    with in_tenant(world.tenant):
        return DealRegistration.objects.get(pk=registration.pk)


def state(world: World, in_tenant, registration: DealRegistration) -> RegistrationState:
    return registration_state(world.tenant, registration)


def registrations_in(world: World, in_tenant) -> int:
    with in_tenant(world.tenant):
        return DealRegistration.objects.count()


@pytest.fixture
def draft(deals_world, register) -> DealRegistration:
    return register(deals_world.partner_rep, submit=False, customer_name="Blue Yonder Airlines")


@pytest.fixture
def in_review(deals_world, register) -> DealRegistration:
    return register(deals_world.partner_rep, customer_name="Blue Yonder Airlines")


def approve(world: World, in_tenant, registration: DealRegistration) -> DealRegistration:
    with in_tenant(world.tenant):
        registration_approve(
            tenant=world.tenant,
            actor=world.channel_manager,
            registration_id=registration.pk,
            note="Welcome aboard",
        )
    return reload(world, in_tenant, registration)


# --- Role matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, DETAIL, strict=True)))
def test_who_opens_a_registration_page(deals_world, draft, client_for, actor, expected):
    page = url("registration_detail", draft)
    response = client_for(member(deals_world, actor)).get(page)
    assert response.status_code == expected
    if actor == "anonymous":
        assert_login_redirect(response, page)
    if expected == 200:
        assert "Blue Yonder Airlines" in response.content.decode()


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, DETAIL, strict=True)))
def test_who_opens_a_registration_edit_page(deals_world, draft, client_for, actor, expected):
    response = client_for(member(deals_world, actor)).get(url("registration_edit", draft))
    assert response.status_code == expected


@pytest.mark.parametrize(
    "name", ["registration_list", "registration_create", "registration_similar"]
)
@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, LIST, strict=True)))
def test_who_opens_the_list_the_form_and_the_hint(deals_world, client_for, name, actor, expected):
    response = client_for(member(deals_world, actor)).get(url(name))
    assert response.status_code == expected
    if actor == "anonymous":
        assert_login_redirect(response, url(name))


def action_posts() -> dict[str, dict]:
    return {
        "registration_edit": form_post(customer_name="Blue Yonder Airways"),
        "registration_submit": {},
        "registration_withdraw": {"note": "Customer went quiet", "confirm": "on"},
    }


@pytest.mark.parametrize(
    "action", ["registration_edit", "registration_submit", "registration_withdraw"]
)
@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, ACTION, strict=True)))
def test_who_may_act_on_a_draft(
    deals_world,
    draft,
    client_for,
    in_tenant,
    sent_tasks,
    django_capture_on_commit_callbacks,
    action,
    actor,
    expected,
):
    before = state(deals_world, in_tenant, draft)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(member(deals_world, actor)).post(
            url(action, draft), action_posts()[action]
        )
    assert response.status_code == expected
    after = state(deals_world, in_tenant, draft)
    if actor in SHOWS_A_PAGE:
        assert response.url == url("registration_detail", draft)
        assert after != before
        assert messages_of(response)[0].startswith(
            (
                "Draft for Blue Yonder Airways saved.",
                "Registration for Blue Yonder Airlines submitted",
                "Registration for Blue Yonder Airlines withdrawn.",
            )
        )
    else:
        assert after == before
        assert sent_tasks == []


@pytest.mark.parametrize(("actor", "expected"), list(zip(ACTORS, ACTION, strict=True)))
def test_who_may_request_an_extension(
    deals_world, in_review, client_for, in_tenant, actor, expected
):
    approved = approve(deals_world, in_tenant, in_review)
    before = state(deals_world, in_tenant, approved)
    response = client_for(member(deals_world, actor)).post(
        url("registration_extension_request", approved), {"reason": "Board meets in June"}
    )
    assert response.status_code == expected
    after = state(deals_world, in_tenant, approved)
    if actor in SHOWS_A_PAGE:
        assert messages_of(response) == ["Extension requested; the vendor will decide."]
        assert len(after.extensions) == len(before.extensions) + 1
    else:
        assert after == before


@pytest.mark.parametrize(
    "action",
    [
        "registration_detail",
        "registration_edit",
        "registration_submit",
        "registration_withdraw",
        "registration_extension_request",
    ],
)
def test_get_only_and_post_only_pages_refuse_the_other_method(
    deals_world, draft, client_for, action
):
    client = client_for(deals_world.partner_rep)
    if action in ("registration_detail",):
        assert client.post(url(action, draft)).status_code == 405
    elif action == "registration_edit":
        assert client.get(url(action, draft)).status_code == 200
    else:
        assert client.get(url(action, draft)).status_code == 405


# --- Isolation ----------------------------------------------------------------------------------


def test_a_partner_rep_cannot_reach_a_colleagues_registration(
    deals_world, register, client_for, in_tenant
):
    theirs = register(deals_world.partner_admin, submit=False, customer_name="Admin Customer")
    before = state(deals_world, in_tenant, theirs)
    client = client_for(deals_world.partner_rep)
    assert client.get(url("registration_detail", theirs)).status_code == 404
    assert client.post(url("registration_edit", theirs), form_post()).status_code == 404
    assert client.post(url("registration_submit", theirs)).status_code == 404
    assert state(deals_world, in_tenant, theirs) == before
    # while the partner admin sees the whole organization
    admin = client_for(deals_world.partner_admin)
    assert admin.get(url("registration_detail", theirs)).status_code == 200


def test_a_missing_registration_is_a_404(deals_world, client_for):
    response = client_for(deals_world.partner_admin).get(
        reverse("partner:registration_detail", args=[999999])
    )
    assert response.status_code == 404


def test_the_list_shows_the_reps_own_and_the_admin_the_organization(
    deals_world, register, client_for
):
    register(deals_world.partner_rep, submit=False, customer_name="Rep Customer")
    register(deals_world.partner_admin, submit=False, customer_name="Admin Customer")
    register(deals_world.other_partner_rep, submit=False, customer_name="Contoso Customer")
    register(deals_world.other_tenant_partner_admin, submit=False, customer_name="Initech Customer")

    def names(actor: str) -> list[str]:
        response = client_for(deals_world.member(actor)).get(url("registration_list"))
        return [r.customer_name for r in response.context["registrations"]]

    assert names("partner_rep") == ["Rep Customer"]
    assert names("partner_admin") == ["Admin Customer", "Rep Customer"]  # newest first
    assert names("other_partner_rep") == ["Contoso Customer"]
    assert names("other_tenant_partner_admin") == ["Initech Customer"]


# --- List ----------------------------------------------------------------------------------------


def test_the_list_shows_status_product_lines_amount_submitted_and_the_countdown(
    deals_world, register, client_for, in_tenant
):
    register(deals_world.partner_rep, submit=False, customer_name="Draft Customer", amount=None)
    protected = approve(
        deals_world,
        in_tenant,
        register(
            deals_world.partner_rep,
            customer_name="Protected Customer",
            customer_website="protected.example",
            contact_email="",
            product_lines=["cloud", "security"],
            amount=Decimal("1234.5"),
        ),
    )
    response = client_for(deals_world.partner_rep).get(url("registration_list"))
    html = response.content.decode()
    rows = {row.registration.customer_name: row.days_left for row in response.context["rows"]}
    assert rows == {"Protected Customer": 90, "Draft Customer": None}
    assert "Protected 90 days" in html
    assert f'until <time datetime="{protected.protected_until:%Y-%m-%d}">' in html
    protected_row = html.split("Protected Customer</a>", 1)[1].split("</tr>", 1)[0]
    assert "Cloud Suite" in protected_row
    assert "Security" in protected_row
    assert "1,234.50 USD" in html
    assert f"<td>{protected.first_submitted_at:%Y-%m-%d}</td>" in html
    assert '<span class="status draft">Draft</span>' in html
    assert '<span class="status approved">Approved</span>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["Submitted Customer", "Draft Customer"]),
        ({"status": "draft"}, ["Draft Customer"]),
        ({"status": "in_review"}, ["Submitted Customer"]),
        ({"status": "approved"}, []),
        ({"status": "nonsense"}, []),  # a bad filter shows nothing, with its error
    ],
)
def test_the_list_filters_by_status(deals_world, register, client_for, query, expected):
    register(deals_world.partner_rep, submit=False, customer_name="Draft Customer")
    register(deals_world.partner_rep, customer_name="Submitted Customer")
    response = client_for(deals_world.partner_rep).get(url("registration_list"), query)
    assert [r.customer_name for r in response.context["registrations"]] == expected
    if query.get("status") == "nonsense":
        assert "status" in response.context["filter"].errors


def test_the_list_query_count_does_not_grow(
    deals_world, register, client_for, in_tenant, django_assert_num_queries
):
    approve(deals_world, in_tenant, register(deals_world.partner_admin, customer_name="First"))

    def add_rows() -> None:
        for n in range(3):
            register(deals_world.partner_rep, submit=False, customer_name=f"Draft {n}")
        approve(
            deals_world,
            in_tenant,
            register(
                deals_world.partner_rep,
                customer_name="Northwind Traders",
                customer_website="northwind.example",
                contact_email="",
                product_lines=["security", "cloud"],
            ),
        )

    assert_constant_queries(
        client_for(deals_world.partner_admin),
        url("registration_list"),
        add_rows,
        django_assert_num_queries,
    )


# --- The guided form -----------------------------------------------------------------------------


def test_the_form_offers_the_tenants_active_product_lines_and_two_buttons(
    deals_world, client_for, in_tenant
):
    from deals.models import ProductLine

    with in_tenant(deals_world.tenant):
        ProductLine.objects.create(
            tenant=deals_world.tenant, code="retired", name="Retired Line", is_active=False
        )
    response = client_for(deals_world.partner_rep).get(url("registration_create"))
    html = response.content.decode()
    choices = [code for code, _ in response.context["form"].fields["product_lines"].choices]
    assert sorted(choices) == ["all-products", "cloud", "security"]
    assert "Retired Line" not in html
    assert (
        '<button type="submit" name="action" value="draft" class="secondary">Save draft</button>'
        in html
    )
    assert '<button type="submit" name="action" value="submit">Submit registration</button>' in html
    assert f'hx-get="{url("registration_similar")}"' in html
    assert 'id="similar-hint"' in html


def test_saving_a_draft_then_submitting_it_enqueues_screening_on_commit(
    deals_world, client_for, in_tenant, sent_tasks, django_capture_on_commit_callbacks
):
    client = client_for(deals_world.partner_rep)
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(url("registration_create"), form_post())
    with in_tenant(deals_world.tenant):
        registration = DealRegistration.objects.get()
        lines = list(registration.product_lines.values_list("code", flat=True))
    assert saved.status_code == 302
    assert saved.url == url("registration_detail", registration)
    assert messages_of(saved) == ["Draft for Fabrikam Inc. saved."]
    assert registration.status == "draft"
    assert registration.owner_id == deals_world.partner_rep.user_id
    assert registration.partner_id == deals_world.partner.pk
    assert (registration.amount, registration.currency, lines) == (
        Decimal("25000.00"),
        "USD",
        ["cloud"],
    )
    assert (registration.budget_confirmed, registration.decision_maker) == (True, True)
    assert sent_tasks == []

    page = client.get(url("registration_detail", registration)).content.decode()
    assert "Submit registration</button>" in page
    assert f'href="{url("registration_edit", registration)}">Edit</a>' in page

    with django_capture_on_commit_callbacks(execute=True):
        submitted = client.post(url("registration_submit", registration))
    assert messages_of(submitted) == [
        "Registration for Fabrikam Inc. submitted; screening is under way."
    ]
    assert reload(deals_world, in_tenant, registration).status == "submitted"
    assert sent_tasks == submit_tasks(deals_world.tenant, registration.pk)


def test_submitting_from_the_form_creates_and_enqueues_at_once(
    deals_world, client_for, in_tenant, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(deals_world.partner_admin).post(
            url("registration_create"), form_post(action="submit")
        )
    with in_tenant(deals_world.tenant):
        registration = DealRegistration.objects.get()
    assert registration.status == "submitted"
    assert messages_of(response) == [
        "Registration for Fabrikam Inc. submitted; screening is under way."
    ]
    assert sent_tasks == submit_tasks(deals_world.tenant, registration.pk)


def test_an_incomplete_submission_shows_errors_beside_fields_and_saves_nothing(
    deals_world, client_for, in_tenant, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(deals_world.partner_rep).post(
            url("registration_create"),
            form_post(
                action="submit",
                customer_country="",
                product_lines=[],
                amount="",
                expected_close_date="",
            ),
        )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors == {
        "customer_country": ["Needed to submit."],
        "product_lines": ["Choose at least one product line."],
        "amount": ["Needed to submit."],
        "expected_close_date": ["Needed to submit."],
    }
    html = response.content.decode()
    assert '<p class="error" id="id_amount_error">Needed to submit.</p>' in html
    assert registrations_in(deals_world, in_tenant) == 0
    assert sent_tasks == []


def test_a_past_close_date_is_refused_on_submit(deals_world, client_for, in_tenant):
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client_for(deals_world.partner_rep).post(
        url("registration_create"), form_post(action="submit", expected_close_date=yesterday)
    )
    assert response.context["form"].errors == {"expected_close_date": ["Today or later."]}
    assert registrations_in(deals_world, in_tenant) == 0


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"customer_name": ""}, "customer_name", "This field is required."),
        (
            {"customer_name": "x" * 201},
            "customer_name",
            "Ensure this value has at most 200 characters (it has 201).",
        ),
        (
            {"description": "d" * 4001},
            "description",
            "Ensure this value has at most 4000 characters (it has 4001).",
        ),
        ({"amount": "abc"}, "amount", "Enter a number."),
        ({"amount": "-1"}, "amount", "Ensure this value is greater than or equal to 0."),
        (
            {"amount": "1" * 13},
            "amount",
            [
                "Ensure this value is less than or equal to 999999999999.99.",
                "Ensure that there are no more than 12 digits before the decimal point.",
            ],
        ),
        ({"expected_close_date": "soon"}, "expected_close_date", "Enter a valid date."),
        ({"contact_email": "not-an-address"}, "contact_email", "Enter a valid email address."),
        (
            {"contact_phone": "call me maybe"},
            "contact_phone",
            "Digits, spaces and + - ( ) only.",
        ),
        (
            {"customer_country": "XX"},
            "customer_country",
            "Select a valid choice. XX is not one of the available choices.",
        ),
        (
            {"product_lines": ["other-tenant-line"]},
            "product_lines",
            "Select a valid choice. other-tenant-line is not one of the available choices.",
        ),
        (
            {"currency": "DOLLARS"},
            "currency",
            "Ensure this value has at most 3 characters (it has 7).",
        ),
        ({"currency": "12$"}, "currency", "A three-letter currency code."),
    ],
)
def test_bad_input_is_a_form_error_and_saves_nothing(
    deals_world, client_for, in_tenant, data, field, error
):
    response = client_for(deals_world.partner_rep).post(
        url("registration_create"), form_post(**data)
    )
    assert response.status_code == 200
    assert response.context["form"].errors[field] == (error if isinstance(error, list) else [error])
    assert registrations_in(deals_world, in_tenant) == 0


def test_another_tenants_product_line_is_not_a_choice(deals_world, client_for, in_tenant):
    from deals.models import ProductLine

    with in_tenant(deals_world.other_tenant):
        ProductLine.objects.create(tenant=deals_world.other_tenant, code="globex-only", name="G")
    response = client_for(deals_world.partner_rep).post(
        url("registration_create"), form_post(product_lines=["globex-only"])
    )
    assert response.context["form"].errors["product_lines"] == [
        "Select a valid choice. globex-only is not one of the available choices."
    ]
    assert registrations_in(deals_world, in_tenant) == 0


def test_html_in_the_customer_name_is_escaped(deals_world, client_for, in_tenant):
    client = client_for(deals_world.partner_rep)
    name = '<script>alert("x")</script> Evil & Co'
    client.post(url("registration_create"), form_post(customer_name=name))
    with in_tenant(deals_world.tenant):
        registration = DealRegistration.objects.get()
    assert registration.customer_name == name
    for page in (url("registration_detail", registration), url("registration_list")):
        html = client.get(page).content.decode()
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Evil &amp; Co" in html


# --- Editing ------------------------------------------------------------------------------------


def test_the_edit_form_starts_from_the_registration(deals_world, draft, client_for):
    response = client_for(deals_world.partner_rep).get(url("registration_edit", draft))
    form = response.context["form"]
    assert form["customer_name"].value() == "Blue Yonder Airlines"
    assert form["product_lines"].value() == ["cloud"]
    assert form["customer_country"].value() == "US"


def test_an_info_request_is_answered_by_editing_and_resubmitting(
    deals_world, in_review, client_for, in_tenant, sent_tasks, django_capture_on_commit_callbacks
):
    with in_tenant(deals_world.tenant):
        registration_request_info(
            tenant=deals_world.tenant,
            actor=deals_world.channel_manager,
            registration_id=in_review.pk,
            message="Which departments?",
        )
    client = client_for(deals_world.partner_rep)
    page = client.get(url("registration_detail", in_review)).content.decode()
    assert "Information requested" in page
    assert "Which departments?" in page
    edit = client.get(url("registration_edit", in_review)).content.decode()
    assert "The vendor asks: Which departments?" in edit
    assert "hx-get" not in edit  # a live registration would find itself
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("registration_edit", in_review),
            form_post(
                customer_name="Blue Yonder Airlines", need="Sales and finance", action="submit"
            ),
        )
    assert response.url == url("registration_detail", in_review)
    saved = reload(deals_world, in_tenant, in_review)
    assert (saved.status, saved.need) == ("submitted", "Sales and finance")
    assert sent_tasks == submit_tasks(deals_world.tenant, in_review.pk)


def test_a_refused_submit_from_the_edit_page_keeps_nothing(
    deals_world, draft, client_for, in_tenant, sent_tasks, django_capture_on_commit_callbacks
):
    before = state(deals_world, in_tenant, draft)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(deals_world.partner_rep).post(
            url("registration_edit", draft),
            form_post(customer_name="Renamed", amount="", action="submit"),
        )
    assert response.status_code == 200
    assert response.context["form"].errors == {"amount": ["Needed to submit."]}
    assert state(deals_world, in_tenant, draft) == before
    assert sent_tasks == []


def test_a_registration_in_review_cannot_be_edited(deals_world, in_review, client_for, in_tenant):
    client = client_for(deals_world.partner_rep)
    page = client.get(url("registration_detail", in_review)).content.decode()
    assert url("registration_edit", in_review) not in page
    assert "Submit registration" not in page
    shown = client.get(url("registration_edit", in_review))
    assert shown.url == url("registration_detail", in_review)
    assert messages_of(shown) == ["A registration that is in review cannot be edited."]
    before = state(deals_world, in_tenant, in_review)
    posted = client.post(url("registration_edit", in_review), form_post(customer_name="Changed"))
    assert posted.status_code == 200
    assert posted.context["form"].non_field_errors() == [
        "A registration that is in review cannot be edited."
    ]
    assert state(deals_world, in_tenant, in_review) == before


# --- Refusals -----------------------------------------------------------------------------------


def test_submitting_an_incomplete_draft_says_what_is_missing_and_changes_nothing(
    deals_world, register, client_for, in_tenant, sent_tasks, django_capture_on_commit_callbacks
):
    draft = register(
        deals_world.partner_rep, submit=False, amount=None, product_lines=[], customer_country=""
    )
    before = state(deals_world, in_tenant, draft)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(deals_world.partner_rep).post(url("registration_submit", draft))
    assert response.url == url("registration_detail", draft)
    assert messages_of(response) == [
        "Complete the registration before submitting it: Country, Product lines, "
        "Estimated amount. Edit it to fill them in."
    ]
    assert state(deals_world, in_tenant, draft) == before
    assert sent_tasks == []


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        (
            "registration_submit",
            {},
            "The registration is in review; only drafts and registrations with an information "
            "request can be submitted.",
        ),
        (
            "registration_withdraw",
            {"note": "Changed my mind"},
            "Confirm: Tick the box to withdraw the registration.",
        ),
        (
            "registration_extension_request",
            {"reason": "Need time"},
            "Only a protected (approved) registration can be extended.",
        ),
    ],
    ids=["submitting_twice", "withdrawing_without_confirmation", "extension_before_approval"],
)
def test_a_refused_action_on_a_registration_in_review_says_why_and_changes_nothing(
    deals_world,
    in_review,
    client_for,
    in_tenant,
    sent_tasks,
    django_capture_on_commit_callbacks,
    action,
    data,
    message,
):
    before = state(deals_world, in_tenant, in_review)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(deals_world.partner_rep).post(url(action, in_review), data)
    assert messages_of(response) == [message]
    assert state(deals_world, in_tenant, in_review) == before
    assert sent_tasks == []


def test_withdrawing_a_protected_registration_ends_its_protection(
    deals_world, in_review, client_for, in_tenant
):
    approved = approve(deals_world, in_tenant, in_review)
    client = client_for(deals_world.partner_rep)
    response = client.post(
        url("registration_withdraw", approved), {"note": "Customer chose a rival", "confirm": "on"}
    )
    assert messages_of(response) == ["Registration for Blue Yonder Airlines withdrawn."]
    saved = reload(deals_world, in_tenant, approved)
    assert saved.status == "withdrawn"
    html = client.get(url("registration_detail", approved)).content.decode()
    assert "Customer chose a rival" in html  # the timeline
    assert 'data-testid="actions"' not in html  # nothing left to do
    # and withdrawing again is refused, changing nothing
    before = state(deals_world, in_tenant, approved)
    again = client.post(url("registration_withdraw", approved), {"confirm": "on"})
    assert messages_of(again) == ["A registration that is withdrawn cannot be withdrawn."]
    assert state(deals_world, in_tenant, approved) == before


def test_an_extension_needs_a_reason_and_only_one_may_wait(
    deals_world, in_review, client_for, in_tenant
):
    approved = approve(deals_world, in_tenant, in_review)
    client = client_for(deals_world.partner_rep)
    before = state(deals_world, in_tenant, approved)
    empty = client.post(url("registration_extension_request", approved), {"reason": ""})
    assert messages_of(empty) == ["Why the deal needs more time: This field is required."]
    too_long = client.post(url("registration_extension_request", approved), {"reason": "r" * 2001})
    assert messages_of(too_long)[-1:] == [
        "Why the deal needs more time: Ensure this value has at most 2000 characters (it has 2001)."
    ]
    assert state(deals_world, in_tenant, approved) == before
    client.post(url("registration_extension_request", approved), {"reason": "Board in June"})
    page = client.get(url("registration_detail", approved)).content.decode()
    assert "Request extension" not in page  # one is waiting
    assert "Board in June" in page
    waiting = state(deals_world, in_tenant, approved)
    second = client.post(url("registration_extension_request", approved), {"reason": "Again"})
    assert messages_of(second)[-1:] == ["An extension request is already waiting for the vendor."]
    assert state(deals_world, in_tenant, approved) == waiting


# --- The registration's page ---------------------------------------------------------------------


def test_an_approved_registration_shows_countdown_opportunity_decision_and_timeline(
    deals_world, in_review, client_for, in_tenant
):
    approved = approve(deals_world, in_tenant, in_review)
    client = client_for(deals_world.partner_rep)
    client.post(url("registration_extension_request", approved), {"reason": "Board in June"})
    with in_tenant(deals_world.tenant):
        extension = Extension.objects.get()
        extension_decline(
            tenant=deals_world.tenant,
            actor=deals_world.channel_manager,
            registration_id=approved.pk,
            extension_id=extension.pk,
            reason="Not this quarter",
        )
    response = client.get(url("registration_detail", approved))
    html = response.content.decode()
    assert response.context["days_left"] == 90
    assert "Protected 90 days" in html
    assert f"{approved.protected_until:%Y-%m-%d}" in html
    link = reverse("partner:opportunity_detail", args=[approved.opportunity_id])
    assert f'href="{link}"' in html
    assert "Decision: Approved" in html
    assert "Welcome aboard" in html
    labels = [entry.label for entry in response.context["timeline"]]
    assert labels == [
        "Created",
        "Submitted",
        "Screened",
        "Held for review",
        "Approved",
        "Extension requested",
        "Extension declined",
    ]
    assert "Declined: Not this quarter" in html
    assert "Request extension" in html  # the declined one no longer waits
    # the opportunity page opens for the submitter
    assert client.get(link).status_code == 200


def test_a_rejection_shows_its_reason_and_message(deals_world, in_review, client_for, in_tenant):
    with in_tenant(deals_world.tenant):
        registration_reject(
            tenant=deals_world.tenant,
            actor=deals_world.channel_manager,
            registration_id=in_review.pk,
            reason_code="outside_territory",
            message="Not your region",
        )
    response = client_for(deals_world.partner_rep).get(url("registration_detail", in_review))
    html = response.content.decode()
    rejected = [e.reason for e in response.context["timeline"] if e.label == "Rejected"]
    assert rejected == ["Outside territory"]
    assert "Decision: Outside territory" in html
    assert "Not your region" in html
    assert 'data-testid="actions"' not in html


def test_a_partner_conflict_shows_its_kind_and_date_but_nothing_of_the_other_partner(
    deals_world, register, client_for, in_tenant
):
    # given another partner registered the customer first, with data of its own
    theirs = register(
        deals_world.other_partner_rep,
        customer_name="FABRIKAM, INC.",
        contact_name="Zed Secretkeeper",
        contact_email="zed@fabrikam.com",
        contact_phone="+1 555 8642 0199",
        amount=Decimal("987654.32"),
        description="Contoso private notes",
        need="Contoso private need",
        product_lines=["cloud", "security"],
    )
    with in_tenant(deals_world.tenant):
        DealRegistration.objects.filter(pk=theirs.pk).update(
            first_submitted_at=timezone.now() - timedelta(days=3)
        )
        theirs = DealRegistration.objects.get(pk=theirs.pk)
    # when our rep registers the same customer
    ours = register(deals_world.partner_rep)
    with in_tenant(deals_world.tenant):
        kinds = list(Finding.objects.filter(registration=ours).values_list("kind", flat=True))
    assert kinds == ["partner_conflict"]
    # then the page tells the kind and the first-registered date
    response = client_for(deals_world.partner_rep).get(url("registration_detail", ours))
    html = response.content.decode()
    assert "Another partner&#x27;s registration" in html
    assert f'First registered on <time datetime="{theirs.first_submitted_at:%Y-%m-%d}">' in html
    assert "Cloud Suite" in html
    # and nothing of the other partner or its registration
    for secret in (
        "Contoso",
        deals_world.other_partner.name,
        deals_world.other_partner_rep.user.email,
        deals_world.other_partner_rep.user.display_name,
        "FABRIKAM, INC.",
        "Zed Secretkeeper",
        "zed@fabrikam.com",
        "8642 0199",
        "987,654.32",
        "987654.32",
        "Contoso private",
        url("registration_detail", theirs),
        f"/registrations/{theirs.pk}/",
    ):
        assert secret not in html, secret
    assert response.context["findings"] == [
        {
            "kind": "partner_conflict",
            "kind_label": "Another partner's registration",
            "score": response.context["findings"][0]["score"],
            "product_lines": ["Cloud Suite"],
            "first_registered_at": theirs.first_submitted_at,
        }
    ]
    assert "matched" not in html.lower()


# --- The similar-customer hint -----------------------------------------------------------------


def hint(client, **params: str) -> str:
    response = client.get(url("registration_similar"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_hint_tells_the_kind_of_similar_live_registrations_never_whose(
    deals_world, register, client_for
):
    register(deals_world.other_partner_rep, customer_name="Fabrikam Inc.")
    rep = client_for(deals_world.partner_rep)
    html = hint(
        rep, customer_name="Fabrikam", customer_website="fabrikam.com", customer_country="US"
    )
    assert "Another partner has a live registration for a similar customer." in html
    assert "You or your organization" not in html
    for secret in ("Contoso", deals_world.other_partner_rep.user.email, "Jane Doe", "25"):
        assert secret not in html
    # a colleague's registration is "yours"
    register(
        deals_world.partner_admin,
        customer_name="Tailspin Toys",
        customer_website="tailspin.example",
        contact_email="",
    )
    assert "You or your organization already registered a similar customer." in hint(
        rep,
        customer_name="Tailspin Toys",
        customer_website="tailspin.example",
        customer_country="US",
    )


@pytest.mark.parametrize(
    "params",
    [
        {"customer_name": "Fa"},  # too short to say anything
        {"customer_name": "Wide World Importers", "customer_country": "US"},  # nobody
        {"customer_name": "x" * 5000},  # oversized
        {"customer_name": "Fabrikam", "customer_country": "USA"},  # bad country
        {},
    ],
)
def test_the_hint_says_nothing_when_nothing_is_similar_or_input_is_bad(
    deals_world, register, client_for, params
):
    register(deals_world.other_partner_rep, customer_name="Fabrikam Inc.")
    assert 'data-testid="similar-hint"' not in hint(client_for(deals_world.partner_rep), **params)


def test_a_draft_or_another_tenant_is_never_similar(deals_world, register, client_for):
    register(deals_world.other_partner_rep, submit=False, customer_name="Fabrikam Inc.")
    register(deals_world.other_tenant_partner_admin, customer_name="Fabrikam Inc.")
    html = hint(
        client_for(deals_world.partner_rep),
        customer_name="Fabrikam Inc.",
        customer_website="fabrikam.com",
        customer_country="US",
    )
    assert 'data-testid="similar-hint"' not in html

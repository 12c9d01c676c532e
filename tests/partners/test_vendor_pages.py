"""Vendor portal pages: home, partners, tiers, people, invitations.

Every page and POST gets a role matrix; denied and invalid requests change nothing and
enqueue nothing; lists keep a constant number of queries as rows grow.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, Membership, Notification, Role
from accounts.tenancy import tenant_context
from partners.models import Invitation, PartnerOrganization, PartnerTier
from tests.accounts.factories import MembershipFactory
from tests.conftest import ALL_ACTORS, World
from tests.pages import assert_constant_queries, assert_login_redirect, member, messages_of
from tests.partners.factories import (
    InvitationFactory,
    PartnerOrganizationFactory,
    PartnerTierFactory,
)

ACTORS = ("anonymous", *ALL_ACTORS)
INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."


# --- Helpers ---------------------------------------------------------------------------------


def figure(html: str, testid: str) -> int:
    match = re.search(rf'data-testid="{testid}">(\d+)<', html)
    assert match, testid
    return int(match.group(1))


def partner_state(world: World, in_tenant, pk: int) -> tuple:
    with in_tenant(world.tenant):
        p = PartnerOrganization.objects.get(pk=pk)
        return (p.name, p.tier_id, p.country.code, p.region, p.status, p.channel_manager_id)


def audit_count(world: World, in_tenant) -> int:
    with in_tenant(world.tenant):
        return AuditEntry.objects.count()


# --- Home ------------------------------------------------------------------------------------


@pytest.fixture
def busy_tenant(world: World):
    """A tenant with one of everything the home page counts, and some noise around it."""
    silver = PartnerTierFactory(tenant=world.tenant, name="Silver", rank=2)
    PartnerOrganizationFactory(
        tenant=world.tenant, tier=silver, name="Umbrella Corp", status="suspended"
    )
    now = timezone.now()
    InvitationFactory(tenant=world.tenant, email="pending@acme.test", role=Role.CHANNEL_MANAGER)
    InvitationFactory(tenant=world.tenant, email="used@acme.test", accepted_at=now)
    InvitationFactory(tenant=world.tenant, email="gone@acme.test", revoked_at=now)
    InvitationFactory(
        tenant=world.tenant, email="late@acme.test", expires_at=now - timedelta(days=1)
    )
    InvitationFactory(tenant=world.other_tenant, email="elsewhere@globex.test")
    MembershipFactory(tenant=world.tenant, role=Role.CHANNEL_MANAGER, is_active=False)
    with tenant_context(world.tenant):
        for recipient, message in [
            (world.vendor_admin, "Northwind asked for an extension"),
            (world.channel_manager, "Message for someone else"),
        ]:
            Notification.objects.create(
                tenant=world.tenant,
                recipient=recipient.user,
                verb="test",
                message=message,
                email=False,
            )
    return world


def test_vendor_home_counts_this_tenants_records(busy_tenant, client_for):
    world = busy_tenant
    html = client_for(world.vendor_admin).get(reverse("vendor:home")).content.decode()
    assert figure(html, "count-active-partners") == 2
    assert figure(html, "count-suspended-partners") == 1
    assert figure(html, "count-tiers") == 2
    assert figure(html, "count-people") == 6  # the inactive channel manager is not counted
    assert figure(html, "count-pending-invitations") == 1


def test_vendor_home_lists_recent_partners_pending_invitations_and_my_notifications(
    busy_tenant, client_for
):
    world = busy_tenant
    html = client_for(world.vendor_admin).get(reverse("vendor:home")).content.decode()
    for name in ("Umbrella Corp", "Northwind Resellers", "Contoso Partners"):
        assert name in html
    assert "pending@acme.test" in html
    for email in ("used@acme.test", "gone@acme.test", "late@acme.test", "elsewhere@globex.test"):
        assert email not in html
    assert "Northwind asked for an extension" in html
    assert "Message for someone else" not in html
    assert "Initech" not in html


@pytest.mark.parametrize(
    ("actor", "shows_admin_links"), [("vendor_admin", True), ("channel_manager", False)]
)
def test_vendor_home_offers_admin_links_to_admins_only(world, client_for, actor, shows_admin_links):
    html = client_for(world.member(actor)).get(reverse("vendor:home")).content.decode()
    assert (reverse("vendor:partner_create") in html) is shows_admin_links


# --- Partner list ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Contoso Partners", "Northwind Resellers", "Umbrella Corp"]),
        ("?status=suspended", ["Umbrella Corp"]),
        ("?status=active", ["Contoso Partners", "Northwind Resellers"]),
        ("?name=north", ["Northwind Resellers"]),
        ("?region=APAC", []),
    ],
)
def test_the_partner_list_filters(busy_tenant, client_for, query, expected):
    response = client_for(busy_tenant.channel_manager).get(reverse("vendor:partner_list") + query)
    assert [p.name for p in response.context["object_list"]] == expected


def test_the_partner_list_filters_by_tier(world, client_for):
    silver = PartnerTierFactory(tenant=world.tenant, name="Silver", rank=2)
    PartnerOrganizationFactory(tenant=world.tenant, tier=silver, name="Silverline")
    response = client_for(world.vendor_admin).get(
        reverse("vendor:partner_list"), {"tier": silver.pk}
    )
    assert [p.name for p in response.context["object_list"]] == ["Silverline"]


@pytest.mark.parametrize("tier", ["other_tenant", "abc"])
def test_a_forged_tier_filter_shows_an_error_and_no_rows(world, client_for, tier):
    value = PartnerTierFactory(tenant=world.other_tenant).pk if tier == "other_tenant" else tier
    response = client_for(world.vendor_admin).get(reverse("vendor:partner_list"), {"tier": value})
    assert list(response.context["object_list"]) == []
    assert response.context["filter"].errors["tier"] == [INVALID_CHOICE]


def test_the_partner_list_never_shows_another_tenant(world, client_for):
    html = client_for(world.other_tenant_admin).get(reverse("vendor:partner_list")).content.decode()
    assert "Initech" in html
    assert "Northwind" not in html


def test_the_partner_list_query_count_does_not_grow(world, client_for, django_assert_num_queries):
    def add_rows():
        for _ in range(6):
            partner = PartnerOrganizationFactory(tenant=world.tenant, tier=world.tier)
            MembershipFactory(tenant=world.tenant, role=Role.PARTNER_REP, partner=partner)
        PartnerOrganizationFactory(
            tenant=world.tenant, tier=world.tier, channel_manager=world.channel_manager.user
        )

    assert_constant_queries(
        client_for(world.vendor_admin),
        reverse("vendor:partner_list"),
        add_rows,
        django_assert_num_queries,
    )


# --- Partner create ----------------------------------------------------------------------------


def partner_form(world: World, **overrides) -> dict:
    data = {
        "name": "  Fabrikam Distribution  ",
        "tier": world.tier.pk,
        "country": "FR",
        "region": "EMEA",
        "channel_manager": world.channel_manager.user.pk,
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("vendor_admin", 302),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 200),
    ],
)
def test_only_a_vendor_admin_creates_partners(world, client_for, in_tenant, actor, expected):
    url = reverse("vendor:partner_create")
    # when someone posts a valid form for this tenant
    response = client_for(member(world, actor)).post(url, partner_form(world))
    assert response.status_code == expected
    with in_tenant(world.tenant):
        created = PartnerOrganization.objects.filter(name="Fabrikam Distribution").first()
    with in_tenant(world.other_tenant):
        elsewhere = PartnerOrganization.objects.filter(name="Fabrikam Distribution").exists()
    assert elsewhere is False
    if actor == "vendor_admin":
        assert response.url == reverse("vendor:partner_detail", args=[created.pk])
        assert messages_of(response) == ["Partner “Fabrikam Distribution” created."]
        return
    assert created is None
    if actor == "anonymous":
        assert_login_redirect(response, url)
    if actor == "other_tenant_admin":  # this tenant's tier and manager are not theirs
        assert response.context["form"].errors == {
            "tier": [INVALID_CHOICE],
            "channel_manager": [INVALID_CHOICE],
        }


def test_a_created_partner_has_exactly_the_values_given(world, client_for, in_tenant):
    client_for(world.vendor_admin).post(reverse("vendor:partner_create"), partner_form(world))
    with in_tenant(world.tenant):
        partner = PartnerOrganization.objects.get(name="Fabrikam Distribution")
        entry = AuditEntry.objects.get(verb="partner_created")
    assert (
        partner.tier_id,
        partner.country.code,
        partner.region,
        partner.status,
        partner.channel_manager_id,
    ) == (world.tier.pk, "FR", "EMEA", "active", world.channel_manager.user.pk)
    assert (entry.actor_id, entry.subject_id) == (world.vendor_admin.user_id, str(partner.pk))


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"name": "x" * 201}, "name", "Ensure this value has at most 200 characters (it has 201)."),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "northwind RESELLERS"}, "name", "A partner with this name already exists."),
        ({"tier": "abc"}, "tier", INVALID_CHOICE),
        ({"tier": ""}, "tier", "This field is required."),
        ({"tier": "other_tenant_tier"}, "tier", INVALID_CHOICE),
        ({"channel_manager": "partner_admin"}, "channel_manager", INVALID_CHOICE),
        ({"channel_manager": "other_tenant_admin"}, "channel_manager", INVALID_CHOICE),
        ({"channel_manager": "inactive_manager"}, "channel_manager", INVALID_CHOICE),
        (
            {"region": "MARS"},
            "region",
            "Select a valid choice. MARS is not one of the available choices.",
        ),
        (
            {"country": "ZZ"},
            "country",
            "Select a valid choice. ZZ is not one of the available choices.",
        ),
    ],
)
def test_bad_partner_input_is_a_form_error_and_changes_nothing(
    world, client_for, in_tenant, overrides, field, error
):
    # given forged or malformed values
    resolved = dict(overrides)
    if resolved.get("tier") == "other_tenant_tier":
        resolved["tier"] = PartnerTierFactory(tenant=world.other_tenant).pk
    if resolved.get("channel_manager") == "inactive_manager":
        resolved["channel_manager"] = MembershipFactory(
            tenant=world.tenant, role=Role.CHANNEL_MANAGER, is_active=False
        ).user_id
    elif resolved.get("channel_manager") in ("partner_admin", "other_tenant_admin"):
        resolved["channel_manager"] = world.member(resolved["channel_manager"]).user_id
    # when a vendor admin submits them
    response = client_for(world.vendor_admin).post(
        reverse("vendor:partner_create"), partner_form(world, **resolved)
    )
    # then the form says what is wrong and nothing was written
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    with in_tenant(world.tenant):
        assert PartnerOrganization.objects.count() == 2
        assert AuditEntry.objects.count() == 0


def test_html_in_a_partner_name_is_stored_as_text_and_shown_escaped(world, client_for, in_tenant):
    name = '<script>alert("x")</script> & Co'
    client = client_for(world.vendor_admin)
    response = client.post(reverse("vendor:partner_create"), partner_form(world, name=name))
    with in_tenant(world.tenant):
        partner = PartnerOrganization.objects.get(name=name)
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"
    for url in (response.url, reverse("vendor:partner_list"), reverse("vendor:home")):
        html = client.get(url).content.decode()
        assert escaped in html
        assert "<script>alert" not in html
    assert partner.pk


# --- Partner detail ----------------------------------------------------------------------------


def test_the_partner_page_shows_its_people_and_pending_invitations(world, client_for):
    InvitationFactory(
        tenant=world.tenant,
        email="next@northwind.test",
        role=Role.PARTNER_REP,
        partner=world.partner,
    )
    InvitationFactory(
        tenant=world.tenant,
        email="next@contoso.test",
        role=Role.PARTNER_REP,
        partner=world.other_partner,
    )
    html = (
        client_for(world.channel_manager)
        .get(reverse("vendor:partner_detail", args=[world.partner.pk]))
        .content.decode()
    )
    assert "padmin@northwind.test" in html
    assert "rep@northwind.test" in html
    assert "next@northwind.test" in html
    assert "contoso.test" not in html


@pytest.mark.parametrize(("actor", "buttons"), [("vendor_admin", True), ("channel_manager", False)])
def test_the_partner_page_shows_change_buttons_to_admins_only(world, client_for, actor, buttons):
    html = (
        client_for(world.member(actor))
        .get(reverse("vendor:partner_detail", args=[world.partner.pk]))
        .content.decode()
    )
    assert (reverse("vendor:partner_edit", args=[world.partner.pk]) in html) is buttons
    assert ('value="suspend"' in html) is buttons


def test_a_missing_partner_is_a_404(world, client_for):
    response = client_for(world.vendor_admin).get(reverse("vendor:partner_detail", args=[999999]))
    assert response.status_code == 404


# --- Partner edit ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("vendor_admin", 302),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_only_a_vendor_admin_of_the_tenant_edits_a_partner(
    world, client_for, in_tenant, actor, expected
):
    url = reverse("vendor:partner_edit", args=[world.partner.pk])
    before = partner_state(world, in_tenant, world.partner.pk)
    response = client_for(member(world, actor)).post(
        url, partner_form(world, name="Northwind Global", region="APAC", channel_manager="")
    )
    assert response.status_code == expected
    after = partner_state(world, in_tenant, world.partner.pk)
    if actor == "vendor_admin":
        assert after == ("Northwind Global", world.tier.pk, "FR", "APAC", "active", None)
        assert messages_of(response) == ["Partner “Northwind Global” saved."]
    else:
        assert after == before


def test_the_edit_form_starts_from_the_current_values(world, client_for):
    response = client_for(world.vendor_admin).get(
        reverse("vendor:partner_edit", args=[world.partner.pk])
    )
    form = response.context["form"]
    assert form.initial == {
        "name": "Northwind Resellers",
        "tier": world.tier.pk,
        "country": "DE",
        "region": "EMEA",
        "channel_manager": None,
    }


def test_saving_an_unchanged_partner_writes_no_audit_entry(world, client_for, in_tenant):
    data = {
        "name": "Northwind Resellers",
        "tier": world.tier.pk,
        "country": "DE",
        "region": "EMEA",
        "channel_manager": "",
    }
    response = client_for(world.vendor_admin).post(
        reverse("vendor:partner_edit", args=[world.partner.pk]), data
    )
    assert response.status_code == 302
    assert audit_count(world, in_tenant) == 0


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"tier": "other_tenant_tier"}, "tier", INVALID_CHOICE),
        ({"name": "Contoso Partners"}, "name", "A partner with this name already exists."),
        ({"name": "y" * 201}, "name", "Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_a_bad_edit_changes_nothing(world, client_for, in_tenant, overrides, field, error):
    if overrides.get("tier") == "other_tenant_tier":
        overrides = {"tier": PartnerTierFactory(tenant=world.other_tenant).pk}
    before = partner_state(world, in_tenant, world.partner.pk)
    response = client_for(world.vendor_admin).post(
        reverse("vendor:partner_edit", args=[world.partner.pk]), partner_form(world, **overrides)
    )
    assert response.context["form"].errors[field] == [error]
    assert partner_state(world, in_tenant, world.partner.pk) == before
    assert audit_count(world, in_tenant) == 0


def test_another_tenants_partner_cannot_be_edited(world, client_for, in_tenant):
    response = client_for(world.vendor_admin).post(
        reverse("vendor:partner_edit", args=[world.other_tenant_partner.pk]),
        partner_form(world, name="Hijacked"),
    )
    assert response.status_code == 404
    with in_tenant(world.other_tenant):
        assert PartnerOrganization.objects.get(pk=world.other_tenant_partner.pk).name == "Initech"


# --- Partner status ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("vendor_admin", 302),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_only_a_vendor_admin_suspends_a_partner(world, client_for, in_tenant, actor, expected):
    response = client_for(member(world, actor)).post(
        reverse("vendor:partner_status", args=[world.partner.pk]), {"action": "suspend"}
    )
    assert response.status_code == expected
    status = partner_state(world, in_tenant, world.partner.pk)[4]
    assert status == ("suspended" if actor == "vendor_admin" else "active")
    assert audit_count(world, in_tenant) == (1 if actor == "vendor_admin" else 0)


def test_suspend_then_reactivate(world, client_for, in_tenant):
    client = client_for(world.vendor_admin)
    url = reverse("vendor:partner_status", args=[world.partner.pk])
    first = client.post(url, {"action": "suspend"})
    assert first.url == reverse("vendor:partner_detail", args=[world.partner.pk])
    assert messages_of(first) == ["Partner “Northwind Resellers” is now suspended."]
    client.get(first.url)  # the message is shown and consumed
    second = client.post(url, {"action": "reactivate"})
    assert messages_of(second) == ["Partner “Northwind Resellers” is now active."]
    assert partner_state(world, in_tenant, world.partner.pk)[4] == "active"


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("reactivate", "The partner is already active."),
        ("delete", "Action: Select a valid choice. delete is not one of the available choices."),
        ("", "Action: This field is required."),
    ],
)
def test_an_impossible_status_change_is_a_message_and_changes_nothing(
    world, client_for, in_tenant, action, message
):
    response = client_for(world.vendor_admin).post(
        reverse("vendor:partner_status", args=[world.partner.pk]), {"action": action}
    )
    assert response.status_code == 302
    assert messages_of(response) == [message]
    assert partner_state(world, in_tenant, world.partner.pk)[4] == "active"
    assert audit_count(world, in_tenant) == 0


# --- Tiers -------------------------------------------------------------------------------------


def test_the_tier_list_shows_tiers_best_first_with_partner_counts(world, client_for):
    PartnerTierFactory(tenant=world.tenant, name="Platinum", rank=9)
    PartnerTierFactory(tenant=world.other_tenant, name="Elsewhere", rank=5)
    response = client_for(world.channel_manager).get(reverse("vendor:tier_list"))
    assert [(t.name, t.rank, t.partner_count) for t in response.context["tiers"]] == [
        ("Platinum", 9, 0),
        ("Gold", 3, 2),
    ]
    assert reverse("vendor:tier_create") not in response.content.decode()


def test_the_tier_list_query_count_does_not_grow(world, client_for, django_assert_num_queries):
    def add_rows():
        for _ in range(5):
            tier = PartnerTierFactory(tenant=world.tenant)
            PartnerOrganizationFactory(tenant=world.tenant, tier=tier)

    assert_constant_queries(
        client_for(world.vendor_admin),
        reverse("vendor:tier_list"),
        add_rows,
        django_assert_num_queries,
    )


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("vendor_admin", 302),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 302),
    ],
)
def test_only_vendor_admins_create_tiers_in_their_own_tenant(
    world, client_for, in_tenant, actor, expected
):
    response = client_for(member(world, actor)).post(
        reverse("vendor:tier_create"), {"name": " Platinum ", "rank": "9"}
    )
    assert response.status_code == expected
    with in_tenant(world.tenant):
        here = list(PartnerTier.objects.values_list("name", "rank"))
    with in_tenant(world.other_tenant):
        there = list(PartnerTier.objects.values_list("name", "rank"))
    assert ("Platinum", 9) in here if actor == "vendor_admin" else ("Platinum", 9) not in here
    assert (("Platinum", 9) in there) is (actor == "other_tenant_admin")
    if actor == "vendor_admin":
        assert messages_of(response) == ["Tier “Platinum” created."]


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"name": "Platinum", "rank": "abc"}, "rank", "Enter a whole number."),
        (
            {"name": "Platinum", "rank": "-1"},
            "rank",
            "Ensure this value is greater than or equal to 0.",
        ),
        (
            {"name": "Platinum", "rank": "40000"},
            "rank",
            "Ensure this value is less than or equal to 32767.",
        ),
        (
            {"name": "t" * 101, "rank": "1"},
            "name",
            "Ensure this value has at most 100 characters (it has 101).",
        ),
        ({"name": "GOLD", "rank": "1"}, "name", "A tier with this name already exists."),
    ],
)
def test_bad_tier_input_is_a_form_error(world, client_for, in_tenant, data, field, error):
    response = client_for(world.vendor_admin).post(reverse("vendor:tier_create"), data)
    assert response.context["form"].errors[field] == [error]
    with in_tenant(world.tenant):
        assert list(PartnerTier.objects.values_list("name", flat=True)) == ["Gold"]


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("vendor_admin", 302),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_only_a_vendor_admin_of_the_tenant_edits_a_tier(
    world, client_for, in_tenant, actor, expected
):
    response = client_for(member(world, actor)).post(
        reverse("vendor:tier_edit", args=[world.tier.pk]), {"name": "Gold Plus", "rank": "4"}
    )
    assert response.status_code == expected
    with in_tenant(world.tenant):
        tier = PartnerTier.objects.get(pk=world.tier.pk)
    expected_values = ("Gold Plus", 4) if actor == "vendor_admin" else ("Gold", 3)
    assert (tier.name, tier.rank) == expected_values


# --- People ------------------------------------------------------------------------------------


def test_people_lists_both_sides_of_the_tenant_only(world, client_for):
    response = client_for(world.channel_manager).get(reverse("vendor:people"))
    emails = sorted(m.user.email for m in response.context["people"])
    assert emails == sorted(
        [
            "admin@acme.test",
            "cm@acme.test",
            "padmin@northwind.test",
            "rep@northwind.test",
            "padmin@contoso.test",
            "rep@contoso.test",
        ]
    )
    assert reverse("vendor:membership_active", args=[world.partner_rep.pk]) not in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"partner": "partner"}, ["padmin@northwind.test", "rep@northwind.test"]),
        ({"role": "partner_rep"}, ["rep@contoso.test", "rep@northwind.test"]),
        ({"role": "vendor_admin"}, ["admin@acme.test"]),
        ({"active": "no"}, ["rep@northwind.test"]),
        ({"active": "yes", "partner": "partner"}, ["padmin@northwind.test"]),
    ],
)
def test_people_filters(world, client_for, in_tenant, query, expected):
    with in_tenant(world.tenant):
        Membership.objects.filter(pk=world.partner_rep.pk).update(is_active=False)
    if "partner" in query:
        query = {**query, "partner": world.partner.pk}
    response = client_for(world.vendor_admin).get(reverse("vendor:people"), query)
    assert sorted(m.user.email for m in response.context["people"]) == expected


def test_a_forged_partner_filter_shows_an_error_and_nobody(world, client_for):
    response = client_for(world.vendor_admin).get(
        reverse("vendor:people"), {"partner": world.other_tenant_partner.pk}
    )
    assert list(response.context["people"]) == []
    assert response.context["filter"].errors["partner"] == [INVALID_CHOICE]
    assert "padmin@initech.test" not in response.content.decode()


def test_the_people_query_count_does_not_grow(world, client_for, django_assert_num_queries):
    def add_rows():
        for n in range(6):
            partner = PartnerOrganizationFactory(tenant=world.tenant, tier=world.tier)
            MembershipFactory(tenant=world.tenant, role=Role.PARTNER_ADMIN, partner=partner)
            MembershipFactory(tenant=world.tenant, role=Role.CHANNEL_MANAGER, is_active=n % 2 == 0)

    assert_constant_queries(
        client_for(world.vendor_admin),
        reverse("vendor:people"),
        add_rows,
        django_assert_num_queries,
    )


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("vendor_admin", 302),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_only_a_vendor_admin_deactivates_people(world, client_for, in_tenant, actor, expected):
    response = client_for(member(world, actor)).post(
        reverse("vendor:membership_active", args=[world.partner_rep.pk]), {"action": "deactivate"}
    )
    assert response.status_code == expected
    with in_tenant(world.tenant):
        active = Membership.objects.get(pk=world.partner_rep.pk).is_active
    assert active is (actor != "vendor_admin")
    if actor == "vendor_admin":
        assert response.url == reverse("vendor:people")
        assert messages_of(response) == [f"{world.partner_rep.user.full_name} is now inactive."]


def test_a_vendor_admin_reactivates_someone(world, client_for, in_tenant):
    with in_tenant(world.tenant):
        Membership.objects.filter(pk=world.channel_manager.pk).update(is_active=False)
    client_for(world.vendor_admin).post(
        reverse("vendor:membership_active", args=[world.channel_manager.pk]), {"action": "activate"}
    )
    with in_tenant(world.tenant):
        assert Membership.objects.get(pk=world.channel_manager.pk).is_active is True


def test_a_vendor_admin_cannot_deactivate_themselves(world, client_for, in_tenant):
    response = client_for(world.vendor_admin).post(
        reverse("vendor:membership_active", args=[world.vendor_admin.pk]), {"action": "deactivate"}
    )
    assert response.status_code == 403
    assert "You cannot deactivate yourself." in response.content.decode()
    with in_tenant(world.tenant):
        assert Membership.objects.get(pk=world.vendor_admin.pk).is_active is True
    assert audit_count(world, in_tenant) == 0


def test_another_tenants_member_cannot_be_deactivated(world, client_for, in_tenant):
    response = client_for(world.vendor_admin).post(
        reverse("vendor:membership_active", args=[world.other_tenant_partner_admin.pk]),
        {"action": "deactivate"},
    )
    assert response.status_code == 404
    with in_tenant(world.other_tenant):
        assert Membership.objects.get(pk=world.other_tenant_partner_admin.pk).is_active is True


def test_a_bad_membership_action_changes_nothing(world, client_for, in_tenant):
    response = client_for(world.vendor_admin).post(
        reverse("vendor:membership_active", args=[world.partner_rep.pk]), {"action": "delete"}
    )
    assert messages_of(response) == [
        "Action: Select a valid choice. delete is not one of the available choices."
    ]
    with in_tenant(world.tenant):
        assert Membership.objects.get(pk=world.partner_rep.pk).is_active is True


# --- Invitations -------------------------------------------------------------------------------


def test_the_invitation_list_shows_this_tenants_invitations_with_status(world, client_for):
    now = timezone.now()
    InvitationFactory(tenant=world.tenant, email="pending@acme.test")
    InvitationFactory(tenant=world.tenant, email="gone@acme.test", revoked_at=now)
    InvitationFactory(tenant=world.other_tenant, email="elsewhere@globex.test")
    client = client_for(world.vendor_admin)
    response = client.get(reverse("vendor:invitation_list"))
    assert [(i.email, i.status) for i in response.context["invitations"]] == [
        ("gone@acme.test", "revoked"),
        ("pending@acme.test", "pending"),
    ]
    pending = client.get(reverse("vendor:invitation_list"), {"status": "pending"})
    assert [i.email for i in pending.context["invitations"]] == ["pending@acme.test"]


def test_the_invitation_list_query_count_does_not_grow(
    world, client_for, django_assert_num_queries
):
    def add_rows():
        for _ in range(5):
            InvitationFactory(
                tenant=world.tenant,
                role=Role.PARTNER_REP,
                partner=world.partner,
                invited_by=world.vendor_admin.user,
            )

    InvitationFactory(tenant=world.tenant, invited_by=world.vendor_admin.user)
    assert_constant_queries(
        client_for(world.vendor_admin),
        reverse("vendor:invitation_list"),
        add_rows,
        django_assert_num_queries,
    )


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("vendor_admin", 302),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 200),
    ],
)
def test_only_a_vendor_admin_invites(
    world, client_for, in_tenant, sent_tasks, django_capture_on_commit_callbacks, actor, expected
):
    data = {
        "email": "New.Person@Northwind.test",
        "role": "partner_rep",
        "partner": world.partner.pk,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(member(world, actor)).post(reverse("vendor:invitation_create"), data)
    assert response.status_code == expected
    with in_tenant(world.tenant):
        invitations = list(Invitation.objects.values_list("email", "role", "partner_id"))
    if actor == "vendor_admin":
        assert invitations == [("new.person@northwind.test", "partner_rep", world.partner.pk)]
        with in_tenant(world.tenant):
            pk = Invitation.objects.get().pk
        assert sent_tasks == [("partners.tasks.invitation_send", (world.tenant.pk, pk))]
        assert messages_of(response) == ["Invitation sent to new.person@northwind.test."]
    else:
        assert invitations == []
        assert sent_tasks == []
    if actor == "other_tenant_admin":
        assert response.context["form"].errors == {"partner": [INVALID_CHOICE]}


def test_a_vendor_admin_invites_on_the_vendor_side(world, client_for, in_tenant):
    client_for(world.vendor_admin).post(
        reverse("vendor:invitation_create"), {"email": "cm2@acme.test", "role": "channel_manager"}
    )
    with in_tenant(world.tenant):
        assert list(Invitation.objects.values_list("email", "role", "partner_id")) == [
            ("cm2@acme.test", "channel_manager", None)
        ]


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        (
            {"email": "not-an-email", "role": "channel_manager"},
            "email",
            "Enter a valid email address.",
        ),
        (
            {"email": "x@acme.test", "role": "partner_rep"},
            "partner",
            "Choose the partner organization for a partner role.",
        ),
        (
            {"email": "x@acme.test", "role": "channel_manager", "partner": "partner"},
            "partner",
            "Vendor roles belong to no partner organization.",
        ),
        (
            {"email": "x@acme.test", "role": "partner_rep", "partner": "other_tenant_partner"},
            "partner",
            INVALID_CHOICE,
        ),
        (
            {"email": "x@acme.test", "role": "partner_rep", "partner": "suspended"},
            "partner",
            INVALID_CHOICE,
        ),
        (
            {"email": "x@acme.test", "role": "partner_rep", "partner": "abc"},
            "partner",
            INVALID_CHOICE,
        ),
        (
            {"email": "x@acme.test", "role": "owner"},
            "role",
            "Select a valid choice. owner is not one of the available choices.",
        ),
        ({"email": "REP@northwind.test", "role": "channel_manager"}, "email", "Already a member."),
        (
            {"email": "pending@acme.test", "role": "channel_manager"},
            "email",
            "An invitation is already pending.",
        ),
    ],
)
def test_a_bad_invitation_is_a_form_error_and_nothing_is_sent(
    world, client_for, in_tenant, sent_tasks, django_capture_on_commit_callbacks, data, field, error
):
    InvitationFactory(tenant=world.tenant, email="pending@acme.test")
    suspended = PartnerOrganizationFactory(tenant=world.tenant, tier=world.tier, status="suspended")
    partners = {
        "partner": world.partner.pk,
        "other_tenant_partner": world.other_tenant_partner.pk,
        "suspended": suspended.pk,
        "abc": "abc",
    }
    if "partner" in data:
        data = {**data, "partner": partners[data["partner"]]}
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.vendor_admin).post(reverse("vendor:invitation_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    with in_tenant(world.tenant):
        assert list(Invitation.objects.values_list("email", flat=True)) == ["pending@acme.test"]
    assert sent_tasks == []


@pytest.fixture
def pending(world: World):
    return InvitationFactory(
        tenant=world.tenant,
        email="pending@acme.test",
        role=Role.PARTNER_REP,
        partner=world.partner,
        nonce="a" * 32,
    )


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("vendor_admin", 302),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_only_a_vendor_admin_resends_an_invitation(
    world,
    client_for,
    in_tenant,
    pending,
    sent_tasks,
    django_capture_on_commit_callbacks,
    actor,
    expected,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(member(world, actor)).post(
            reverse("vendor:invitation_resend", args=[pending.pk])
        )
    assert response.status_code == expected
    with in_tenant(world.tenant):
        nonce = Invitation.objects.get(pk=pending.pk).nonce
    if actor == "vendor_admin":
        assert nonce != "a" * 32
        assert sent_tasks == [("partners.tasks.invitation_send", (world.tenant.pk, pending.pk))]
        assert messages_of(response) == ["Invitation to pending@acme.test sent again."]
    else:
        assert nonce == "a" * 32
        assert sent_tasks == []


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("vendor_admin", 302),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("other_partner_admin", 403),
        ("other_tenant_admin", 404),
    ],
)
def test_only_a_vendor_admin_revokes_an_invitation(
    world, client_for, in_tenant, pending, actor, expected
):
    response = client_for(member(world, actor)).post(
        reverse("vendor:invitation_revoke", args=[pending.pk])
    )
    assert response.status_code == expected
    with in_tenant(world.tenant):
        status = Invitation.objects.get(pk=pending.pk).status
    assert status == ("revoked" if actor == "vendor_admin" else "pending")


def test_revoking_twice_says_so_and_changes_nothing(world, client_for, in_tenant, pending):
    client = client_for(world.vendor_admin)
    client.post(reverse("vendor:invitation_revoke", args=[pending.pk]), follow=True)
    response = client.post(reverse("vendor:invitation_revoke", args=[pending.pk]))
    assert messages_of(response) == ["The invitation is already revoked."]
    with in_tenant(world.tenant):
        assert AuditEntry.objects.filter(verb="invitation_revoked").count() == 1


def test_another_tenants_invitation_is_a_404(world, client_for, in_tenant):
    theirs = InvitationFactory(tenant=world.other_tenant, email="x@globex.test")
    client = client_for(world.vendor_admin)
    for name in ("vendor:invitation_resend", "vendor:invitation_revoke"):
        assert client.post(reverse(name, args=[theirs.pk])).status_code == 404
    with in_tenant(world.other_tenant):
        assert Invitation.objects.get(pk=theirs.pk).status == "pending"


def test_people_filter_by_partner_name_and_the_partner_link(world, client_for):
    client = client_for(world.vendor_admin)
    by_name = client.get(reverse("vendor:people"), {"partner_name": "northwind"})
    assert sorted(m.user.email for m in by_name.context["people"]) == [
        "padmin@northwind.test",
        "rep@northwind.test",
    ]
    detail = client.get(reverse("vendor:partner_detail", args=[world.partner.pk]))
    link = f"{reverse('vendor:people')}?partner={world.partner.pk}"
    assert link in detail.content.decode()
    linked = client.get(link)
    assert sorted(m.user.email for m in linked.context["people"]) == [
        "padmin@northwind.test",
        "rep@northwind.test",
    ]


def test_the_people_page_does_not_list_every_partner_as_an_option(world, client_for):
    for n in range(30):
        PartnerOrganizationFactory(tenant=world.tenant, tier=world.tier, name=f"Many {n}")
    page = client_for(world.vendor_admin).get(reverse("vendor:people")).content.decode()
    assert "Many 29" not in page

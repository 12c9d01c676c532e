"""Partner portal pages: home, people, invitations — always the acting person's own
organization. Partner admins manage it; partner reps read a list of active colleagues."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, Membership, Notification, Role
from accounts.tenancy import tenant_context
from partners.models import Invitation, PartnerOrganization
from tests.accounts.factories import MembershipFactory
from tests.conftest import ALL_ACTORS, World
from tests.pages import member, messages_of
from tests.partners.factories import InvitationFactory

ACTORS = ("anonymous", *ALL_ACTORS)
INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."
# Who may manage people and invitations in the partner portal; the rest are refused.
MANAGE = [
    ("anonymous", 302),
    ("vendor_admin", 403),
    ("channel_manager", 403),
    ("partner_admin", 302),
    ("partner_rep", 403),
    ("other_partner_admin", 404),
    ("other_tenant_admin", 403),
]


def is_active(world: World, membership: Membership) -> bool:
    with tenant_context(membership.tenant_id):
        return Membership.objects.get(pk=membership.pk).is_active


# --- Home ------------------------------------------------------------------------------------


@pytest.fixture
def organization(world: World, in_tenant) -> World:
    """Northwind with a channel manager, a pending invitation and notifications."""
    with in_tenant(world.tenant):
        PartnerOrganization.objects.filter(pk=world.partner.pk).update(
            channel_manager=world.channel_manager.user, region="APAC"
        )
        Notification.objects.create(
            tenant=world.tenant,
            recipient=world.partner_rep.user,
            verb="test",
            message="Your deal was approved",
            email=False,
        )
        Notification.objects.create(
            tenant=world.tenant,
            recipient=world.other_partner_rep.user,
            verb="test",
            message="Contoso news",
            email=False,
        )
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
    return world


@pytest.mark.parametrize("actor", ["partner_admin", "partner_rep"])
def test_partner_home_shows_the_own_organization(organization, client_for, actor):
    world = organization
    html = client_for(world.member(actor)).get(reverse("partner:home")).content.decode()
    for text in (
        "Northwind Resellers",
        "Gold",
        "Asia Pacific",
        "Germany",
        "Active",
        world.channel_manager.user.full_name,
        "cm@acme.test",
        world.partner_admin.user.full_name,
        world.partner_rep.user.full_name,
    ):
        assert text in html
    for text in ("Contoso", world.other_partner_admin.user.full_name, "next@contoso.test"):
        assert text not in html


@pytest.mark.parametrize(
    ("actor", "sees_invitations"), [("partner_admin", True), ("partner_rep", False)]
)
def test_pending_invitations_are_on_the_admins_home_only(
    organization, client_for, actor, sees_invitations
):
    html = client_for(organization.member(actor)).get(reverse("partner:home")).content.decode()
    assert ("next@northwind.test" in html) is sees_invitations
    assert (reverse("partner:invitation_create") in html) is sees_invitations


def test_partner_home_shows_my_notifications_only(organization, client_for):
    html = client_for(organization.partner_rep).get(reverse("partner:home")).content.decode()
    assert "Your deal was approved" in html
    assert "Contoso news" not in html
    admin_html = client_for(organization.partner_admin).get(reverse("partner:home"))
    assert "Your deal was approved" not in admin_html.content.decode()


# --- People ------------------------------------------------------------------------------------


def test_a_partner_admin_sees_the_whole_organization_with_buttons(world, client_for, in_tenant):
    with in_tenant(world.tenant):
        Membership.objects.filter(pk=world.partner_rep.pk).update(is_active=False)
    response = client_for(world.partner_admin).get(reverse("partner:people"))
    assert [(m.user.email, m.is_active) for m in response.context["people"]] == [
        ("padmin@northwind.test", True),
        ("rep@northwind.test", False),
    ]
    html = response.content.decode()
    assert reverse("partner:membership_active", args=[world.partner_rep.pk]) in html
    assert reverse("partner:membership_active", args=[world.partner_admin.pk]) not in html


def test_a_partner_rep_reads_active_colleagues_only(world, client_for):
    inactive = MembershipFactory(
        tenant=world.tenant,
        role=Role.PARTNER_REP,
        partner=world.partner,
        is_active=False,
        user__email="left@northwind.test",
    )
    response = client_for(world.partner_rep).get(reverse("partner:people"))
    emails = [m.user.email for m in response.context["people"]]
    colleagues = sorted(
        [world.partner_admin.user, world.partner_rep.user],
        key=lambda user: (user.full_name, user.email),
    )
    assert emails == [user.email for user in colleagues]
    html = response.content.decode()
    assert inactive.user.email not in html
    assert "<form" not in html.split("<main", 1)[1].split("</main>", 1)[0]


def test_people_never_shows_another_partner(world, client_for):
    html = client_for(world.partner_admin).get(reverse("partner:people")).content.decode()
    assert "contoso.test" not in html
    assert "acme.test" not in html


def test_the_people_query_count_does_not_grow(world, client_for, django_assert_num_queries):
    client = client_for(world.partner_admin)
    url = reverse("partner:people")
    client.get(url)
    with CaptureQueriesContext(connection) as baseline:
        client.get(url)
    for n in range(6):
        MembershipFactory(
            tenant=world.tenant, role=Role.PARTNER_REP, partner=world.partner, is_active=n % 2 == 0
        )
    with django_assert_num_queries(len(baseline)):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(("actor", "expected"), MANAGE)
def test_only_the_partner_admin_deactivates_a_colleague(world, client_for, actor, expected):
    response = client_for(member(world, actor)).post(
        reverse("partner:membership_active", args=[world.partner_rep.pk]), {"action": "deactivate"}
    )
    assert response.status_code == expected
    assert is_active(world, world.partner_rep) is (actor != "partner_admin")
    if actor == "partner_admin":
        assert response.url == reverse("partner:people")
        assert messages_of(response) == [f"{world.partner_rep.user.full_name} is now inactive."]


@pytest.mark.parametrize(
    "target", ["other_partner_rep", "channel_manager", "vendor_admin", "other_tenant_partner_admin"]
)
def test_a_partner_admin_cannot_reach_people_outside_the_organization(world, client_for, target):
    response = client_for(world.partner_admin).post(
        reverse("partner:membership_active", args=[world.member(target).pk]),
        {"action": "deactivate"},
    )
    assert response.status_code == 404
    assert is_active(world, world.member(target)) is True


def test_a_partner_admin_reactivates_a_colleague(world, client_for, in_tenant):
    with in_tenant(world.tenant):
        Membership.objects.filter(pk=world.partner_rep.pk).update(is_active=False)
    client_for(world.partner_admin).post(
        reverse("partner:membership_active", args=[world.partner_rep.pk]), {"action": "activate"}
    )
    assert is_active(world, world.partner_rep) is True


def test_a_partner_admin_cannot_deactivate_themselves(world, client_for, in_tenant):
    response = client_for(world.partner_admin).post(
        reverse("partner:membership_active", args=[world.partner_admin.pk]),
        {"action": "deactivate"},
    )
    assert response.status_code == 403
    assert is_active(world, world.partner_admin) is True
    with in_tenant(world.tenant):
        assert AuditEntry.objects.count() == 0


# --- Invitations -------------------------------------------------------------------------------


def test_the_invitation_list_shows_the_own_organization_only(world, client_for):
    InvitationFactory(
        tenant=world.tenant, email="a@northwind.test", role=Role.PARTNER_REP, partner=world.partner
    )
    InvitationFactory(
        tenant=world.tenant,
        email="b@northwind.test",
        role=Role.PARTNER_REP,
        partner=world.partner,
        revoked_at=timezone.now(),
    )
    InvitationFactory(
        tenant=world.tenant,
        email="c@contoso.test",
        role=Role.PARTNER_REP,
        partner=world.other_partner,
    )
    InvitationFactory(tenant=world.tenant, email="d@acme.test", role=Role.CHANNEL_MANAGER)
    response = client_for(world.partner_admin).get(reverse("partner:invitation_list"))
    assert [(i.email, i.status) for i in response.context["invitations"]] == [
        ("b@northwind.test", "revoked"),
        ("a@northwind.test", "pending"),
    ]


def test_the_invitation_list_query_count_does_not_grow(
    world, client_for, django_assert_num_queries
):
    client = client_for(world.partner_admin)
    url = reverse("partner:invitation_list")
    InvitationFactory(
        tenant=world.tenant,
        role=Role.PARTNER_REP,
        partner=world.partner,
        invited_by=world.partner_admin.user,
    )
    client.get(url)
    with CaptureQueriesContext(connection) as baseline:
        client.get(url)
    for _ in range(5):
        InvitationFactory(
            tenant=world.tenant,
            role=Role.PARTNER_REP,
            partner=world.partner,
            invited_by=world.partner_admin.user,
        )
    with django_assert_num_queries(len(baseline)):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("anonymous", 302),
        ("vendor_admin", 403),
        ("channel_manager", 403),
        ("partner_admin", 302),
        ("partner_rep", 403),
        ("other_partner_admin", 302),
        ("other_tenant_admin", 403),
    ],
)
def test_a_partner_admin_invites_into_the_own_organization_only(
    world, client_for, in_tenant, sent_tasks, django_capture_on_commit_callbacks, actor, expected
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(member(world, actor)).post(
            reverse("partner:invitation_create"),
            {"email": "new@example.test", "role": "partner_rep"},
        )
    assert response.status_code == expected
    with in_tenant(world.tenant):
        invitations = list(Invitation.objects.values_list("email", "role", "partner_id", "pk"))
    if expected == 302 and actor != "anonymous":
        partner = world.member(actor).partner_id  # always the inviter's own organization
        assert [i[:3] for i in invitations] == [("new@example.test", "partner_rep", partner)]
        assert sent_tasks == [
            ("partners.tasks.invitation_send", (world.tenant.pk, invitations[0][3]))
        ]
        assert messages_of(response) == ["Invitation sent to new@example.test."]
    else:
        assert invitations == []
        assert sent_tasks == []


def test_a_partner_admin_may_only_choose_partner_roles(world, client_for):
    response = client_for(world.partner_admin).get(reverse("partner:invitation_create"))
    assert [value for value, _ in response.context["form"].fields["role"].choices] == [
        "partner_admin",
        "partner_rep",
    ]


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"email": "not-an-email", "role": "partner_rep"}, "email", "Enter a valid email address."),
        (
            {"email": "x@example.test", "role": "vendor_admin"},
            "role",
            "Select a valid choice. vendor_admin is not one of the available choices.",
        ),
        (
            {"email": "x@example.test", "role": "channel_manager"},
            "role",
            "Select a valid choice. channel_manager is not one of the available choices.",
        ),
        ({"email": "rep@contoso.test", "role": "partner_rep"}, "email", "Already a member."),
        ({"email": "", "role": "partner_rep"}, "email", "This field is required."),
    ],
)
def test_a_bad_partner_invitation_is_a_form_error_and_nothing_is_sent(
    world, client_for, in_tenant, sent_tasks, django_capture_on_commit_callbacks, data, field, error
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.partner_admin).post(reverse("partner:invitation_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    with in_tenant(world.tenant):
        assert Invitation.objects.count() == 0
    assert sent_tasks == []


def test_a_forged_partner_field_is_ignored(world, client_for, in_tenant):
    # the organization comes from the inviter's membership, never from the form
    client_for(world.partner_admin).post(
        reverse("partner:invitation_create"),
        {"email": "x@example.test", "role": "partner_rep", "partner": world.other_partner.pk},
    )
    with in_tenant(world.tenant):
        assert list(Invitation.objects.values_list("partner_id", flat=True)) == [world.partner.pk]


@pytest.fixture
def pending(world: World) -> Invitation:
    return InvitationFactory(
        tenant=world.tenant,
        email="next@northwind.test",
        role=Role.PARTNER_REP,
        partner=world.partner,
        nonce="b" * 32,
    )


@pytest.mark.parametrize(("actor", "expected"), MANAGE)
def test_only_the_partner_admin_resends(
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
            reverse("partner:invitation_resend", args=[pending.pk])
        )
    assert response.status_code == expected
    with in_tenant(world.tenant):
        nonce = Invitation.objects.get(pk=pending.pk).nonce
    if actor == "partner_admin":
        assert nonce != "b" * 32
        assert sent_tasks == [("partners.tasks.invitation_send", (world.tenant.pk, pending.pk))]
    else:
        assert nonce == "b" * 32
        assert sent_tasks == []


@pytest.mark.parametrize(("actor", "expected"), MANAGE)
def test_only_the_partner_admin_revokes(world, client_for, in_tenant, pending, actor, expected):
    response = client_for(member(world, actor)).post(
        reverse("partner:invitation_revoke", args=[pending.pk])
    )
    assert response.status_code == expected
    with in_tenant(world.tenant):
        status = Invitation.objects.get(pk=pending.pk).status
    assert status == ("revoked" if actor == "partner_admin" else "pending")
    if actor == "partner_admin":
        assert messages_of(response) == ["Invitation to next@northwind.test revoked."]


@pytest.mark.parametrize("owner", ["vendor", "other_tenant"])
def test_invitations_outside_the_organization_are_404(world, client_for, in_tenant, owner):
    if owner == "vendor":
        theirs = InvitationFactory(
            tenant=world.tenant, email="cm@x.test", role=Role.CHANNEL_MANAGER
        )
    else:
        theirs = InvitationFactory(
            tenant=world.other_tenant,
            email="y@initech.test",
            role=Role.PARTNER_REP,
            partner=world.other_tenant_partner,
        )
    client = client_for(world.partner_admin)
    for name in ("partner:invitation_resend", "partner:invitation_revoke"):
        assert client.post(reverse(name, args=[theirs.pk])).status_code == 404
    with in_tenant(theirs.tenant_id):
        assert Invitation.objects.get(pk=theirs.pk).status == "pending"

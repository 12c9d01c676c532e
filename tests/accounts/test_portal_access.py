"""Who may open which portal page: the role matrix of every page of both portals.

Anonymous people go to the login page; partner people get 403 on /vendor/, vendor people
403 on /partner/; a record of another tenant is a 404 like one that does not exist.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEntry, Membership, Role
from accounts.tenancy import tenant_context
from partners.models import PartnerOrganization
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.conftest import ALL_ACTORS, World
from tests.partners.factories import InvitationFactory

OK, LOGIN, FORBIDDEN, MISSING = 200, 302, 403, 404

# Expected status per actor: (vendor_admin, channel_manager, partner_admin, partner_rep,
# other_partner_admin, other_tenant_admin). The other tenant's admin opens their own
# tenant's pages; on a record of this tenant they get 404.
VENDOR_READ = (OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
VENDOR_ADMIN_ONLY = (OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
VENDOR_RECORD_READ = (OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, MISSING)
VENDOR_RECORD_ADMIN = (OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, MISSING)
PARTNER_READ = (FORBIDDEN, FORBIDDEN, OK, OK, OK, FORBIDDEN)
PARTNER_ADMIN_ONLY = (FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, OK, FORBIDDEN)

PAGES = [
    ("vendor:home", None, VENDOR_READ),
    ("vendor:partner_list", None, VENDOR_READ),
    ("vendor:partner_create", None, VENDOR_ADMIN_ONLY),
    ("vendor:partner_detail", "partner", VENDOR_RECORD_READ),
    ("vendor:partner_edit", "partner", VENDOR_RECORD_ADMIN),
    ("vendor:tier_list", None, VENDOR_READ),
    ("vendor:tier_create", None, VENDOR_ADMIN_ONLY),
    ("vendor:tier_edit", "tier", VENDOR_RECORD_ADMIN),
    ("vendor:people", None, VENDOR_READ),
    ("vendor:invitation_list", None, VENDOR_ADMIN_ONLY),
    ("vendor:invitation_create", None, VENDOR_ADMIN_ONLY),
    ("vendor:audit_log", None, VENDOR_ADMIN_ONLY),
    ("partner:home", None, PARTNER_READ),
    ("partner:people", None, PARTNER_READ),
    ("partner:invitation_list", None, PARTNER_ADMIN_ONLY),
    ("partner:invitation_create", None, PARTNER_ADMIN_ONLY),
]

POST_ONLY = [
    ("vendor:partner_status", "partner"),
    ("vendor:membership_active", "partner_rep"),
    ("vendor:invitation_resend", "invitation"),
    ("vendor:invitation_revoke", "invitation"),
    ("partner:membership_active", "partner_rep"),
    ("partner:invitation_resend", "invitation"),
    ("partner:invitation_revoke", "invitation"),
]


def url_for(world: World, name: str, record: str | None) -> str:
    if record is None:
        return reverse(name)
    if record == "invitation":
        invitation = InvitationFactory(
            tenant=world.tenant,
            role=Role.PARTNER_REP,
            partner=world.partner,
            email="new@northwind.test",
        )
        return reverse(name, args=[invitation.pk])
    return reverse(name, args=[world.member(record).pk])


def matrix(pages: list) -> list:
    return [
        pytest.param(name, record, actor, expected, id=f"{name}-{actor}")
        for name, record, statuses in pages
        for actor, expected in zip(ALL_ACTORS, statuses, strict=True)
    ]


@pytest.mark.parametrize(("name", "record", "actor", "expected"), matrix(PAGES))
def test_every_page_answers_each_role(world, client_for, name, record, actor, expected):
    # given a person of some role, when they open the page
    response = client_for(world.member(actor)).get(url_for(world, name, record))
    # then they see it, are refused, or the record is not found
    assert response.status_code == expected
    if expected == FORBIDDEN:
        assert "Not allowed" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "record", "statuses"), PAGES + [(n, r, None) for n, r in POST_ONLY]
)
def test_anonymous_people_are_sent_to_the_login_page(world, name, record, statuses):
    url = url_for(world, name, record)
    method = Client().get if statuses is not None else Client().post
    response = method(url)
    assert response.status_code == LOGIN
    assert response.url == f"{reverse('login')}?next={url}"


def test_anonymous_posts_change_nothing(world, in_tenant):
    Client().post(reverse("vendor:partner_status", args=[world.partner.pk]), {"action": "suspend"})
    Client().post(
        reverse("vendor:membership_active", args=[world.partner_rep.pk]), {"action": "deactivate"}
    )
    with in_tenant(world.tenant):
        assert PartnerOrganization.objects.get(pk=world.partner.pk).status == "active"
        assert Membership.objects.get(pk=world.partner_rep.pk).is_active is True


@pytest.mark.parametrize(("name", "record"), POST_ONLY)
def test_action_endpoints_refuse_get(world, client_for, name, record):
    admin = world.vendor_admin if name.startswith("vendor") else world.partner_admin
    response = client_for(admin).get(url_for(world, name, record))
    assert response.status_code == 405


@pytest.mark.parametrize("portal", ["vendor:home", "partner:home"])
def test_a_person_without_an_active_membership_is_refused(world, client_for, in_tenant, portal):
    # given someone whose only membership was deactivated
    with in_tenant(world.tenant):
        Membership.objects.filter(pk=world.partner_rep.pk).update(is_active=False)
    # when they open a portal, then they are refused
    assert client_for(world.partner_rep).get(reverse(portal)).status_code == FORBIDDEN


def test_people_of_a_suspended_partner_lose_the_partner_portal(world, client_for, in_tenant):
    with in_tenant(world.tenant):
        partner = PartnerOrganization.objects.get(pk=world.partner.pk)
        partner.suspend()
        partner.save()
    assert client_for(world.partner_admin).get(reverse("partner:home")).status_code == FORBIDDEN
    assert client_for(world.other_partner_admin).get(reverse("partner:home")).status_code == OK


def test_a_person_of_two_tenants_sees_the_portal_of_the_active_one(world, client_for):
    # given the other tenant's partner admin is also a channel manager here
    user = world.other_tenant_partner_admin.user
    here = MembershipFactory(tenant=world.tenant, user=user, role=Role.CHANNEL_MANAGER)
    there = world.other_tenant_partner_admin
    # then the active tenant decides the portal
    assert client_for(here).get(reverse("vendor:home")).status_code == OK
    assert client_for(here).get(reverse("partner:home")).status_code == FORBIDDEN
    assert client_for(there).get(reverse("partner:home")).status_code == OK
    assert client_for(there).get(reverse("vendor:home")).status_code == FORBIDDEN


@pytest.mark.parametrize(
    ("actor", "shown", "hidden"),
    [
        (
            "vendor_admin",
            ["Home", "Pipeline", "Partners", "Tiers", "People", "Invitations", "Stages"],
            ["Opportunities", "Board"],
        ),
        (
            "channel_manager",
            ["Home", "Pipeline", "Partners", "Tiers", "People"],
            ["Invitations", "Stages", "Audit log"],
        ),
        (
            "partner_admin",
            ["Home", "Opportunities", "Board", "People", "Invitations"],
            ["Partners", "Pipeline", "Stages", "Audit log"],
        ),
        (
            "partner_rep",
            ["Home", "Opportunities", "Board", "People"],
            ["Invitations", "Partners", "Pipeline"],
        ),
    ],
)
def test_navigation_shows_only_what_the_role_may_open(world, client_for, actor, shown, hidden):
    home = "partner:home" if actor.startswith("partner") else "vendor:home"
    html = client_for(world.member(actor)).get(reverse(home)).content.decode()
    nav = html.split('<nav class="sidenav"', 1)[1].split("</nav>", 1)[0]
    for label in shown:
        assert f">{label}</a>" in nav
    for label in hidden:
        assert f">{label}</a>" not in nav


@pytest.mark.parametrize(
    ("actor", "name", "label"),
    [
        ("vendor_admin", "vendor:partner_list", "Partners"),
        ("channel_manager", "vendor:people", "People"),
        ("partner_admin", "partner:invitation_list", "Invitations"),
    ],
)
def test_the_current_page_is_marked_in_the_navigation(world, client_for, actor, name, label):
    html = client_for(world.member(actor)).get(reverse(name)).content.decode()
    assert f'<a href="{reverse(name)}" aria-current="page">{label}</a>' in html
    assert html.count('aria-current="page"') == 1


def test_a_user_with_no_membership_at_all_is_refused(db):
    user = UserFactory(email="loner@example.com")
    client = Client()
    client.force_login(user)
    assert client.get(reverse("vendor:home")).status_code == FORBIDDEN
    assert client.get(reverse("partner:home")).status_code == FORBIDDEN


def test_reading_pages_writes_nothing(world, client_for):
    # a GET never audits: the audit log stays empty
    for name, record, statuses in PAGES:
        if statuses[0] == OK:
            client_for(world.vendor_admin).get(url_for(world, name, record))
    with tenant_context(world.tenant):
        assert AuditEntry.objects.count() == 0

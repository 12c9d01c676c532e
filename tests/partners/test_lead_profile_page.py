"""The partner portal's lead profile page: partner admins change their organization's
territories and product lines, reps read them, vendor people get the 403 page; bad codes
are form errors and change nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tenancy import tenant_context
from deals.models import ProductLine
from partners.models import PartnerOrganization
from tests.pages import messages_of

URL = "/partner/lead-profile/"


@pytest.fixture
def lines(world):
    with tenant_context(world.tenant):
        ProductLine.objects.create(tenant=world.tenant, code="cloud", name="Cloud Suite")
    return world


def profile(world) -> tuple:
    with tenant_context(world.tenant):
        partner = PartnerOrganization.objects.get(pk=world.partner.pk)
        return partner.territories, partner.specializations


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("partner_admin", 200),
        ("partner_rep", 200),
        ("vendor_admin", 403),
        ("channel_manager", 403),
        ("other_tenant_partner_admin", 200),
    ],
)
def test_page_role_matrix(lines, client_for, actor, status):
    response = client_for(lines.member(actor)).get(URL)

    assert response.status_code == status


def test_a_partner_admin_saves_the_profile(lines, client_for):
    response = client_for(lines.partner_admin).post(
        URL, {"territories": "us, EMEA", "specializations": ["cloud"]}
    )

    assert response.status_code == 302
    assert messages_of(response) == ["Lead profile saved."]
    assert profile(lines) == (["US", "EMEA"], ["cloud"])
    assert reverse("partner:lead_profile") == URL


@pytest.mark.parametrize(
    "form",
    [
        {"territories": "US, Atlantis"},
        {"territories": "<b>US</b>"},
        {"territories": "US", "specializations": ["nope"]},
    ],
)
def test_bad_codes_change_nothing(lines, client_for, form):
    response = client_for(lines.partner_admin).post(URL, form)

    assert response.status_code == 200
    assert profile(lines) == ([], [])


def test_a_rep_cannot_save(lines, client_for):
    response = client_for(lines.partner_rep).post(URL, {"territories": "US"})

    assert response.status_code == 403
    assert profile(lines) == ([], [])


def test_the_other_partner_edits_only_its_own(lines, client_for):
    client_for(lines.other_partner_admin).post(URL, {"territories": "FR"})

    assert profile(lines) == ([], [])
    with tenant_context(lines.tenant):
        assert PartnerOrganization.objects.get(pk=lines.other_partner.pk).territories == ["FR"]

"""The operator's admin: a superuser supports one tenant at a time, read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditEntry, User
from tests.conftest import World


@pytest.fixture
def operator(db: None) -> Client:
    user = User.objects.create_superuser("ops@prm.test", "ops-password-123")
    client = Client()
    client.force_login(user)
    return client


def support(client: Client, world: World):
    return client.post(
        "/admin/accounts/tenant/",
        {"action": "support_tenant", "_selected_action": [world.tenant.pk]},
        follow=True,
    )


def test_without_a_supported_tenant_no_tenant_rows_are_visible(world: World, operator):
    page = operator.get("/admin/partners/partnerorganization/").content.decode()
    assert "Northwind Resellers" not in page
    assert "Initech" not in page


def test_supporting_a_tenant_shows_its_records_only_and_is_audited(world, operator, in_tenant):
    assert "Supporting Acme Software" in support(operator, world).content.decode()
    page = operator.get("/admin/partners/partnerorganization/").content.decode()
    assert "Northwind Resellers" in page
    assert "Contoso Partners" in page
    assert "Initech" not in page  # another tenant's partner
    with in_tenant(world.tenant):
        assert AuditEntry.objects.filter(verb="support_session_started").count() == 1


def test_support_views_are_read_only(world, operator):
    support(operator, world)
    response = operator.get(f"/admin/partners/partnerorganization/{world.partner.pk}/change/")
    assert response.status_code == 200
    assert 'type="submit" value="Save"' not in response.content.decode()
    assert operator.get("/admin/partners/partnerorganization/add/").status_code == 403


def test_people_without_staff_rights_cannot_open_the_admin(world, client_for):
    response = client_for(world.vendor_admin).get("/admin/partners/partnerorganization/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]

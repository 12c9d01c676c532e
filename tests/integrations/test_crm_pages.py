"""The CRM sync pages: vendor admins only; another tenant's conflict, error or connection
is a 404; credentials are never shown back; a conflict is resolved from its page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tenancy import tenant_context
from integrations.models import CrmConnection, CrmUserMapping, SyncConflict, SyncError
from pipeline.models import Opportunity
from tests.conftest import World
from tests.integrations.crm_fixtures import connect
from tests.pages import assert_login_redirect, member, messages_of
from tests.pipeline.factories import OpportunityFactory

pytestmark = pytest.mark.django_db
STATUS = reverse("vendor:crm_status")
CONFLICTS = reverse("vendor:crm_conflicts")
SETTINGS = reverse("vendor:crm_settings", args=["salesforce"])


def rows_for(world: World, tenant, connection: CrmConnection) -> tuple[SyncConflict, SyncError]:
    deal = OpportunityFactory(tenant=tenant, name="Fleet <b>renewal</b>", amount=Decimal(100))
    with tenant_context(tenant):
        conflict = SyncConflict.objects.create(
            tenant=tenant, connection=connection, opportunity=deal, field="amount",
            kind="both_changed", ours="100.00", theirs="120.00", base="90.00",
        )  # fmt: skip
        error = SyncError.objects.create(
            tenant=tenant, connection=connection, opportunity=deal, direction="push",
            message="More than one Salesforce record has this id.", crm_id="006X",
        )  # fmt: skip
    return conflict, error


@pytest.fixture
def ours(world: World, salesforce):
    connection = connect(world, salesforce)
    return connection, *rows_for(world, world.tenant, connection)


@pytest.fixture
def theirs(world: World, salesforce):
    other = World(**{**world.__dict__, "tenant": world.other_tenant})
    other.vendor_admin = world.other_tenant_admin
    connection = connect(other, salesforce)
    return connection, *rows_for(world, world.other_tenant, connection)


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("anonymous", 302),
        ("channel_manager", 403),
        ("partner_admin", 403),
        ("partner_rep", 403),
        ("vendor_admin", 200),
    ],
)
def test_only_vendor_admins_open_the_pages(world: World, client_for, ours, actor, status):
    client = client_for(member(world, actor))

    for url in (STATUS, CONFLICTS, SETTINGS):
        response = client.get(url)
        if actor == "anonymous":
            assert_login_redirect(response, url)
        else:
            assert response.status_code == status, url


def test_the_status_page_leads_with_errors_and_shows_lag(world: World, client_for, ours, theirs):
    page = client_for(world.vendor_admin).get(STATUS).content.decode()

    assert page.index("Errors to look at") < page.index("Connections")
    assert "More than one Salesforce record has this id." in page
    assert f'data-testid="crm-error-{ours[2].pk}"' in page
    assert f'data-testid="crm-error-{theirs[2].pk}"' not in page
    assert "Fleet &lt;b&gt;renewal&lt;/b&gt;" in page


def test_the_settings_page_never_shows_credentials(world: World, client_for, ours, salesforce):
    page = client_for(world.vendor_admin).get(SETTINGS).content.decode()

    assert "refresh_token" in page  # its name, as stored
    for secret in ("refresh-1", "secret", salesforce.url):
        assert f'value="{secret}"' not in page
    with tenant_context(world.tenant):
        stored = CrmConnection.objects.get(system="salesforce").credentials
    assert "refresh-1" not in stored


def test_saving_settings_keeps_blank_credentials(world: World, client_for, ours):
    page = client_for(world.vendor_admin)
    form = page.get(SETTINGS).context["form"]
    data = {name: field.initial or "" for name, field in form.fields.items()}
    data.update({"is_active": "on", "crm_amount": "Amount__c", "owner_amount": "crm"})

    response = page.post(SETTINGS, data)

    assert response.status_code == 302, response.context["form"].errors
    with tenant_context(world.tenant):
        connection = CrmConnection.objects.get(system="salesforce")
    assert {"prm": "amount", "crm": "Amount__c", "owner": "crm"} in connection.field_mapping
    from integrations.crm.credentials import credentials_decrypt

    assert credentials_decrypt(connection.credentials)["refresh_token"] == "refresh-1"


@pytest.mark.parametrize(
    ("field", "value"),
    [("crm_amount", "Amount; DROP"), ("owner_amount", "nobody"), ("external_id_field", "a b")],
)
def test_bad_settings_are_refused_and_change_nothing(world: World, client_for, ours, field, value):
    page = client_for(world.vendor_admin)
    form = page.get(SETTINGS).context["form"]
    data = {name: f.initial or "" for name, f in form.fields.items()}
    data.update({"is_active": "on", field: value})
    with tenant_context(world.tenant):
        before = CrmConnection.objects.values().get(system="salesforce")

    response = page.post(SETTINGS, data)

    assert response.status_code == 200
    with tenant_context(world.tenant):
        assert CrmConnection.objects.values().get(system="salesforce") == before


def test_another_tenants_rows_are_a_404_and_unchanged(world: World, client_for, ours, theirs):
    client = client_for(world.vendor_admin)
    connection, conflict, error = theirs

    answers = [
        client.post(
            reverse("vendor:crm_conflict_resolve", args=[conflict.pk]),
            {"resolution": "keep_ours"},
        ),
        client.post(reverse("vendor:crm_error_retry", args=[error.pk])),
        client.post(reverse("vendor:crm_sync_now", args=[connection.pk])),
    ]

    assert [a.status_code for a in answers] == [404, 404, 404]
    with tenant_context(world.other_tenant):
        assert SyncConflict.objects.get(pk=conflict.pk).status == "open"
        assert SyncError.objects.get(pk=error.pk).retried_at is None
    assert f'data-testid="crm-conflict-{conflict.pk}"' not in client.get(CONFLICTS).content.decode()


def test_take_theirs_from_the_page(world: World, client_for, ours):
    _, conflict, _ = ours

    response = client_for(world.vendor_admin).post(
        reverse("vendor:crm_conflict_resolve", args=[conflict.pk]), {"resolution": "take_theirs"}
    )

    assert response.status_code == 302
    assert messages_of(response) == ["Conflict resolved."]
    with tenant_context(world.tenant):
        assert SyncConflict.objects.get(pk=conflict.pk).resolution == "take_theirs"
        assert Opportunity.objects.get(pk=conflict.opportunity_id).amount == Decimal("120.00")


def test_an_edit_without_a_value_changes_nothing(world: World, client_for, ours):
    _, conflict, _ = ours

    response = client_for(world.vendor_admin).post(
        reverse("vendor:crm_conflict_resolve", args=[conflict.pk]),
        {"resolution": "edit", "value": ""},
    )

    assert messages_of(response) == ["Enter the value to keep."]
    with tenant_context(world.tenant):
        assert SyncConflict.objects.get(pk=conflict.pk).status == "open"


@pytest.mark.parametrize("actor", ["channel_manager", "partner_admin"])
def test_others_cannot_resolve(world: World, client_for, ours, actor):
    _, conflict, _ = ours

    response = client_for(world.member(actor)).post(
        reverse("vendor:crm_conflict_resolve", args=[conflict.pk]), {"resolution": "keep_ours"}
    )

    assert response.status_code == 403
    with tenant_context(world.tenant):
        assert SyncConflict.objects.get(pk=conflict.pk).status == "open"


def test_retry_queues_the_push_again(
    world: World, client_for, ours, django_capture_on_commit_callbacks
):
    _, _, error = ours

    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(world.vendor_admin).post(
            reverse("vendor:crm_error_retry", args=[error.pk])
        )

    assert response.status_code == 302
    assert len(callbacks) == 1
    with tenant_context(world.tenant):
        assert SyncError.objects.get(pk=error.pk).retried_at is not None


def crm_person(tenant, connection, crm_user_id="005X") -> CrmUserMapping:
    with tenant_context(tenant):
        return CrmUserMapping.objects.create(
            tenant=tenant, connection=connection, crm_user_id=crm_user_id,
            name="Nadia Owner", email="nadia@crm.example",
        )  # fmt: skip


def test_an_admin_maps_a_crm_user_on_the_settings_page(world: World, client_for, ours):
    connection = ours[0]
    person = crm_person(world.tenant, connection)
    page = client_for(world.vendor_admin)
    settings_page = page.get(SETTINGS).content.decode()
    assert f'data-testid="crm-user-{person.pk}"' in settings_page
    assert "Nadia Owner" in settings_page
    url = reverse("vendor:crm_user_map", args=[person.pk])

    response = page.post(url, {"membership": world.channel_manager.pk})

    assert response.status_code == 302
    with tenant_context(world.tenant):
        person.refresh_from_db()
    assert (person.membership_id, person.set_by_admin) == (world.channel_manager.pk, True)
    status_page = page.get(STATUS).content.decode()
    assert "CRM users without a member" in status_page


@pytest.mark.parametrize("who", ["other_tenant_admin", "partner_rep"])
def test_another_tenants_or_a_partners_member_is_refused(world: World, client_for, ours, who):
    person = crm_person(world.tenant, ours[0])
    page = client_for(world.vendor_admin)

    response = page.post(
        reverse("vendor:crm_user_map", args=[person.pk]),
        {"membership": getattr(world, who).pk},
        follow=True,
    )

    assert "Choose an active member of your own team." in messages_of(response)
    with tenant_context(world.tenant):
        assert CrmUserMapping.objects.get(pk=person.pk).membership_id is None


def test_another_tenants_crm_user_is_a_404(world: World, client_for, ours, theirs):
    person = crm_person(world.other_tenant, theirs[0])

    response = client_for(world.vendor_admin).post(
        reverse("vendor:crm_user_map", args=[person.pk]),
        {"membership": world.vendor_admin.pk},
    )

    assert response.status_code == 404
    with tenant_context(world.other_tenant):
        assert CrmUserMapping.objects.get(pk=person.pk).membership_id is None


def test_only_vendor_admins_map_crm_users(world: World, client_for, ours):
    person = crm_person(world.tenant, ours[0])

    answers = [
        client_for(getattr(world, who))
        .post(
            reverse("vendor:crm_user_map", args=[person.pk]),
            {"membership": world.channel_manager.pk},
        )
        .status_code
        for who in ("channel_manager", "partner_admin")
    ]

    assert answers == [403, 403]

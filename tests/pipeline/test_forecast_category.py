"""The forecast category: vendor admins set each stage's (settings page and stages API,
audited); a deal's owner (and the vendor's people) override it on an open deal, on the
deal page or by PATCHing `forecast_category` (null or the stage's own clears it; closed
is refused). Refusals change nothing; another partner's or tenant's deal is a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditEntry
from accounts.tenancy import tenant_context
from pipeline.models import FieldChange, Opportunity
from tests.api_clients import api_as
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory


@pytest.fixture
def deal(world: World, stages) -> Opportunity:
    return OpportunityFactory(
        tenant=world.tenant, partner=world.partner, owner=world.partner_rep.user, name="Rep"
    )


def override_of(world: World, deal: Opportunity) -> str:
    with tenant_context(world.tenant):
        return Opportunity.objects.get(pk=deal.pk).forecast_category_override


def api_url(deal: Opportunity) -> str:
    return f"/api/v1/opportunities/{deal.pk}/"


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("partner_rep", 200),  # the owner
        ("channel_manager", 200),
        ("vendor_admin", 200),
        ("partner_admin", 403),  # sees the deal, does not own it
        ("other_partner_admin", 404),
        ("other_tenant_admin", 404),
    ],
)
def test_patch_forecast_category_role_matrix(world: World, deal, actor, status):
    response = api_as(world, actor).patch(
        api_url(deal), {"forecast_category": "commit"}, format="json"
    )

    assert response.status_code == status
    assert override_of(world, deal) == ("commit" if status == 200 else "")
    if status == 200:
        assert response.json()["forecast_category"] == "commit"
        assert response.json()["forecast_category_overridden"] is True


@pytest.mark.parametrize("cleared", [None, "pipeline"])
def test_patch_null_or_the_stages_category_clears_the_override(world: World, deal, cleared):
    client = api_as(world, "partner_rep")
    client.patch(api_url(deal), {"forecast_category": "best_case"}, format="json")

    response = client.patch(api_url(deal), {"forecast_category": cleared}, format="json")

    assert response.status_code == 200
    assert response.json()["forecast_category"] == "pipeline"
    assert response.json()["forecast_category_overridden"] is False
    assert override_of(world, deal) == ""


@pytest.mark.parametrize(("value", "status"), [("closed", 400), ("maybe", 400), (3, 400)])
def test_patch_bad_categories_change_nothing(world: World, deal, value, status):
    response = api_as(world, "partner_rep").patch(
        api_url(deal), {"forecast_category": value, "name": "Renamed"}, format="json"
    )

    assert response.status_code == status
    assert "forecast_category" in response.json()["error"]["fields"]
    with tenant_context(world.tenant):
        assert Opportunity.objects.get(pk=deal.pk).name == "Rep"
        assert not FieldChange.objects.filter(opportunity=deal).exists()


def test_the_owner_sets_the_category_on_the_deal_page(world: World, deal, client_for):
    client = client_for(world.partner_rep)
    page = client.get(reverse("partner:opportunity_detail", args=[deal.pk]))
    assert 'data-testid="forecast-category"' in page.content.decode()
    assert page.context["category_form"] is not None

    response = client.post(
        reverse("partner:opportunity_category", args=[deal.pk]), {"category": "omitted"}
    )

    assert response.status_code == 302
    assert override_of(world, deal) == "omitted"


def test_a_partner_admin_who_does_not_own_the_deal_gets_no_form(world: World, deal, client_for):
    client = client_for(world.partner_admin)
    page = client.get(reverse("partner:opportunity_detail", args=[deal.pk]))
    assert page.context["category_form"] is None

    client.post(reverse("partner:opportunity_category", args=[deal.pk]), {"category": "commit"})

    assert override_of(world, deal) == ""


def test_another_partners_deal_page_category_is_a_404(world: World, deal, client_for):
    response = client_for(world.other_partner_admin).post(
        reverse("partner:opportunity_category", args=[deal.pk]), {"category": "commit"}
    )
    assert response.status_code == 404
    assert override_of(world, deal) == ""


@pytest.mark.parametrize(
    ("actor", "status", "category"),
    [("vendor_admin", 200, "best_case"), ("channel_manager", 403, "pipeline")],
)
def test_stage_category_over_the_api(world: World, stages, actor, status, category):
    response = api_as(world, actor).patch(
        f"/api/v1/stages/{stages[0].pk}/", {"forecast_category": "best_case"}, format="json"
    )

    assert response.status_code == status
    with tenant_context(world.tenant):
        stages[0].refresh_from_db()
    assert stages[0].forecast_category == category


@pytest.mark.parametrize(("index", "category"), [(0, "closed"), (5, "commit"), (6, "pipeline")])
def test_refused_stage_categories(world: World, stages, index, category):
    response = api_as(world, "vendor_admin").patch(
        f"/api/v1/stages/{stages[index].pk}/", {"forecast_category": category}, format="json"
    )

    assert response.status_code == 400
    assert "forecast_category" in response.json()["error"]["fields"]


def test_stage_settings_page_changes_the_category_audited(world: World, stages, client_for):
    stage = stages[1]
    form = {"name": stage.name, "probability": stage.probability, "forecast_category": "commit"}
    form |= {"entry_criteria": stage.entry_criteria, "stale_after_days": stage.stale_after_days}

    response = client_for(world.vendor_admin).post(
        reverse("vendor:stage_edit", args=[stage.pk]), form | {"guidance": stage.guidance}
    )

    assert response.status_code == 302
    with tenant_context(world.tenant):
        stage.refresh_from_db()
        entry = AuditEntry.objects.get(verb="stage_updated")
    assert stage.forecast_category == "commit"
    assert entry.after == {"forecast_category": "commit"}

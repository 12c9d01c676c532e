"""The Forecast, Targets and Forecast quality pages (vendor) and the partner's Forecast."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tenancy import tenant_context
from analytics.models import ForecastAdjustment, ForecastTarget
from tests.analytics.conftest import generate
from tests.pages import assert_login_redirect, member

pytestmark = pytest.mark.django_db
VENDOR_PAGES = ("/vendor/forecast/", "/vendor/forecast/targets/", "/vendor/forecast/quality/")


@pytest.mark.parametrize("url", VENDOR_PAGES)
@pytest.mark.parametrize(
    ("actor", "code"),
    [("vendor_admin", 200), ("channel_manager", 200), ("partner_admin", 403), ("partner_rep", 403)],
)
def test_vendor_pages_role_matrix(world, client_for, url, actor, code):
    assert client_for(member(world, actor)).get(url).status_code == code


@pytest.mark.parametrize("url", [*VENDOR_PAGES, "/partner/forecast/"])
def test_anonymous_goes_to_login(world, client, url):
    assert_login_redirect(client.get(url), url)


def test_forecast_page_shows_rows_formulas_chart_and_csv(world, client_for):
    generate(world, count=40)
    client = client_for(world.channel_manager)
    page = client.get("/vendor/forecast/", {"period": "2027-Q1", "group_by": "tier"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Silver" in html
    assert "Gold" in html
    assert "Open pipeline ÷ (target − closed won)" in html
    assert 'data-chart="forecast-categories-data"' in html
    csv = client.get(
        "/vendor/forecast/", {"period": "2027-Q1", "group_by": "tier", "format": "csv"}
    )
    lines = b"".join(csv.streaming_content).decode().splitlines()
    assert lines[0].startswith("key,label,closed_won,commit")
    assert len(lines) >= 4


def test_forecast_page_shows_the_largest_rows_and_all_on_request(world, client_for, monkeypatch):
    """A tenant with thousands of partners: the table shows the largest rows first, the
    total and CSV count every row, and "Show all" renders them all."""
    from analytics.views import vendor

    generate(world, count=40)
    monkeypatch.setattr(vendor, "ROWS_SHOWN", 1)
    client = client_for(world.vendor_admin)
    query = {"period": "2027-Q1", "group_by": "partner"}
    capped = client.get("/vendor/forecast/", query).content.decode()
    every = client.get("/vendor/forecast/", query | {"rows": "all"}).content.decode()
    rows = every.count('data-testid="forecast-row"')
    assert rows >= 2
    assert capped.count('data-testid="forecast-row"') == 1
    assert f"The 1 largest of {rows} rows" in capped
    assert "rows=all" in capped
    assert 'data-testid="forecast-more"' not in every
    total = every.split('data-testid="forecast-total"')[1].split("</tr>")[0]
    assert total in capped


@pytest.mark.parametrize("query", [{"period": "garbage"}, {"group_by": "nonsense"}])
def test_forecast_page_bad_query_is_a_form_error(world, client_for, query):
    page = client_for(world.channel_manager).get("/vendor/forecast/", query)
    assert page.status_code == 400
    assert b"forecast-table" not in page.content


def test_other_tenant_sees_nothing_of_this_tenant(world, client_for):
    generate(world, count=30)
    html = client_for(world.other_tenant_admin).get("/vendor/forecast/?period=2027-Q1").content
    assert b"Northwind" not in html
    assert b"Fabrikam" not in html


def test_forecast_page_query_count_is_constant(world, client_for, django_assert_num_queries):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    generate(world, count=10, seed=2)
    client = client_for(world.vendor_admin)
    client.get("/vendor/forecast/?period=2027-Q1")
    cache.clear()
    with CaptureQueriesContext(connection) as baseline:
        client.get("/vendor/forecast/?period=2027-Q1")
    from tests.analytics.test_forecast_rollup import generate_more

    generate_more(world)
    cache.clear()
    with django_assert_num_queries(len(baseline)):
        assert client.get("/vendor/forecast/?period=2027-Q1").status_code == 200


def test_adjustment_form_with_html_is_refused(world, client_for):
    client = client_for(world.channel_manager)
    data = {
        "period": "2027-Q1",
        "scope": "partner",
        "partner": world.partner.pk,
        "amount": "100",
        "note": "<img src=x onerror=alert(1)>",
    }
    page = client.post("/vendor/forecast/adjustments/", data)
    assert page.status_code == 400
    assert b"without HTML tags" in page.content
    with tenant_context(world.tenant):
        assert ForecastAdjustment.objects.count() == 0
    data["note"] = "Slips to Q2"
    assert client.post("/vendor/forecast/adjustments/", data).status_code == 302
    with tenant_context(world.tenant):
        assert ForecastAdjustment.objects.get().created_by == world.channel_manager.user


def upload(client, text):
    file = SimpleUploadedFile("targets.csv", text.encode(), content_type="text/csv")
    return client.post("/vendor/forecast/targets/", {"action": "import", "file": file})


def target_count(world) -> int:
    with tenant_context(world.tenant):
        return ForecastTarget.objects.count()


def test_target_import_with_a_wrong_row_stores_nothing_and_previews_errors(world, client_for):
    client = client_for(world.vendor_admin)
    text = (
        "period,scope,name,amount\n"
        "2027-Q1,tenant,,900000\n"
        f"2027-Q1,partner,{world.partner.name},250000\n"
        f"2027-Q1,partner,{world.other_tenant_partner.name},1000\n"
        "2027-Q9,tier,Gold,-5\n"
    )
    page = upload(client, text)
    html = page.content.decode()
    assert page.status_code == 400
    assert "nothing was stored" in html
    assert "No partner is called “Initech”" in html
    assert target_count(world) == 0
    ok = upload(client, "\n".join(text.splitlines()[:3]) + "\n")
    assert ok.status_code == 302
    assert target_count(world) == 2


@pytest.mark.parametrize("amount", ["-100", "99999999999999999", "abc"])
def test_target_form_refuses_bad_amounts(world, client_for, amount):
    data = {"period": "2027-Q1", "scope": "tenant", "amount": amount}
    page = client_for(world.vendor_admin).post("/vendor/forecast/targets/", data)
    assert page.status_code == 400
    assert target_count(world) == 0


def test_channel_manager_cannot_set_targets(world, client_for):
    data = {"period": "2027-Q1", "scope": "tenant", "amount": "100"}
    assert (
        client_for(world.channel_manager).post("/vendor/forecast/targets/", data).status_code == 403
    )
    assert target_count(world) == 0


def test_partner_admin_sees_own_forecast_beside_the_median_only(world, client_for):
    generated = generate(world, count=60)
    page = client_for(world.partner_admin).get("/partner/forecast/?period=2027-Q1")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Median partner" in html
    assert world.partner.name in html
    for other in generated.partners[1:]:
        assert other.name not in html


def test_partner_rep_sees_their_own_deals(world, client_for):
    page = client_for(world.partner_rep).get("/partner/forecast/")
    assert page.status_code == 200
    assert b"Your deals" in page.content
    assert b"Median partner" not in page.content


def test_vendors_cannot_open_the_partner_page(world, client_for):
    assert client_for(world.channel_manager).get("/partner/forecast/").status_code == 403


def test_quality_page_shows_brier_and_reliability(world, client_for):
    generate(world, count=30)
    html = client_for(world.channel_manager).get("/vendor/forecast/quality/").content.decode()
    assert "Brier, calibrated probability" in html
    assert 'data-chart="reliability-data"' in html
    assert "Prior strength" in html


def test_vendor_admin_sets_the_fiscal_year_and_quarters_follow(world, client_for):
    from accounts.models import AuditEntry, Tenant
    from pipeline.services.stages import stages_install_defaults

    with tenant_context(world.tenant):
        stages_install_defaults(tenant=world.tenant)
    client = client_for(world.vendor_admin)
    assert client.get("/vendor/settings/stages/").status_code == 200
    response = client.post("/vendor/settings/fiscal-year/", {"fiscal_year_start_month": "2"})
    assert response.status_code == 302
    assert Tenant.objects.get(pk=world.tenant.pk).fiscal_year_start_month == 2
    with tenant_context(world.tenant):
        assert AuditEntry.objects.filter(verb="fiscal_year_changed").count() == 1
    page = client.get("/vendor/forecast/", {"period": "2027-Q1"}).content.decode()
    assert "2026-02-01 to 2026-04-30" in page
    client.post("/vendor/settings/fiscal-year/", {"fiscal_year_start_month": "13"})
    assert Tenant.objects.get(pk=world.tenant.pk).fiscal_year_start_month == 2


def test_channel_manager_cannot_change_the_fiscal_year(world, client_for):
    from accounts.models import Tenant

    client = client_for(world.channel_manager)
    response = client.post("/vendor/settings/fiscal-year/", {"fiscal_year_start_month": "4"})
    assert response.status_code == 403
    assert Tenant.objects.get(pk=world.tenant.pk).fiscal_year_start_month == 1


def test_the_adjustment_page_offers_the_tenants_partners_only(world, client_for):
    page = client_for(world.channel_manager).get("/vendor/forecast/adjustments/?period=2027-Q1")
    html = page.content.decode()
    assert page.status_code == 200
    assert world.partner.name in html
    assert world.other_tenant_partner.name not in html
    assert 'value="2027-Q1"' in html

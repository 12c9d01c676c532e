"""URL map: auth and account pages, the two portals, the API and the operator admin.

Each app contributes `vendor_patterns`, `partner_patterns` and `api_patterns` (and
accounts its top-level pages); the portals are assembled here.
"""

from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import urls as accounts_urls
from analytics import urls as analytics_urls
from commissions import urls as commissions_urls
from deals import urls as deals_urls
from integrations import urls as integrations_urls
from leads import urls as leads_urls
from partners import urls as partners_urls
from pipeline import urls as pipeline_urls
from prm.health import healthz

handler500 = "prm.errors.server_error"

PORTAL_APPS = (
    accounts_urls,
    partners_urls,
    pipeline_urls,
    deals_urls,
    commissions_urls,
    leads_urls,
    analytics_urls,
    integrations_urls,
)


def collect(name: str) -> list:
    return [pattern for app in PORTAL_APPS for pattern in getattr(app, name, [])]


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico whatever the page links; send them to the SVG."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("", include(collect("patterns"))),
    path("vendor/", include((collect("vendor_patterns"), "vendor"))),
    path("partner/", include((collect("partner_patterns"), "partner"))),
    path("api/v1/", include((collect("api_patterns"), "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api_docs.html"),
        name="api-docs",
    ),
]

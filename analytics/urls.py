"""Routes of the analytics app, declared beside their views and collected here."""

from analytics.apis import changes as changes_apis
from analytics.apis import cosell_impact as cosell_impact_apis
from analytics.apis import forecast as forecast_apis
from analytics.apis import metrics as metrics_apis
from analytics.views import changes as changes_views
from analytics.views import cosell_impact as cosell_impact_views
from analytics.views import metrics as metrics_views
from analytics.views import partner, vendor

vendor_patterns: list = [  # forecast, targets, forecast quality, changes, metrics, impact
    *vendor.urlpatterns,
    *changes_views.vendor_patterns,
    *metrics_views.vendor_urlpatterns,
    *cosell_impact_views.vendor_urlpatterns,
]
partner_patterns: list = [  # the partner's forecast, changes and metrics
    *partner.urlpatterns,
    *changes_views.partner_patterns,
    *metrics_views.partner_urlpatterns,
]
api_patterns: list = [  # /api/v1/: forecast, targets, adjustments, pipeline-changes, metrics,
    # cosell-impact
    *forecast_apis.urlpatterns,
    *changes_apis.urlpatterns,
    *metrics_apis.urlpatterns,
    *cosell_impact_apis.urlpatterns,
]

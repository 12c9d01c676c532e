"""Routes of the analytics app, declared beside their views and collected here."""

from analytics.apis import changes as changes_apis
from analytics.apis import forecast as forecast_apis
from analytics.views import changes as changes_views
from analytics.views import partner, vendor

vendor_patterns: list = [  # forecast, targets, forecast quality, changes
    *vendor.urlpatterns,
    *changes_views.vendor_patterns,
]
partner_patterns: list = [  # the partner's forecast and changes
    *partner.urlpatterns,
    *changes_views.partner_patterns,
]
api_patterns: list = [  # /api/v1/: forecast, targets, forecast-adjustments, pipeline-changes
    *forecast_apis.urlpatterns,
    *changes_apis.urlpatterns,
]

"""Routes of the analytics app, declared beside their views and collected here."""

from analytics.apis import changes as changes_apis
from analytics.views import changes as changes_views

vendor_patterns: list = [  # forecast, changes, metrics, forecast quality
    *changes_views.vendor_patterns,
]
partner_patterns: list = [  # the partner's forecast and metrics
    *changes_views.partner_patterns,
]
api_patterns: list = [  # /api/v1/: forecast, pipeline-changes, metrics, targets
    *changes_apis.urlpatterns,
]

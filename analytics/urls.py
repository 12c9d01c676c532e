"""Routes of the analytics app, declared beside their views and collected here."""

from analytics.apis import metrics as metrics_apis
from analytics.views import metrics as metrics_views

# forecast, changes, metrics, forecast quality
vendor_patterns: list = [*metrics_views.vendor_urlpatterns]
partner_patterns: list = [*metrics_views.partner_urlpatterns]  # the partner's forecast and metrics
# /api/v1/: forecast, pipeline-changes, metrics, targets
api_patterns: list = [*metrics_apis.urlpatterns]

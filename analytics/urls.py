"""Routes of the analytics app, declared beside their views and collected here."""

from analytics import apis
from analytics.views import partner, vendor

vendor_patterns = vendor.urlpatterns  # forecast, targets, forecast quality
partner_patterns = partner.urlpatterns  # the partner's forecast
api_patterns = apis.urlpatterns  # /api/v1/: forecast, targets, forecast-adjustments

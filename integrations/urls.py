"""Routes of integrations, declared beside their views and collected here."""

from integrations import apis
from integrations.views import vendor

vendor_patterns = vendor.urlpatterns  # /vendor/settings/webhooks/
partner_patterns: list = []
api_patterns = apis.urlpatterns  # /api/v1/: webhook endpoints and deliveries

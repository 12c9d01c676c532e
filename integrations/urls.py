"""Routes of integrations, declared beside their views and collected here."""

from integrations import apis
from integrations.views import crm, vendor

vendor_patterns = vendor.urlpatterns + crm.urlpatterns  # /vendor/settings/webhooks/, crm/
partner_patterns: list = []
api_patterns = apis.urlpatterns  # /api/v1/: webhook endpoints and deliveries

"""Routes of the deals app, declared beside their views and collected here."""

from deals import apis
from deals.views import partner, settings, vendor

vendor_patterns = vendor.urlpatterns + settings.urlpatterns  # review queue, decisions; settings
partner_patterns = partner.urlpatterns  # register, my registrations, extensions
api_patterns = apis.urlpatterns  # /api/v1/: registrations, product lines

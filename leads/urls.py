"""Routes of the leads app, declared beside their views and collected here."""

from leads import apis
from leads.views import partner, settings, vendor

vendor_patterns = vendor.urlpatterns + settings.urlpatterns  # leads, lead page; routing rules
partner_patterns = partner.urlpatterns  # lead inbox: accept / decline
api_patterns = apis.urlpatterns  # /api/v1/leads/

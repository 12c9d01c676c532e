"""Routes of the leads app, declared beside their views and collected here."""

from leads import apis
from leads.views import partner, vendor

vendor_patterns = vendor.urlpatterns  # leads list, new lead, lead page with its routing
partner_patterns = partner.urlpatterns  # lead inbox: accept / decline
api_patterns = apis.urlpatterns  # /api/v1/leads/

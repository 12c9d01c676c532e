"""Routes of the leads app, declared beside their views and collected here."""

from leads import api_imports, apis
from leads.views import imports, partner, settings, vendor

vendor_patterns = (
    vendor.urlpatterns + imports.urlpatterns + settings.urlpatterns
)  # leads, lead page; routing rules
partner_patterns = partner.urlpatterns  # lead inbox: accept / decline
api_patterns = api_imports.urlpatterns + apis.urlpatterns  # /api/v1/leads/

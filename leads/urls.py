"""Routes of the leads app, declared beside their views and collected here."""

from leads import api_imports, apis, report_apis
from leads.views import imports, partner, reports, settings, vendor

# leads, lead page; imports; routing rules; reports
vendor_patterns = (
    vendor.urlpatterns + imports.urlpatterns + settings.urlpatterns + reports.urlpatterns
)
partner_patterns = partner.urlpatterns  # lead inbox: accept / decline
api_patterns = (
    report_apis.urlpatterns + api_imports.urlpatterns + apis.urlpatterns
)  # /api/v1/leads/

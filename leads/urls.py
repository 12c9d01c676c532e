"""Routes of the leads app, declared beside their views and collected here."""

from leads import apis, report_apis
from leads.views import partner, reports, settings, vendor

# leads, lead page; routing rules; reports
vendor_patterns = vendor.urlpatterns + settings.urlpatterns + reports.urlpatterns
partner_patterns = partner.urlpatterns  # lead inbox: accept / decline
api_patterns = report_apis.urlpatterns + apis.urlpatterns  # /api/v1/leads/

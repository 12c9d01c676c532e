"""Routes of the commissions app, declared beside their views and collected here."""

from commissions import apis
from commissions.views import partner, vendor

vendor_patterns = vendor.urlpatterns  # ledger, approvals, payouts, plan versions
partner_patterns = partner.urlpatterns  # statements
api_patterns = apis.urlpatterns  # /api/v1/: commissions, statements, payouts

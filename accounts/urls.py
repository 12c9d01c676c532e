"""Routes of the accounts app, declared beside their views and collected here."""

from accounts import apis
from accounts.views import account, vendor

patterns = account.urlpatterns  # top level: login, password reset, profile, notifications
vendor_patterns = vendor.urlpatterns  # /vendor/: audit log
partner_patterns: list = []
api_patterns = apis.urlpatterns  # /api/v1/: me

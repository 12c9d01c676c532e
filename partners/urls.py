"""Routes of the partners app, declared beside their views and collected here."""

from partners import apis
from partners.views import partner, public, vendor

patterns = public.urlpatterns  # top level: invitation acceptance
vendor_patterns = vendor.urlpatterns  # /vendor/: home, partners, tiers, people, invitations
partner_patterns = partner.urlpatterns  # /partner/: home, people, invitations
api_patterns = apis.urlpatterns  # /api/v1/: tiers, partners, invitations

"""Routes of the partners app, declared beside their views and collected here."""

from partners import apis
from partners.views import lead_profile, partner, public, vendor

patterns = public.urlpatterns  # top level: invitation acceptance
vendor_patterns = vendor.urlpatterns  # /vendor/: home, partners, tiers, people, invitations
partner_patterns = partner.urlpatterns + lead_profile.urlpatterns  # home, people, invitations
api_patterns = apis.urlpatterns  # /api/v1/: tiers, partners, invitations

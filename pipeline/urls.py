"""Routes of the pipeline app, declared beside their views and collected here."""

from pipeline import apis
from pipeline.views import partner, settings, vendor

vendor_patterns = vendor.urlpatterns + settings.urlpatterns  # pipeline, deals; stage settings
partner_patterns = partner.urlpatterns  # my opportunities: board, table, detail
api_patterns = apis.urlpatterns  # /api/v1/: stages, opportunities and their actions

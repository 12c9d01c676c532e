"""Routes of the pipeline app, declared beside their views and collected here."""

from pipeline import apis
from pipeline.views import cosell, cosell_settings, partner, settings, vendor

vendor_patterns = (  # pipeline, deals; stage settings; co-sell queue and workload
    vendor.urlpatterns + settings.urlpatterns + cosell.urlpatterns + cosell_settings.urlpatterns
)
partner_patterns = partner.urlpatterns  # my opportunities: board, table, detail
api_patterns = apis.urlpatterns  # /api/v1/: stages, opportunities and their actions

"""Routes of the analytics app, declared beside their views and collected here."""

vendor_patterns: list = []  # forecast, changes, metrics, forecast quality
partner_patterns: list = []  # the partner's forecast and metrics
api_patterns: list = []  # /api/v1/: forecast, pipeline-changes, metrics, targets

"""The "Win probability" panel of a deal's page, in both portals, and the opportunity API's
`calibrated_probability` (registered with the pipeline's hooks in `AnalyticsConfig.ready()`):
the stage's configured probability beside the calibrated one for the deal's partner
(analytics/selectors/calibration.py)."""

from __future__ import annotations

from typing import Any

from accounts.models import Membership
from analytics.selectors.calibration_cache import probability_lookup_for
from pipeline.models import Opportunity
from pipeline.panels import deal_panel
from pipeline.probabilities import register_probability_provider

register_probability_provider(probability_lookup_for)


@deal_panel("analytics/panels/deal_probability.html")
def deal_probability(opportunity: Opportunity, membership: Membership) -> dict[str, Any] | None:
    if opportunity.status != Opportunity.Status.OPEN:
        return None
    lookup = probability_lookup_for(opportunity.tenant_id)
    return {
        "configured": opportunity.stage.probability,
        "calibrated": lookup(opportunity.partner_id, opportunity.stage_id) * 100,
    }

"""The panels analytics adds to a deal's page in both portals, registered with the
pipeline's hooks when the app starts (`AnalyticsConfig.ready()`):

- "Win probability": the stage's configured probability beside the calibrated one for the
  deal's partner (analytics/selectors/calibration.py); the same figure is the opportunity
  API's `calibrated_probability`.
- The inflation-flag badges: an open partner deal shows the reasons it is flagged
  (analytics/selectors/flags.py); otherwise nothing.
"""

from __future__ import annotations

from typing import Any

from accounts.models import Membership
from analytics.selectors.calibration_cache import probability_lookup_for
from analytics.selectors.flags import deal_flag_reasons
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


@deal_panel("analytics/panels/deal_flags.html")
def deal_flags(opportunity: Opportunity, membership: Membership) -> dict[str, Any] | None:
    if opportunity.partner_id is None or opportunity.status != Opportunity.Status.OPEN:
        return None
    reasons = deal_flag_reasons(tenant_id=opportunity.tenant_id, opportunity_id=opportunity.pk)
    return {"reasons": reasons} if reasons else None

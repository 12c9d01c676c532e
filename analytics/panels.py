"""The "Win probability" panel of a deal's page, in both portals (registered with the
pipeline's panel hook in `AnalyticsConfig.ready()`): the stage's configured probability
beside the calibrated one for the deal's partner (analytics/selectors/calibration.py)."""

from __future__ import annotations

from typing import Any

from accounts.models import Membership
from analytics.selectors.calibration_cache import calibration_now
from pipeline.models import Opportunity
from pipeline.panels import deal_panel


@deal_panel("analytics/panels/deal_probability.html")
def deal_probability(opportunity: Opportunity, membership: Membership) -> dict[str, Any] | None:
    if opportunity.status != Opportunity.Status.OPEN:
        return None
    calibration = calibration_now(tenant=membership.tenant)
    stage_id = opportunity.stage_id
    return {
        "configured": opportunity.stage.probability,
        "calibrated": calibration.probability(opportunity.partner_id, stage_id) * 100,
        "prior_strength": calibration.prior_strength(stage_id),
    }

"""The inflation-flag badges of a deal's page in both portals, registered with the
pipeline's panel hook (pipeline.panels) when the app starts: an open partner deal shows
the reasons it is flagged (analytics/selectors/flags.py); otherwise nothing."""

from __future__ import annotations

from typing import Any

from accounts.models import Membership
from analytics.selectors.flags import deal_flag_reasons
from pipeline.models import Opportunity
from pipeline.panels import deal_panel


@deal_panel("analytics/panels/deal_flags.html")
def deal_flags(opportunity: Opportunity, membership: Membership) -> dict[str, Any] | None:
    if opportunity.partner_id is None or opportunity.status != Opportunity.Status.OPEN:
        return None
    reasons = deal_flag_reasons(tenant_id=opportunity.tenant_id, opportunity_id=opportunity.pk)
    return {"reasons": reasons} if reasons else None

"""Portal navigation: each portal's menu, filtered by the acting role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str  # a URL name, namespaced by portal
    roles: frozenset[str] = frozenset()  # empty: every role of the portal

    @property
    def name(self) -> str:
        return self.url.split(":")[-1]


VENDOR_NAV = (
    NavItem("Home", "vendor:home"),
    NavItem("Registrations", "vendor:registration_queue"),
    NavItem("Leads", "vendor:lead_list"),
    NavItem("Lead reports", "vendor:lead_reports"),
    NavItem("Pipeline", "vendor:pipeline"),
    NavItem("Forecast", "vendor:forecast"),
    NavItem("Changes", "vendor:pipeline_changes"),
    NavItem("Co-sell", "vendor:cosell_queue"),
    NavItem("Commissions", "vendor:commission_list"),
    NavItem("Metrics", "vendor:metrics"),
    NavItem("Co-sell impact", "vendor:cosell_impact"),
    NavItem("Partners", "vendor:partner_list"),
    NavItem("Tiers", "vendor:tier_list"),
    NavItem("People", "vendor:people"),
    NavItem("Invitations", "vendor:invitation_list", frozenset({"vendor_admin"})),
    NavItem("Stages", "vendor:stage_list", frozenset({"vendor_admin"})),
    NavItem("Co-sell pool", "vendor:cosell_settings", frozenset({"vendor_admin"})),
    NavItem("Registration rules", "vendor:registration_settings", frozenset({"vendor_admin"})),
    NavItem("Routing rules", "vendor:routing_settings", frozenset({"vendor_admin"})),
    NavItem("Commission plans", "vendor:plan_list", frozenset({"vendor_admin"})),
    NavItem("Webhooks", "vendor:webhook_list", frozenset({"vendor_admin"})),
    NavItem("CRM sync", "vendor:crm_status", frozenset({"vendor_admin"})),
    NavItem("Audit log", "vendor:audit_log", frozenset({"vendor_admin"})),
)

PARTNER_NAV = (
    NavItem("Home", "partner:home"),
    NavItem("Registrations", "partner:registration_list"),
    NavItem("Leads", "partner:lead_inbox"),
    NavItem("Lead profile", "partner:lead_profile"),
    NavItem("Opportunities", "partner:opportunity_list"),
    NavItem("Forecast", "partner:forecast"),
    NavItem("Changes", "partner:pipeline_changes"),
    NavItem("Commissions", "partner:commission_list"),
    NavItem("Statements", "partner:commission_statement", frozenset({"partner_admin"})),
    NavItem("Board", "partner:opportunity_board"),
    NavItem("Metrics", "partner:metrics"),
    NavItem("People", "partner:people"),
    NavItem("Invitations", "partner:invitation_list", frozenset({"partner_admin"})),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    items = PARTNER_NAV if membership.is_partner else VENDOR_NAV
    allowed = [item for item in items if not item.roles or membership.role in item.roles]
    return {"partner_nav" if membership.is_partner else "vendor_nav": allowed}

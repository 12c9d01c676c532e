"""Panels that higher apps add to a deal's page.

Imports only go downward, so the pipeline cannot ask the commissions app what a deal
earns. Instead a higher app registers a panel here when it starts (in its
`AppConfig.ready()`): a template, and a function `(opportunity, membership)` returning
that template's context, or None to show nothing for this deal and person. Both portals'
deal pages render every registered panel, in registration order; the template reads its
data as `panel`.

    @deal_panel("commissions/panels/deal_commission.html")
    def deal_commission(opportunity, membership):
        ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts.models import Membership
from pipeline.models import Opportunity

PanelContext = Callable[[Opportunity, Membership], dict[str, Any] | None]


@dataclass(frozen=True)
class DealPanel:
    template_name: str
    context: PanelContext


@dataclass(frozen=True)
class RenderedPanel:
    """One panel to include on the page: its template and the context it reads as `panel`."""

    template_name: str
    context: dict[str, Any]


_PANELS: list[DealPanel] = []


def register_deal_panel(template_name: str, context: PanelContext) -> PanelContext:
    """Add a panel (once: registering the same function again replaces it)."""
    _PANELS[:] = [panel for panel in _PANELS if panel.context is not context]
    _PANELS.append(DealPanel(template_name, context))
    return context


def deal_panel(template_name: str) -> Callable[[PanelContext], PanelContext]:
    """Decorator form of `register_deal_panel`."""

    def register(context: PanelContext) -> PanelContext:
        return register_deal_panel(template_name, context)

    return register


def deal_panels_for(opportunity: Opportunity, membership: Membership) -> list[RenderedPanel]:
    """The panels to show on this deal's page for this person."""
    rendered = []
    for panel in _PANELS:
        context = panel.context(opportunity, membership)
        if context is not None:
            rendered.append(RenderedPanel(panel.template_name, context))
    return rendered

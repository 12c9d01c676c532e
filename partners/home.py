"""What the portal homes show that higher apps know: figures ("tiles") and sections.

Imports only go downward, so the partners app, which serves both homes, cannot ask the
deals, pipeline or commissions apps what needs doing. Each of them registers here when it
starts (in its `AppConfig.ready()`), as they register deal panels with the pipeline:

    @home_tiles("vendor", order=10)
    def registrations_waiting(membership):          # -> list[HomeTile]
        ...

    @home_section("partner", "deals/home/partner_open_deals.html", order=10)
    def open_deals(membership):                      # -> dict (the template's `section`) or None
        ...

A contribution runs a fixed number of queries, whatever the number of rows, so a home
costs the same for a tenant with ten deals or a million. Every figure links to the list
that shows exactly the rows it counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlencode

from django.urls import reverse

from accounts.models import Membership

Portal = Literal["vendor", "partner"]


@dataclass(frozen=True)
class HomeTile:
    """One figure: `count` rows (and, for money, their `amount`), linking to `url`, the list
    filtered to exactly those rows. `attention` tiles are highlighted while not zero."""

    key: str  # stable name, also the tile's data-testid
    label: str
    count: int
    url: str
    amount: Decimal | None = None
    currency: str = ""
    attention: bool = False
    note: str = ""

    @property
    def needs_attention(self) -> bool:
        return self.attention and self.count > 0


TileSource = Callable[[Membership], list[HomeTile]]
SectionSource = Callable[[Membership], dict[str, Any] | None]


@dataclass(frozen=True)
class _Registered:
    order: int
    source: Callable[[Membership], Any]
    template_name: str = ""


@dataclass(frozen=True)
class HomeSection:
    """One section to include: its template and the context it reads as `section`."""

    template_name: str
    context: dict[str, Any]


_TILES: dict[str, list[_Registered]] = {"vendor": [], "partner": []}
_SECTIONS: dict[str, list[_Registered]] = {"vendor": [], "partner": []}


def link(name: str, **query: Any) -> str:
    """A tile's link: the named list, narrowed by `query` to exactly the rows it counts."""
    path = reverse(name)
    return f"{path}?{urlencode(query)}" if query else path


def _register(registry: list[_Registered], entry: _Registered) -> None:
    """Add once: registering the same function again replaces it."""
    registry[:] = [known for known in registry if known.source is not entry.source]
    registry.append(entry)
    registry.sort(key=lambda known: known.order)


def home_tiles(portal: Portal, *, order: int = 100) -> Callable[[TileSource], TileSource]:
    def register(source: TileSource) -> TileSource:
        _register(_TILES[portal], _Registered(order, source))
        return source

    return register


def home_section(
    portal: Portal, template_name: str, *, order: int = 100
) -> Callable[[SectionSource], SectionSource]:
    def register(source: SectionSource) -> SectionSource:
        _register(_SECTIONS[portal], _Registered(order, source, template_name))
        return source

    return register


def tiles_for(portal: Portal, membership: Membership) -> list[HomeTile]:
    return [tile for entry in _TILES[portal] for tile in entry.source(membership)]


def sections_for(portal: Portal, membership: Membership) -> list[HomeSection]:
    sections = []
    for entry in _SECTIONS[portal]:
        context = entry.source(membership)
        if context is not None:
            sections.append(HomeSection(entry.template_name, context))
    return sections

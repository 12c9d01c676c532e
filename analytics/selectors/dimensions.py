"""What the forecast can be grouped by, each defined once as SQL expressions on an
opportunity: its key (an id or a code) and its label.

- partner: the deal's partner organization; direct deals form one group ("Direct").
- tier: the partner's tier; direct deals form one group.
- region: the partner's region (the vendor sets it, by default from the partner's
  country, see partners/regions.py); a direct deal takes the region of its customer's
  country through the same country table.
- product_line: the product lines named on the registration the deal came from. A deal
  naming several lines counts in each of them (so these rows may add up to more than the
  total); a deal with none, or without a registration, is in "No product line".
- channel_manager: the channel manager of the deal's partner; direct deals and partners
  without one are "Unassigned".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, NullIf

from partners.models import Region
from partners.regions import ASIA_PACIFIC, EMEA, LATIN_AMERICA, NORTH_AMERICA

GROUP_BY_CHOICES = (
    ("partner", "Partner"),
    ("tier", "Tier"),
    ("region", "Region"),
    ("product_line", "Product line"),
    ("channel_manager", "Channel manager"),
)
GROUP_BY_NAMES = tuple(name for name, _ in GROUP_BY_CHOICES)


@dataclass(frozen=True)
class Dimension:
    name: str
    key: Combinable  # an expression on Opportunity
    label: Combinable
    none_label: str  # the label of deals whose key is empty


def customer_region() -> Case:
    """The region of the customer's country (the table partners/regions.py defines)."""
    codes = (
        (NORTH_AMERICA, Region.NORTH_AMERICA),
        (LATIN_AMERICA, Region.LATIN_AMERICA),
        (ASIA_PACIFIC, Region.APAC),
        (EMEA, Region.EMEA),
    )
    return Case(
        *[When(customer__country__in=sorted(c), then=Value(r.value)) for c, r in codes],
        default=Value(None),
        output_field=CharField(),
    )


def region_of_deal() -> Coalesce:
    """The one definition of a deal's region: its partner's, else its customer's."""
    return Coalesce(F("partner__region"), customer_region(), output_field=CharField())


def region_label() -> Case:
    return Case(
        *[When(group_key=code, then=Value(label)) for code, label in Region.choices],
        default=Value(None),
        output_field=CharField(),
    )


def _person_name(prefix: str) -> Coalesce:
    return Coalesce(
        NullIf(F(f"{prefix}__full_name"), Value("")),
        F(f"{prefix}__email"),
        output_field=CharField(),
    )


DIMENSIONS: dict[str, Dimension] = {
    "partner": Dimension("partner", F("partner_id"), F("partner__name"), "Direct"),
    "tier": Dimension("tier", F("partner__tier_id"), F("partner__tier__name"), "Direct"),
    "region": Dimension("region", region_of_deal(), region_label(), "Unknown region"),
    "product_line": Dimension(
        "product_line",
        F("registration__product_lines__code"),
        F("registration__product_lines__name"),
        "No product line",
    ),
    "channel_manager": Dimension(
        "channel_manager",
        F("partner__channel_manager_id"),
        _person_name("partner__channel_manager"),
        "Unassigned",
    ),
}


def deals_in_period(start: object, end: object) -> Q:
    """Open deals expected to close in the period, and deals won in it."""
    return Q(status="open", expected_close_date__gte=start, expected_close_date__lt=end) | Q(
        status="won", closed_on__gte=start, closed_on__lt=end
    )

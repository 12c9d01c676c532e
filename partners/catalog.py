"""The tenant's product-line codes, as partners/ sees them without importing deals/.

Product lines live in deals/ (above partners/), yet a partner's specializations and
certifications name them. deals/ registers the provider when it loads (DealsConfig.ready),
the way higher apps register event handlers; partners/ only asks.
"""

from __future__ import annotations

from collections.abc import Callable

ProductLineCodes = Callable[[int], set[str]]

_providers: list[ProductLineCodes] = []


def register_product_line_codes(provider: ProductLineCodes) -> None:
    if provider not in _providers:
        _providers.append(provider)


def product_line_codes(tenant_id: int) -> set[str]:
    """The codes of the tenant's active product lines (none known: no provider loaded)."""
    codes: set[str] = set()
    for provider in _providers:
        codes |= provider(tenant_id)
    return codes

"""Calibrated win probability of a deal, served by a higher app.

Imports only go downward, so the pipeline cannot compute the calibrated probability itself
(analytics learns it from the tenant's history). The analytics app registers a provider
here when it starts: `provider(tenant_id)` returns a lookup `(partner_id, stage_id) →
Decimal` (0–1) for that tenant. Without a provider the probability is None.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

Lookup = Callable[[int | None, int], Decimal]
Provider = Callable[[int], Lookup]

_providers: list[Provider] = []


def register_probability_provider(provider: Provider) -> Provider:
    _providers[:] = [provider]
    return provider


def probability_lookup(tenant_id: int) -> Lookup | None:
    return _providers[0](tenant_id) if _providers else None

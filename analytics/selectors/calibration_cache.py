"""Today's calibration, cached.

- `calibration_now`: exact. The counts change only when a deal moves, so they are kept
  under the tenant's latest stage move and read again after any new move (one query to
  find that move). The forecast rollups use it.
- `probability_lookup_for`: for deal pages and the opportunity API, which must not add
  queries per request: the whole table is cached per tenant for LOOKUP_SECONDS (at most
  that much behind the history).
"""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone

from accounts.models import Tenant
from analytics.selectors.calibration import (
    Calibration,
    calibration,
    configured_probabilities,
)
from pipeline.models import StageMove
from pipeline.probabilities import Lookup

CACHE_SECONDS = 3600


def calibration_now(*, tenant: Tenant) -> Calibration:
    """`calibration(tenant=…)` as of now; reads the counts only after a new stage move."""
    latest = (
        StageMove.objects.for_tenant(tenant).order_by("-id").values_list("id", flat=True).first()
    )
    key = f"analytics:calibration:{tenant.pk}:{latest or 0}"
    counts = cache.get(key)
    if counts is None:
        fresh = calibration(tenant=tenant, as_of=timezone.now())
        cache.set(key, fresh.counts, CACHE_SECONDS)
        return fresh
    return Calibration(configured=configured_probabilities(tenant), counts=counts)


LOOKUP_SECONDS = 300


def probability_lookup_for(tenant_id: int) -> Lookup:
    """`(partner_id, stage_id) → Decimal`, from a table cached per tenant for 5 minutes."""
    key = f"analytics:probability-table:{tenant_id}"
    cached = cache.get(key)
    if cached is None:
        fresh = calibration(tenant=tenant_id, as_of=timezone.now())
        cached = (fresh.counts, fresh.configured)
        cache.set(key, cached, LOOKUP_SECONDS)
    counts, configured = cached
    return Calibration(configured=configured, counts=counts).probability

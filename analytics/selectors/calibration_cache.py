"""Today's calibration, cached: the counts change only when a deal moves, so they are kept
in the cache under the tenant's latest stage move and read again after any new move."""

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

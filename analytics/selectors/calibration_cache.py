"""Today's calibration, cached.

- `calibration_now`: the forecast pages and API. The counts change only when a deal
  closes or reopens, so the table is stored under the tenant's latest stage move and
  refreshed by a Celery task (enqueued on commit of a closing or reopening move,
  debounced; and by a beat sweep): the request reads the last stored table and never
  counts a large history inline (~4 s at a million deals).
- `calibration_current`: exact as of now (the weekly snapshots).
- `probability_lookup_for`: for deal pages and the opportunity API, which must not add
  queries per request: the whole table is cached per tenant for LOOKUP_SECONDS (at most
  that much behind the history), and each process keeps its copy until that entry expires.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.utils import timezone

from accounts.models import Tenant
from accounts.queue import enqueue_on_commit
from analytics.selectors.calibration import (
    Calibration,
    calibration,
    configured_probabilities,
)
from pipeline.models import StageMove
from pipeline.probabilities import Lookup

# The stored table: (the tenant's latest stage move when it was counted, counts).
TABLE_SECONDS = 7 * 24 * 3600  # the beat sweep refreshes it long before
REFRESH_TASK = "analytics.tasks.calibration_refresh"
DEBOUNCE_SECONDS = 60
# A history this small is counted inline when nothing is stored yet (a few ms).
INLINE_MOVES = 20_000


def _table_key(tenant_id: int) -> str:
    return f"analytics:calibration-table:{tenant_id}"


def _debounce_key(tenant_id: int) -> str:
    return f"analytics:calibration-refresh:{tenant_id}"


def _latest_move(tenant: Tenant | int) -> int:
    latest = StageMove.objects.for_tenant(tenant).order_by("-id").values_list("id", flat=True)
    return latest.first() or 0


def refresh_requested(tenant_id: int) -> None:
    """Enqueue a refresh on commit, at most once until that refresh starts (debounced)."""
    if cache.add(_debounce_key(tenant_id), 1, DEBOUNCE_SECONDS):
        enqueue_on_commit(REFRESH_TASK, tenant_id)


def refresh_started(tenant_id: int) -> None:
    """A move from now on must enqueue another refresh."""
    cache.delete(_debounce_key(tenant_id))


def calibration_refresh(*, tenant: Tenant | int, latest: int | None = None) -> Calibration:
    """Count the history now and store the table under the latest move (the move read
    first: a move during the count leaves the table stale, so refreshed again)."""
    latest = _latest_move(tenant) if latest is None else latest
    fresh = calibration(tenant=tenant, as_of=timezone.now())
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    cache.set(_table_key(tenant_id), (latest, fresh.counts), TABLE_SECONDS)
    return fresh


def calibration_current(*, tenant: Tenant) -> Calibration:
    """Exact as of now: the stored table if no move since, else counted again (tasks)."""
    latest = _latest_move(tenant)
    stored = cache.get(_table_key(tenant.pk))
    if stored is not None and stored[0] == latest:
        return Calibration(configured=configured_probabilities(tenant), counts=stored[1])
    return calibration_refresh(tenant=tenant, latest=latest)


def calibration_now(*, tenant: Tenant | int) -> Calibration:
    """For requests, never counting a large history inline: the stored table (exact when
    no deal moved since; otherwise the last one, and a refresh is enqueued). With nothing
    stored yet, a small history is counted inline; a large one falls back to the
    configured probabilities until the enqueued refresh has stored the table."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    latest = _latest_move(tenant)
    stored = cache.get(_table_key(tenant_id))
    if stored is not None:
        if stored[0] != latest:
            refresh_requested(tenant_id)
        return Calibration(configured=configured_probabilities(tenant), counts=stored[1])
    moves = StageMove.objects.for_tenant(tenant).values("pk")[: INLINE_MOVES + 1]
    if moves.count() <= INLINE_MOVES:
        return calibration_refresh(tenant=tenant, latest=latest)
    # An empty table (every stage at its configured probability) until the refresh has
    # stored the real one: the moves are counted once, not on every request.
    cache.set(_table_key(tenant_id), (None, {}), TABLE_SECONDS)
    refresh_requested(tenant_id)
    return Calibration(configured=configured_probabilities(tenant))


LOOKUP_SECONDS = 300
# Each process also keeps the lookups it read, until the shared entry they came from
# expires (its expiry is stored with it): the opportunity API's list and detail read a
# lookup on every request, and a Redis round trip plus unpickling the table was the one
# thing they did that a bare DRF list does not (pyinstrument, make bench BENCH_ARGS=api).
# A lookup is still never older than LOOKUP_SECONDS. Bounded: the oldest tenant goes first.
LOCAL_TENANTS = 256
_local: dict[int, tuple[float, Lookup]] = {}


def local_lookups_clear() -> None:
    """Forget this process's copies (tests clear the shared cache between them)."""
    _local.clear()


def probability_lookup_for(tenant_id: int) -> Lookup:
    """`(partner_id, stage_id) → Decimal`, from a table cached per tenant for 5 minutes.
    On a miss it reads the stored table like the forecast does (`calibration_now`), so a
    deal page never counts a large history inline."""
    now = time.time()
    held = _local.get(tenant_id)
    if held is not None and held[0] > now:
        return held[1]
    key = f"analytics:probability-table:{tenant_id}"
    cached = cache.get(key)
    if cached is None or len(cached) != 3:  # (or stored by the version without its expiry)
        fresh = calibration_now(tenant=tenant_id)
        cached = (fresh.counts, fresh.configured, now + LOOKUP_SECONDS)
        cache.set(key, cached, LOOKUP_SECONDS)
    counts, configured, expires = cached
    lookup = Calibration(configured=configured, counts=counts).probability
    _local.pop(tenant_id, None)
    while len(_local) >= LOCAL_TENANTS:
        _local.pop(next(iter(_local)))
    _local[tenant_id] = (expires, lookup)
    return lookup

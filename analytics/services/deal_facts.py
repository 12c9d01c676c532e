"""The per-deal fact table (analytics.models.DealFact), kept by the worker.

Reports that would otherwise read a million deals with their history and co-sell requests
(the co-sell impact report) read one narrow row per deal instead. Every column is derived
in one statement (FACTS_SQL) from the pipeline's own rows: the deal, its stage history
(FieldChange), its co-sell requests and its registration.

How the rows stay current:
- on commit of a change to a deal, its stage history, a co-sell request or a registration
  (analytics/signals.py), the deals the transaction touched are refreshed by one task
  (`analytics.tasks.deal_facts_refresh`), usually within a second or two of the commit;
- an hourly beat sweep (`deal_facts_sweep`) recomputes every deal of every tenant in
  batches and rewrites only the rows that drifted (a lost task, a bulk write that sent no
  signal, a tier or stage configuration change): nothing is ever more than an hour off;
- `manage.py deal_facts_refresh` backfills (the sweep would too, within the hour).

The refresh is idempotent: an upsert that writes a row only when a value changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Tenant
from accounts.queue import enqueue_on_commit
from accounts.tenancy import tenant_context
from pipeline.models import Opportunity

REFRESH_TASK = "analytics.tasks.deal_facts_refresh"
BATCH = 5_000  # deals per statement in a sweep or a backfill
SWEEP_MINUTES = 60  # how often the beat sweep repairs drift (prm/settings.py)
LAST_REFRESH_SECONDS = 7 * 24 * 3600

COLUMNS = (
    "partner_id",
    "status",
    "closed_on",
    "amount",
    "cycle_days",
    "registered_at",
    "first_engaged_at",
    "helped",
    "help_stage",
    "stages_reached",
)

# One row per deal of the tenant among %(ids)s (all of them when %(all)s): see DealFact.
FACTS_SQL = f"""
INSERT INTO analytics_dealfact (opportunity_id, tenant_id, {", ".join(COLUMNS)}, refreshed_at)
SELECT o.id, o.tenant_id, o.partner_id, o.status, o.closed_on, o.amount,
       o.closed_on - o.created_at::date,
       coalesce(reg.first_submitted_at, o.created_at),
       e.engaged_at,
       coalesce(e.engaged_at::date <= o.closed_on, false),
       CASE WHEN e.engaged_at::date <= o.closed_on THEN (
           SELECT NULLIF(f.new_value, '')::bigint FROM pipeline_fieldchange f
           WHERE f.tenant_id = o.tenant_id AND f.opportunity_id = o.id
             AND f.field = 'stage' AND f.changed_at <= e.engaged_at
           ORDER BY f.changed_at DESC, f.id DESC LIMIT 1) END,
       coalesce((
           SELECT array_agg(DISTINCT f.new_value::bigint ORDER BY f.new_value::bigint)
           FROM pipeline_fieldchange f
           WHERE f.tenant_id = o.tenant_id AND f.opportunity_id = o.id
             AND f.field = 'stage' AND f.new_value <> ''), '{{}}'),
       %(now)s
FROM pipeline_opportunity o
LEFT JOIN LATERAL (
    SELECT min(r.engaged_at) AS engaged_at FROM pipeline_cosellrequest r
    WHERE r.tenant_id = o.tenant_id AND r.opportunity_id = o.id AND r.engaged_at IS NOT NULL
) e ON true
LEFT JOIN deals_dealregistration reg
  ON reg.opportunity_id = o.id AND reg.tenant_id = o.tenant_id
WHERE o.tenant_id = %(tenant)s AND o.id >= %(low)s AND o.id <= %(high)s
  AND (%(all)s OR o.id = ANY(%(ids)s))
ON CONFLICT (opportunity_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS)}, refreshed_at = EXCLUDED.refreshed_at
WHERE ({", ".join(f"analytics_dealfact.{c}" for c in COLUMNS)})
      IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in COLUMNS)})
"""  # noqa: S608  (built from this module's constants; every value is a parameter)


def _tenant_id(tenant: Tenant | int) -> int:
    return tenant if isinstance(tenant, int) else tenant.pk


def _last_refresh_key(tenant_id: int) -> str:
    return f"analytics:deal-facts-refreshed:{tenant_id}"


def _upsert(tenant_id: int, *, ids: Sequence[int] = (), low: int = 0, high: int = 2**62) -> int:
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "ids": list(ids),
        "all": not ids,
        "low": low,
        "high": high,
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(FACTS_SQL, params)
        return int(cursor.rowcount)


def deal_facts_refresh(*, tenant: Tenant | int, opportunity_ids: Iterable[int]) -> int:
    """Recompute the facts of these deals (gone ones need nothing: the rows cascade).
    Returns how many rows were written (unchanged rows are not)."""
    ids = sorted(set(opportunity_ids))
    tenant_id = _tenant_id(tenant)
    written = 0
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            written += _upsert(tenant_id, ids=ids[start : start + BATCH])
    cache.set(_last_refresh_key(tenant_id), timezone.now(), LAST_REFRESH_SECONDS)
    return written


def deal_facts_refresh_all(*, tenant: Tenant | int) -> int:
    """Recompute every deal of the tenant, BATCH deals per transaction, each pinned to the
    tenant (the sweep and the backfill; outside any transaction, a batch commits as it
    goes). Returns how many rows were written: the drift repaired."""
    tenant_id = _tenant_id(tenant)
    with tenant_context(tenant_id):
        deals = Opportunity.objects.for_tenant(tenant_id).order_by("pk")
        bounds = list(deals.values_list("pk", flat=True)[::BATCH])
    written = 0
    for index, low in enumerate(bounds):
        high = bounds[index + 1] - 1 if index + 1 < len(bounds) else 2**62
        with tenant_context(tenant_id):
            written += _upsert(tenant_id, low=low, high=high)
    cache.set(_last_refresh_key(tenant_id), timezone.now(), LAST_REFRESH_SECONDS)
    return written


def deal_facts_last_refresh(*, tenant: Tenant | int) -> Any:
    """When the worker last refreshed some of the tenant's facts (None: not since the
    cache was emptied). From the cache: no query."""
    return cache.get(_last_refresh_key(_tenant_id(tenant)))


# --- refresh on commit, one task per transaction ------------------------------------------

_PENDING_ATTR = "_analytics_deal_facts_pending"


def deal_facts_changed(*, tenant_id: int, opportunity_id: int | None) -> None:
    """A deal's facts may have changed: refresh them once the transaction commits. The deals
    one transaction touches go in one task (a bulk stage move: one task, not thousands)."""
    if opportunity_id is None:
        return
    conn = transaction.get_connection()
    pending: dict[int, set[int]] = conn.__dict__.setdefault(_PENDING_ATTR, {})
    pending.setdefault(tenant_id, set()).add(opportunity_id)
    # The first callback to run sends them all; the others find nothing left. (Ids of a
    # rolled-back transaction ride along with the next commit: a refresh is idempotent.)
    transaction.on_commit(lambda: _flush(conn))


def _flush(conn: Any) -> None:
    pending: dict[int, set[int]] = conn.__dict__.pop(_PENDING_ATTR, {})
    for tenant_id, ids in pending.items():
        enqueue_on_commit(REFRESH_TASK, tenant_id, sorted(ids))

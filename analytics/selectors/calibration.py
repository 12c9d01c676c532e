"""Calibrated win probability per partner × stage, learnt from the tenant's own history.

For a stage s and a partner p: among the deals that had closed (won or lost) before the
as-of moment, n = those that entered s (a StageMove into it) and k = those of them that
closed won. The tenant's rate for the stage is m = Σk / Σn over every partner (direct
deals are one more "partner"). A partner's rate is shrunk toward m with a beta prior of
mean m and strength κ (empirical Bayes):

    calibrated = (k + κ·m) / (n + κ)

κ is fitted per stage from how much partners' rates really differ (method of moments):
the spread of the partner rates, weighted by n, minus the spread that sampling alone
explains, is the between-partner variance τ²; a beta of mean m has variance
m(1−m)/(κ+1), so κ = m(1−m)/τ² − 1, kept within [KAPPA_MIN, KAPPA_MAX]. No detectable
spread gives KAPPA_MAX (every partner ≈ the tenant's rate). A stage nobody has closed
from yet falls back to its configured probability.

Only history before `as_of` is read: a deal counts with the outcome of its last
won/lost move before as_of, and only the stages it entered before then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from accounts.models import Tenant
from pipeline.models import Stage

KAPPA_MIN = 1.0
KAPPA_MAX = 1000.0
PLACES = Decimal("0.0001")

# (partner_id or None, stage_id) → [entered, won]
Counts = dict[tuple[int | None, int], list[int]]


def prior_strength(rates: Iterable[tuple[int, int]]) -> float:
    """κ by the method of moments from (n, k) per partner of one stage."""
    pairs = [(n, k) for n, k in rates if n > 0]
    total = sum(n for n, _ in pairs)
    if len(pairs) < 2 or total == 0:
        return KAPPA_MAX
    mean = sum(k for _, k in pairs) / total
    if mean <= 0 or mean >= 1:
        return KAPPA_MAX
    observed = sum(n * (k / n - mean) ** 2 for n, k in pairs) / total
    sampling = mean * (1 - mean) * len(pairs) / total
    between = observed - sampling
    if between <= 0:
        return KAPPA_MAX
    kappa = mean * (1 - mean) / between - 1
    return min(max(kappa, KAPPA_MIN), KAPPA_MAX)


@dataclass
class Calibration:
    """`probability(partner_id, stage_id)` → Decimal in 0–1 (4 places)."""

    configured: dict[int, Decimal]  # stage id → configured probability, 0–1
    counts: Counts = field(default_factory=dict)
    _by_stage: dict[int, dict[int | None, list[int]]] = field(default_factory=dict)
    _stage_totals: dict[int, list[int]] = field(default_factory=dict)
    _kappa: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self, stage_ids: Iterable[int] | None = None) -> None:
        """Recompute the tenant rates and κ (of `stage_ids`, else all) from `counts`."""
        if stage_ids is None:
            self._by_stage.clear()
            for (partner_id, stage_id), pair in self.counts.items():
                self._by_stage.setdefault(stage_id, {})[partner_id] = pair
            stage_ids = list(self._by_stage)
        for stage_id in stage_ids:
            pairs = [tuple(pair) for pair in self._by_stage.get(stage_id, {}).values()]
            self._stage_totals[stage_id] = [sum(p[0] for p in pairs), sum(p[1] for p in pairs)]
            self._kappa[stage_id] = prior_strength(pairs)  # type: ignore[arg-type]

    def record(
        self, partner_id: int | None, stage_ids: Iterable[int], won: bool, sign: int
    ) -> None:
        """Count (sign 1) or uncount (sign −1, a reopened deal) one closed deal."""
        stage_ids = list(stage_ids)
        for stage_id in stage_ids:
            pair = self.counts.setdefault((partner_id, stage_id), [0, 0])
            self._by_stage.setdefault(stage_id, {})[partner_id] = pair
            pair[0] += sign
            pair[1] += sign * int(won)
        self.refresh(stage_ids)

    def prior_strength(self, stage_id: int) -> float | None:
        """κ of the stage; None when nobody has closed from it yet."""
        entered = self._stage_totals.get(stage_id, [0, 0])[0]
        return self._kappa.get(stage_id) if entered else None

    def tenant_rate(self, stage_id: int) -> Decimal | None:
        entered, won = self._stage_totals.get(stage_id, [0, 0])
        return Decimal(won / entered).quantize(PLACES) if entered else None

    def probability(self, partner_id: int | None, stage_id: int) -> Decimal:
        entered_all, won_all = self._stage_totals.get(stage_id, [0, 0])
        if not entered_all:
            return self.configured.get(stage_id, Decimal(0)).quantize(PLACES)
        mean = won_all / entered_all
        entered, won = self.counts.get((partner_id, stage_id), [0, 0])
        kappa = self._kappa[stage_id]
        return Decimal((won + kappa * mean) / (entered + kappa)).quantize(PLACES)


def configured_probabilities(tenant: Tenant | int) -> dict[int, Decimal]:
    rows = Stage.objects.for_tenant(tenant).values_list("id", "probability")
    return {stage_id: Decimal(percent) / 100 for stage_id, percent in rows}


# The deals closed before as_of (their last won/lost move before it, not reopened since),
# and the open stages each entered before as_of: one row per partner × stage.
COUNTS_SQL = """
WITH last_move AS (
    SELECT DISTINCT ON (m.opportunity_id) m.opportunity_id, m.to_status
    FROM pipeline_stagemove m
    WHERE m.tenant_id = %(tenant)s AND m.created_at < %(as_of)s
    ORDER BY m.opportunity_id, m.created_at DESC, m.id DESC
)
SELECT o.partner_id, e.to_stage_id,
       count(DISTINCT o.id), count(DISTINCT o.id) FILTER (WHERE c.to_status = 'won')
FROM last_move c
JOIN pipeline_opportunity o ON o.id = c.opportunity_id AND o.tenant_id = %(tenant)s
JOIN pipeline_stagemove e ON e.opportunity_id = o.id AND e.tenant_id = %(tenant)s
    AND e.to_status = 'open' AND e.created_at < %(as_of)s
WHERE c.to_status IN ('won', 'lost')
GROUP BY o.partner_id, e.to_stage_id
"""


def calibration(*, tenant: Tenant | int, as_of: datetime | None = None) -> Calibration:
    """The tenant's calibration from the history before `as_of` (now by default)."""
    as_of = as_of or timezone.now()
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    with connection.cursor() as cursor:
        cursor.execute(COUNTS_SQL, {"tenant": tenant_id, "as_of": as_of})
        counts = {(partner, stage): [n, k] for partner, stage, n, k in cursor.fetchall()}
    return Calibration(configured=configured_probabilities(tenant), counts=counts)

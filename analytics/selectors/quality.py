"""Forecast quality: how well each probability predicted the outcome of the deals closed
in the last four quarters (this fiscal quarter and the three before it).

Every time such a deal entered an open stage is one prediction: the stage's configured
probability, and the calibrated probability as of that moment (only deals closed before
it count, calibration.py). The outcome is 1 if the deal was won, 0 if lost.

- Brier score = mean of (probability − outcome)²: 0 is perfect, 0.25 is a coin toss;
  lower is better.
- Reliability: predictions in ten bins of width 0.1; per bin the mean prediction beside
  the share actually won. A well calibrated method sits on the diagonal.

The history is replayed once in time order, so each prediction sees exactly the deals
closed before it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone

from accounts.models import Tenant
from analytics.periods import current_quarter
from analytics.selectors.calibration import Calibration, configured_probabilities
from pipeline.models import Opportunity, Stage, StageMove

BINS = 10
CACHE_SECONDS = 600


@dataclass
class Prediction:
    configured: float
    calibrated: float
    won: bool


@dataclass
class ReliabilityBin:
    low: float
    high: float
    count: int = 0
    predicted_sum: float = 0.0
    won: int = 0

    @property
    def predicted(self) -> float | None:
        return self.predicted_sum / self.count if self.count else None

    @property
    def observed(self) -> float | None:
        return self.won / self.count if self.count else None


@dataclass
class ForecastQuality:
    since: date
    predictions: list[Prediction]
    prior_strengths: list[tuple[str, float | None]]  # (stage name, κ) today
    bins: dict[str, list[ReliabilityBin]] = field(default_factory=dict)

    @property
    def deal_count(self) -> int:
        return len(self.predictions)

    @property
    def configured_brier(self) -> float | None:
        return self.brier("configured")

    @property
    def calibrated_brier(self) -> float | None:
        return self.brier("calibrated")

    def brier(self, method: str) -> float | None:
        if not self.predictions:
            return None
        errors = [(getattr(p, method) - (1.0 if p.won else 0.0)) ** 2 for p in self.predictions]
        return sum(errors) / len(errors)


def reliability(predictions: list[Prediction], method: str) -> list[ReliabilityBin]:
    bins = [ReliabilityBin(i / BINS, (i + 1) / BINS) for i in range(BINS)]
    for prediction in predictions:
        value = getattr(prediction, method)
        chosen = bins[min(int(value * BINS), BINS - 1)]
        chosen.count += 1
        chosen.predicted_sum += value
        chosen.won += int(prediction.won)
    return bins


def replay(tenant: Tenant, since: date, until: datetime) -> tuple[list[Prediction], Calibration]:
    """Walk the tenant's stage moves in time order, predicting at each entry of a scored
    deal and counting each deal's outcome once it closes."""
    scored = dict(
        Opportunity.objects.for_tenant(tenant)
        .filter(status__in=("won", "lost"), closed_on__gte=since)
        .values_list("id", "status")
    )
    configured = configured_probabilities(tenant)
    calibration = Calibration(configured=configured)
    entered: dict[int, set[int]] = defaultdict(set)
    counted: dict[int, bool] = {}  # deal → counted as won?
    predictions = []
    moves = (
        StageMove.objects.for_tenant(tenant)
        .filter(created_at__lt=until)
        .order_by("created_at", "id")
        .values_list("opportunity_id", "opportunity__partner_id", "to_stage_id", "to_status")
    )
    for deal, partner, stage, status in moves.iterator(chunk_size=5000):
        if status == "open":
            if deal in counted:  # reopened: its earlier outcome no longer counts
                calibration.record(partner, entered[deal], counted.pop(deal), -1)
            entered[deal].add(stage)
            if deal in scored:
                predictions.append(
                    Prediction(
                        float(configured.get(stage, Decimal(0))),
                        float(calibration.probability(partner, stage)),
                        scored[deal] == "won",
                    )
                )
        elif deal not in counted:
            counted[deal] = status == "won"
            calibration.record(partner, entered[deal], counted[deal], 1)
    return predictions, calibration


def forecast_quality(*, tenant: Tenant, today: date | None = None) -> ForecastQuality:
    today = today or timezone.localdate()
    since = current_quarter(tenant, today).shifted(-3).start
    latest = StageMove.objects.for_tenant(tenant).order_by("-id").values_list("id", flat=True)
    key = f"analytics:quality:{tenant.pk}:{since}:{latest.first() or 0}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    predictions, calibration = replay(tenant, since, timezone.now())
    stages = Stage.objects.for_tenant(tenant).filter(kind=Stage.Kind.OPEN, is_active=True)
    quality = ForecastQuality(
        since,
        predictions,
        [(stage.name, calibration.prior_strength(stage.pk)) for stage in stages],
        {m: reliability(predictions, m) for m in ("configured", "calibrated")},
    )
    cache.set(key, quality, CACHE_SECONDS)
    return quality

"""The reliability chart of the forecast quality page: per bin of predicted probability,
the mean prediction and the share won, for both methods (in percent)."""

from __future__ import annotations

from accounts.charts import Chart, Series
from analytics.selectors.quality import ForecastQuality


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def reliability_chart(quality: ForecastQuality) -> Chart:
    configured, calibrated = quality.bins["configured"], quality.bins["calibrated"]
    return Chart(
        id="reliability",
        title="Reliability: predicted probability against the share won",
        labels=[f"{round(b.low * 100)}–{round(b.high * 100)} %" for b in configured],
        series=[
            Series(
                "Ideal (bin middle)",
                [round((b.low + b.high) * 50, 1) for b in configured],
                kind="line",
            ),
            Series("Configured: share won", [_percent(b.observed) for b in configured]),
            Series("Calibrated: share won", [_percent(b.observed) for b in calibrated]),
        ],
        unit="percent",
        label_heading="Predicted",
        summary="for each bin of predicted probability, the share of its predictions won",
    )

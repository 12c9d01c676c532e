from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Forecast, pipeline changes, snapshots and effectiveness metrics: reads every app
    below it (commissions and down); nothing imports it."""

    name = "analytics"

    def ready(self) -> None:
        from analytics import (
            panels,  # noqa: F401  (win probability and inflation-flag panels)
            signals,  # noqa: F401  (stored calibration refreshed on a close)
        )

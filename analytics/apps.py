from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """Forecast, pipeline changes, snapshots and effectiveness metrics: reads every app
    below it (commissions and down); nothing imports it."""

    name = "analytics"

from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "pipeline"

    def ready(self) -> None:
        from pipeline import (  # noqa: F401  (registers the event handlers, the home figures)
            handlers,
            home,
        )

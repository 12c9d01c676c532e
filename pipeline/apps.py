from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "pipeline"

    def ready(self) -> None:
        from pipeline import handlers  # noqa: F401  (registers the domain-event handlers)

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        from integrations import handlers  # noqa: F401  (outbox → webhook fan-out)

from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "deals"

    def ready(self) -> None:
        from deals import handlers  # noqa: F401  (registers the domain-event handlers)

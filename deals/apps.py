from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "deals"

    def ready(self) -> None:
        from deals import (  # noqa: F401  (registers the event handlers, the home figures)
            handlers,
            home,
        )

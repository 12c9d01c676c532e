from django.apps import AppConfig


class CommissionsConfig(AppConfig):
    name = "commissions"

    def ready(self) -> None:
        from commissions import (  # noqa: F401  (registers the event handlers, the deal panel)
            handlers,
            panels,
        )

from django.apps import AppConfig


class CommissionsConfig(AppConfig):
    name = "commissions"

    def ready(self) -> None:
        from commissions import (  # noqa: F401  (event handlers, deal panel, home figures)
            handlers,
            home,
            panels,
        )

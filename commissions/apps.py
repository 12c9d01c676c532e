from django.apps import AppConfig


class CommissionsConfig(AppConfig):
    name = "commissions"

    def ready(self) -> None:
        from commissions import handlers  # noqa: F401  (registers the domain-event handlers)

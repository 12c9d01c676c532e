from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        from leads import handlers  # noqa: F401  (registers the event handlers)

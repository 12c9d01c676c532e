from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        from accounts.rest import write_guard_register
        from integrations import handlers  # noqa: F401  (outbox → webhook fan-out)
        from integrations.idempotency import guard

        write_guard_register(guard)  # Idempotency-Key on every API write

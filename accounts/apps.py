from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts.tenancy import install_row_level_security

        post_migrate.connect(
            install_row_level_security,
            sender=self,
            dispatch_uid="accounts.install_row_level_security",
        )

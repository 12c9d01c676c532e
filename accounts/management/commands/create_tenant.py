"""`manage.py create_tenant SLUG --name NAME --admin-email EMAIL [--password PW]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.errors import ApplicationError
from accounts.services.tenants import tenant_create


def command_error(error: ApplicationError) -> CommandError:
    details = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in error.fields.items())
    return CommandError(f"{error.message} ({details})" if details else error.message)


class Command(BaseCommand):
    help = "Create a tenant and its first vendor admin (an existing user is reused)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="URL-safe identifier, e.g. acme")
        parser.add_argument("--name", required=True, help="display name, e.g. 'Acme Software'")
        parser.add_argument("--admin-email", required=True, help="e-mail of the vendor admin")
        parser.add_argument("--admin-name", default="", help="full name of a new admin user")
        parser.add_argument(
            "--password",
            default=None,
            help="password of a new admin user (default: none; they reset it)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = tenant_create(
                actor=None,
                slug=options["slug"],
                name=options["name"],
                admin_email=options["admin_email"],
                admin_password=options["password"],
                admin_full_name=options["admin_name"],
            )
        except ApplicationError as error:
            raise command_error(error) from error
        tenant, admin = created.tenant, created.admin
        user = admin.membership.user
        self.stdout.write(f"Created tenant {tenant.slug!r} ({tenant.name}), id {tenant.pk}.")
        if admin.user_created:
            password = (
                "with the given password"
                if user.has_usable_password()
                else ("without a password (use 'Forgot password' to set one)")
            )
            self.stdout.write(f"Created user {user.email}, id {user.pk}, {password}.")
        else:
            self.stdout.write(
                f"Reused existing user {user.email}, id {user.pk} (name and password unchanged)."
            )
        self.stdout.write(
            f"{user.email} is vendor admin of {tenant.slug!r} "
            f"(membership id {admin.membership.pk})."
        )

"""`manage.py create_user EMAIL --tenant SLUG --role ROLE [--partner-id ID] [--password PW]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.errors import ApplicationError
from accounts.management.commands.create_tenant import command_error
from accounts.models import Role, Tenant
from accounts.services.tenants import user_create_with_membership
from accounts.tenancy import tenant_context


class Command(BaseCommand):
    help = "Give a person (new, or found by e-mail) a role in a tenant."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--partner-id",
            type=int,
            default=None,
            help="partner organization (of that tenant), for partner roles",
        )
        parser.add_argument("--full-name", default="", help="full name of a new user")
        parser.add_argument(
            "--password", default=None, help="password of a new user (default: none; they reset it)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with the slug {options['tenant']!r}.")
        try:
            with tenant_context(tenant):
                created = user_create_with_membership(
                    tenant=tenant,
                    actor=None,
                    email=options["email"],
                    role=options["role"],
                    partner_id=options["partner_id"],
                    password=options["password"],
                    full_name=options["full_name"],
                )
                membership = created.membership
                partner = membership.partner
        except ApplicationError as error:
            raise command_error(error) from error
        user = membership.user
        if created.user_created:
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
        of_partner = f" of {partner.name} (partner id {partner.pk})" if partner else ""
        self.stdout.write(
            f"{user.email} is {membership.role}{of_partner} in {tenant.slug!r} "
            f"(membership id {membership.pk})."
        )

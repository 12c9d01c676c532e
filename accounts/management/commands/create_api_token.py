"""`manage.py create_api_token EMAIL --tenant SLUG [--name NAME]`.

The last line of the output is the token and nothing else, for scripts:
`TOKEN=$(manage.py create_api_token ... | tail -n 1)`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Membership, Tenant
from accounts.services.tokens import api_token_create
from accounts.tenancy import tenant_context


class Command(BaseCommand):
    help = "Create an API token for a person's membership in a tenant; prints it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--name", default="API token", help="label of the token")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with the slug {options['tenant']!r}.")
        with tenant_context(tenant):
            membership = (
                Membership.objects.for_tenant(tenant)
                .select_related("user", "tenant")
                .filter(user__email__iexact=options["email"].strip(), is_active=True)
                .first()
            )
            if membership is None:
                raise CommandError(
                    f"{options['email']} has no active membership in {tenant.slug!r}."
                )
            token, secret = api_token_create(membership=membership, name=options["name"])
        self.stdout.write(
            f"Created API token {token.name!r} ({token.prefix}…), id {token.pk}, "
            f"for {membership.user.email} as {membership.role} in {tenant.slug!r}."
        )
        self.stdout.write("Use it as 'Authorization: Bearer <token>'. It is shown only once:")
        self.stdout.write(secret)

"""Shared pieces of the registration API: the scoped base and the one way a registration
is written out (deals/apis/rows.py: with its findings, reduced to what the acting member
may see)."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response

from accounts.rest import ScopedGenericApi
from accounts.tenancy import TenantQuerySet
from deals.apis.rows import (
    REGISTRATION_COLUMNS,
    product_line_arrays,
    registration_values,
    registrations_json,
)
from deals.models import DealRegistration
from deals.selectors import registration_list_for
from pipeline.apis.base import JsonApi


class RegistrationScopedApi(JsonApi, ScopedGenericApi):
    """Base of the registration endpoints: the registrations the member may see (partner
    reps: their own; partner admins: their organization's; vendor roles: the tenant's)."""

    model = DealRegistration
    queryset = DealRegistration.objects.none()  # for schema introspection

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        # The selector applies the same visible_to scope; `&` keeps the sealed one as well.
        return registration_list_for(membership=self.acting_membership) & queryset

    @property
    def context(self) -> dict[str, Any]:
        return {"tenant": self.membership.tenant, "actor": self.membership}

    def registration_json(self) -> dict[str, Any]:
        """The registration the URL names, written out (404 outside the member's scope)."""
        row = self.get_row(*REGISTRATION_COLUMNS, **product_line_arrays())
        return registrations_json([row], membership=self.membership)[0]

    def output(self, registration_id: int, code: int = status.HTTP_200_OK) -> Response:
        """The registration as it is now, re-read through the member's scope."""
        row = registration_values(self.get_queryset()).get(pk=registration_id)
        return Response(registrations_json([row], membership=self.membership)[0], status=code)

"""Shared pieces of the registration API: the scoped base and the one way a registration
is written out (with its findings, reduced to what the acting member may see)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from rest_framework import status
from rest_framework.response import Response

from accounts.models import Membership
from accounts.rest import ScopedGenericApi
from accounts.tenancy import TenantQuerySet
from deals.models import DealRegistration
from deals.selectors import FindingView, finding_view, findings_queryset, registration_list_for
from deals.serializers import RegistrationOutput
from pipeline.apis.base import JsonApi


def findings_by_registration(
    registrations: Iterable[DealRegistration], *, membership: Membership
) -> dict[int, list[FindingView]]:
    """Every finding of some registrations in one query (vendor roles: with the other
    record joined in; partner members: without it)."""
    vendor = membership.is_vendor
    grouped: dict[int, list[FindingView]] = defaultdict(list)
    ids = [registration.pk for registration in registrations]
    for finding in findings_queryset(ids, vendor=vendor) if ids else []:
        grouped[finding.registration_id].append(finding_view(finding, vendor=vendor))
    return grouped


def registrations_data(
    registrations: list[DealRegistration], *, membership: Membership
) -> list[dict[str, Any]]:
    context = {
        "membership": membership,
        "findings": findings_by_registration(registrations, membership=membership),
    }
    return RegistrationOutput(registrations, many=True, context=context).data


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

    def output(self, registration_id: int, code: int = status.HTTP_200_OK) -> Response:
        """The registration as it is now, re-read through the member's scope."""
        registration = self.get_queryset().get(pk=registration_id)
        return Response(
            registrations_data([registration], membership=self.membership)[0], status=code
        )

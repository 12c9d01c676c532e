"""Registrations: the scoped list, a partner's new registration, detail, and a partner's
edit of a draft (or of a registration the vendor asked more information about)."""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.pagination import LargeListPagination
from accounts.rest import PARTNER
from accounts.serializers import error_responses, validate_input
from deals.apis.base import RegistrationScopedApi
from deals.apis.rows import registration_values, registrations_json
from deals.filters import RegistrationFilter
from deals.serializers import RegistrationCreateInput, RegistrationOutput, RegistrationUpdateInput
from deals.services import registrations as registration_services
from deals.services.external_ids import registration_external_ids_set


class RegistrationListCreateApi(RegistrationScopedApi):
    """Registrations the member may see, newest first, filterable, cursor-paginated.
    Partner people register (saved as a draft, or submitted with `submit`: true)."""

    write_roles = PARTNER
    filterset_class = RegistrationFilter
    pagination_class = LargeListPagination

    @extend_schema(responses={200: RegistrationOutput(many=True), **error_responses(400, 401, 403)})
    def get(self, request: Request) -> Response:
        rows = registration_values(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(rows) or []
        return self.get_paginated_response(registrations_json(page, membership=self.membership))

    @extend_schema(
        request=RegistrationCreateInput,
        responses={201: RegistrationOutput, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validate_input(RegistrationCreateInput, request, membership=self.membership)
        submit, external_ids = data.pop("submit", False), data.pop("external_ids", None)
        with transaction.atomic():  # the registration and its ids: both or neither
            registration = registration_services.registration_create(
                **self.context, submit=submit, **data
            )
            if external_ids:
                registration_external_ids_set(
                    **self.context, registration_id=registration.pk, external_ids=external_ids
                )
        return self.output(registration.pk, status.HTTP_201_CREATED)


class RegistrationDetailApi(RegistrationScopedApi):
    """One registration with its findings (vendor roles also see each finding's other
    record). Its status changes only through the action endpoints."""

    conditional = True

    write_roles = PARTNER

    @extend_schema(responses={200: RegistrationOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(self.registration_json())

    @extend_schema(
        request=RegistrationUpdateInput(partial=True),
        responses={200: RegistrationOutput, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        registration = self.get_object()
        data = validate_input(
            RegistrationUpdateInput, request, membership=self.membership, partial=True
        )
        external_ids = data.pop("external_ids", None)
        with transaction.atomic():
            if external_ids:
                registration_external_ids_set(
                    **self.context, registration_id=registration.pk, external_ids=external_ids
                )
            if data or external_ids is None:
                registration_services.registration_update(
                    **self.context, registration_id=registration.pk, **data
                )
        return self.output(registration.pk)

"""Protection extensions: the partner asks with a reason, vendor roles grant or decline."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.rest import PARTNER, VENDOR
from accounts.serializers import InputSerializer, error_responses, validate_input
from deals.apis.actions import NoInput
from deals.apis.base import RegistrationScopedApi
from deals.models import Extension
from deals.selectors import registration_extensions
from deals.serializers import ExtensionDeclineInput, ExtensionInput, ExtensionOutput
from deals.services import decisions as decision_services
from deals.services import registrations as registration_services


def extension_output(extension_id: int, code: int = status.HTTP_200_OK) -> Response:
    extension = Extension.objects.select_related("registration").get(pk=extension_id)
    return Response(ExtensionOutput(extension).data, status=code)


class RegistrationExtensionsApi(RegistrationScopedApi):
    """A registration's extension requests, newest first. The partner asks for one while
    the registration is protected (409 when it is not, or one is already waiting)."""

    write_roles = PARTNER
    pagination_class = None

    @extend_schema(responses={200: ExtensionOutput(many=True), **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        registration = self.get_object()
        extensions = registration_extensions(registration=registration)
        for extension in extensions:
            extension.registration = registration
        return Response(ExtensionOutput(extensions, many=True).data)

    @extend_schema(
        request=ExtensionInput,
        responses={201: ExtensionOutput, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        registration = self.get_object()
        data = validate_input(ExtensionInput, request, membership=self.membership)
        extension = registration_services.extension_request(
            **self.context, registration_id=registration.pk, **data
        )
        return extension_output(extension.pk, status.HTTP_201_CREATED)


EXTENSION_RESPONSES = {200: ExtensionOutput, **error_responses(400, 401, 403, 404, 409)}


class ExtensionDecisionApi(RegistrationScopedApi):
    """Base of the vendor's answers to an extension request of a visible registration."""

    allowed_roles = VENDOR
    input_class: type[InputSerializer] = NoInput

    def post(self, request: Request, pk: int, extension_id: int) -> Response:
        registration = self.get_object()
        data = validate_input(self.input_class, request, membership=self.membership)
        extension = self.decide(
            **self.context, registration_id=registration.pk, extension_id=extension_id, **data
        )
        return extension_output(extension.pk)

    def decide(self, **kwargs: Any) -> Extension:
        raise NotImplementedError


class ExtensionApproveApi(ExtensionDecisionApi):
    """Grant: the tenant's extension days are added to the protection (up to the maximum
    number of extensions)."""

    @extend_schema(request=None, responses=EXTENSION_RESPONSES)
    def post(self, request: Request, pk: int, extension_id: int) -> Response:
        return super().post(request, pk, extension_id)

    def decide(self, **kwargs: Any) -> Extension:
        return decision_services.extension_grant(**kwargs)


class ExtensionDeclineApi(ExtensionDecisionApi):
    """Decline, optionally with the reason the partner will read."""

    input_class = ExtensionDeclineInput

    @extend_schema(request=ExtensionDeclineInput, responses=EXTENSION_RESPONSES)
    def post(self, request: Request, pk: int, extension_id: int) -> Response:
        return super().post(request, pk, extension_id)

    def decide(self, **kwargs: Any) -> Extension:
        return decision_services.extension_decline(**kwargs)

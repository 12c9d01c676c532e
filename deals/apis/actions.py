"""A registration's lifecycle over the API: the partner submits and withdraws; vendor roles
approve, reject, ask for information and mark duplicates; vendor admins revert a decision.

The registration must be visible (404 otherwise), the input valid (400), and the service
decides: a refused transition is a 409 with the reason, and changes nothing.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.rest import PARTNER, VENDOR, VENDOR_ADMIN
from accounts.serializers import InputSerializer, error_responses, validate_input
from deals.apis.base import RegistrationScopedApi
from deals.serializers import (
    ApprovalBlockedOutput,
    ApproveInput,
    MarkDuplicateInput,
    NoteInput,
    RegistrationOutput,
    RejectInput,
    RequestInfoInput,
    RevertInput,
)
from deals.services import decisions as decision_services
from deals.services import registrations as registration_services

ACTION_RESPONSES = {200: RegistrationOutput, **error_responses(400, 401, 403, 404, 409)}


class NoInput(InputSerializer):
    """A body-less action: any field sent is refused."""


class RegistrationActionApi(RegistrationScopedApi):
    """Base of an action: POST its input, one service call, the registration as it is now."""

    input_class: type[InputSerializer] = NoInput

    def post(self, request: Request, pk: int) -> Response:
        registration = self.get_object()
        data = validate_input(self.input_class, request, membership=self.membership)
        self.act(**self.context, registration_id=registration.pk, **data)
        return self.output(registration.pk)

    def act(self, **kwargs: Any) -> object:
        raise NotImplementedError


class RegistrationSubmitApi(RegistrationActionApi):
    """Submit a draft, or resubmit after an information request; screening follows at once
    (409 when the status refuses it; 400 naming what is still missing)."""

    allowed_roles = PARTNER

    @extend_schema(request=None, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, **kwargs: Any) -> object:
        return registration_services.registration_submit(**kwargs)


class RegistrationWithdrawApi(RegistrationActionApi):
    """The partner gives the registration up (and its protection, if approved)."""

    allowed_roles = PARTNER
    input_class = NoteInput

    @extend_schema(request=NoteInput, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, **kwargs: Any) -> object:
        return registration_services.registration_withdraw(**kwargs)


class RegistrationApproveApi(RegistrationActionApi):
    """Approve a registration in review: it is protected for the partner tier's days and
    its opportunity opens. 409 `approval_blocked`, naming the blocking findings, while
    another partner's approved registration protects the customer on a shared product line
    (unless `override_reason` approves it anyway); 409 `protection_taken` when another
    registration holds the exact protection."""

    allowed_roles = VENDOR
    input_class = ApproveInput

    @extend_schema(
        request=ApproveInput,
        responses={
            **ACTION_RESPONSES,
            409: OpenApiResponse(
                ApprovalBlockedOutput,
                description="The registration's state, or another partner's protection, "
                "refuses the approval (`blocking_findings` only with `approval_blocked`).",
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, **kwargs: Any) -> object:
        return decision_services.registration_approve(**kwargs)


class RegistrationRejectApi(RegistrationActionApi):
    """Reject a registration in review with one of the tenant's reason codes."""

    allowed_roles = VENDOR
    input_class = RejectInput

    @extend_schema(request=RejectInput, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, **kwargs: Any) -> object:
        return decision_services.registration_reject(**kwargs)


class RegistrationRequestInfoApi(RegistrationActionApi):
    """Send a registration in review back to the partner with a question."""

    allowed_roles = VENDOR
    input_class = RequestInfoInput

    @extend_schema(request=RequestInfoInput, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, **kwargs: Any) -> object:
        return decision_services.registration_request_info(**kwargs)


class RegistrationMarkDuplicateApi(RegistrationActionApi):
    """Reject a registration in review as a duplicate of another of the tenant's."""

    allowed_roles = VENDOR
    input_class = MarkDuplicateInput

    @extend_schema(request=MarkDuplicateInput, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, *, original_id: Any, **kwargs: Any) -> object:
        return decision_services.registration_mark_duplicate(original_id=original_id.pk, **kwargs)


class RegistrationRevertApi(RegistrationActionApi):
    """Vendor admins take back an approval or a rejection (audited with the note): the
    registration is in review again and its protection released."""

    allowed_roles = VENDOR_ADMIN
    input_class = RevertInput

    @extend_schema(request=RevertInput, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, **kwargs: Any) -> object:
        return decision_services.registration_revert(**kwargs)

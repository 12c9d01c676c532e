"""The upsert of an opportunity by its id in another system:
`PUT /api/v1/opportunities/by-external-id/{system}/{id}/` (vendor roles).

201 with the new deal, or 200 with the updated one. The body is a direct deal's create
body (`customer` and `name` needed only to create) with an optional `stage_id`; the work
is the ordinary services' (history, audit, events, stage rules), so a move the stage
rules refuse is a 409 and a malformed body a 400, both in the API's one error shape.
"""

from __future__ import annotations

from typing import ClassVar

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import NAME_MAX
from accounts.rest import VENDOR
from accounts.serializers import ScopedIdField, TextField, error_responses, validate_input
from pipeline.apis.opportunities import OpportunityScopedApi, service_changes
from pipeline.models import Stage
from pipeline.serializers import (
    CustomerInput,
    OpportunityCreateInput,
    OpportunityOutput,
    tenant_stages,
)
from pipeline.services.external_ids import opportunity_upsert_by_external_id


class OpportunityUpsertInput(OpportunityCreateInput):
    """A direct deal's fields; `customer` and `name` are needed only to create it."""

    name = TextField(max_length=NAME_MAX, required=False)
    customer = CustomerInput(required=False)
    stage_id = ScopedIdField(
        model=Stage,
        scope=tenant_stages,
        required=False,
        help_text="Reached through the lifecycle: a move the stage rules refuse is a 409.",
    )
    refused_fields: ClassVar[dict[str, str]] = {
        "status": "Set stage_id to the won or lost stage to close the deal."
    }


class OpportunityUpsertByExternalIdApi(OpportunityScopedApi):
    """Create or update the deal another system knows by `{system}/{external_id}`."""

    allowed_roles = VENDOR

    @extend_schema(
        request=OpportunityUpsertInput,
        responses={
            200: OpportunityOutput,
            201: OpportunityOutput,
            **error_responses(400, 401, 403, 409),
        },
    )
    def put(self, request: Request, system: str, external_id: str) -> Response:
        data = service_changes(
            validate_input(OpportunityUpsertInput, request, membership=self.membership)
        )
        result = opportunity_upsert_by_external_id(
            **self.context,
            system=system,
            external_id=external_id,
            customer=data.pop("customer", None),
            owner=data.pop("owner_id", None),
            stage=data.pop("stage_id", None),
            external_ids=data.pop("external_ids", None),
            changes=data,
        )
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return self.output(result.opportunity.pk, code)

"""The upsert of an opportunity by its id in another system:
`PUT /api/v1/opportunities/by-external-id/{system}/{id}/` (vendor roles).

201 with the new deal, or 200 with the updated one. The body is a direct deal's create
body (`customer` and `name` needed only to create) with an optional `stage_id`; the work
is the ordinary services' (history, audit, events, stage rules), so a move the stage
rules refuse is a 409 and a malformed body a 400, both in the API's one error shape.
"""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.conditional import entity_tag
from accounts.external_ids import system_clean
from accounts.models import NAME_MAX
from accounts.renderers import ApiJSONRenderer
from accounts.rest import VENDOR
from accounts.serializers import ScopedIdField, TextField, error_responses, validate_input
from pipeline.apis.opportunities import OpportunityScopedApi, service_changes
from pipeline.models import Opportunity, OpportunityExternalId, Stage
from pipeline.serializers import (
    CustomerInput,
    OpportunityCreateInput,
    OpportunityOutput,
    tenant_stages,
)
from pipeline.services.external_ids import lock_external_id, opportunity_upsert_by_external_id


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
    conditional = True  # If-Match: the deal's ETag, as GET /api/v1/opportunities/{id}/ gives it

    def linked_id(self) -> int | None:
        links = OpportunityExternalId.objects.visible_to(self.membership).filter(
            system=system_clean(self.kwargs["system"]), external_id=self.kwargs["external_id"]
        )
        return links.values_list("opportunity_id", flat=True).first()

    def lock_for_precondition(self) -> None:
        """The upsert's own lock on the id, then the linked deal's row (PATCH by id)."""
        lock_external_id(
            tenant_id=self.membership.tenant_id,
            kind="opportunity",
            system=system_clean(self.kwargs["system"]),
            external_id=self.kwargs["external_id"],
        )
        linked = self.linked_id()
        if linked is not None:
            deal = Opportunity.objects.visible_to(self.membership).filter(pk=linked)
            list(deal.select_for_update(of=("self",)).values_list("pk", flat=True))

    def current_tag(self, request: Request, *args: Any, **kwargs: Any) -> str | None:
        linked = self.linked_id()
        if linked is None:
            return None  # If-Match on a deal not created yet: 412
        return entity_tag(ApiJSONRenderer().render(self.output(linked).data))

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

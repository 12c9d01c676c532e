"""Stages: every member reads; vendor admins create and change."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import NotFound
from accounts.rest import VENDOR_ADMIN, MembershipApi
from accounts.serializers import error_responses, validate_input
from pipeline.apis.base import JsonApi, stages_for
from pipeline.models import Stage
from pipeline.serializers import (
    StageInput,
    StageOutput,
    StageUpdateInput,
)
from pipeline.services import stages as stage_services


class StageListCreateApi(JsonApi, MembershipApi):
    """The tenant's stages in pipeline order. Every role reads; vendor admins create."""

    write_roles = VENDOR_ADMIN

    @extend_schema(responses={200: StageOutput(many=True), **error_responses(401, 403)})
    def get(self, request: Request) -> Response:
        return Response(StageOutput(stages_for(self.membership), many=True).data)

    @extend_schema(
        request=StageInput, responses={201: StageOutput, **error_responses(400, 401, 403)}
    )
    def post(self, request: Request) -> Response:
        data = validate_input(StageInput, request, membership=self.membership)
        stage = stage_services.stage_create(
            tenant=self.membership.tenant, actor=self.membership, **data
        )
        return Response(StageOutput(stage).data, status=status.HTTP_201_CREATED)


class StageDetailApi(JsonApi, MembershipApi):
    """One stage. Vendor admins change it (kind and position are read-only here)."""

    write_roles = VENDOR_ADMIN

    def stage(self, pk: int) -> Stage:
        stage = stages_for(self.membership).filter(pk=pk).first()
        if stage is None:
            raise NotFound
        return stage

    @extend_schema(responses={200: StageOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(StageOutput(self.stage(pk)).data)

    @extend_schema(
        request=StageUpdateInput(partial=True),
        responses={200: StageOutput, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        stage = self.stage(pk)
        data = validate_input(StageUpdateInput, request, membership=self.membership, partial=True)
        active = data.pop("is_active", stage.is_active)
        context = {"tenant": self.membership.tenant, "actor": self.membership, "stage_id": stage.pk}
        if data:
            stage = stage_services.stage_update(**context, **data)
        if active != stage.is_active:
            stage = stage_services.stage_set_active(**context, active=active)
        return Response(StageOutput(stage).data)


# --- Opportunities: list, create, detail, edit ----------------------------------------------------

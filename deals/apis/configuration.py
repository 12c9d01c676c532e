"""The tenant's product-line catalog: every member reads it (partners register against the
codes; they see the active lines), vendor admins add lines, rename and retire them."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import NotFound
from accounts.models import Membership
from accounts.rest import VENDOR_ADMIN, MembershipApi
from accounts.serializers import error_responses, validate_input
from deals.models import ProductLine
from deals.selectors import product_lines_for
from deals.serializers import ProductLineInput, ProductLineOutput, ProductLineUpdateInput
from deals.services import configuration as configuration_services
from pipeline.apis.base import JsonApi


def product_lines_of(membership: Membership) -> QuerySet[ProductLine]:
    """Vendor roles: every line; partner members: the active ones."""
    return product_lines_for(tenant=membership.tenant, active_only=membership.is_partner)


class ProductLineListCreateApi(JsonApi, MembershipApi):
    """The tenant's product lines by name. Every role reads; vendor admins add."""

    write_roles = VENDOR_ADMIN

    @extend_schema(responses={200: ProductLineOutput(many=True), **error_responses(401, 403)})
    def get(self, request: Request) -> Response:
        return Response(ProductLineOutput(product_lines_of(self.membership), many=True).data)

    @extend_schema(
        request=ProductLineInput,
        responses={201: ProductLineOutput, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validate_input(ProductLineInput, request, membership=self.membership)
        line = configuration_services.product_line_create(
            tenant=self.membership.tenant, actor=self.membership, **data
        )
        return Response(ProductLineOutput(line).data, status=status.HTTP_201_CREATED)


class ProductLineDetailApi(JsonApi, MembershipApi):
    """One product line. Vendor admins rename it or retire it (`is_active`: false); its
    code never changes."""

    write_roles = VENDOR_ADMIN

    def product_line(self, pk: int) -> ProductLine:
        line = product_lines_of(self.membership).filter(pk=pk).first()
        if line is None:
            raise NotFound
        return line

    @extend_schema(responses={200: ProductLineOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(ProductLineOutput(self.product_line(pk)).data)

    @extend_schema(
        request=ProductLineUpdateInput(partial=True),
        responses={200: ProductLineOutput, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        line = self.product_line(pk)
        data = validate_input(
            ProductLineUpdateInput, request, membership=self.membership, partial=True
        )
        line = configuration_services.product_line_update(
            tenant=self.membership.tenant,
            actor=self.membership,
            product_line_id=line.pk,
            **data,
        )
        return Response(ProductLineOutput(line).data)

"""REST API of the partners app: tiers, partner organizations, invitations.

Thin: role check (HasRole) → scoped lookup (sealed base) → input serializer → one service.
Routes are collected by partners/urls.py under /api/v1/.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.urls import path
from django_countries import countries
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Role
from accounts.parsers import BoundedJSONParser
from accounts.rest import VENDOR, VENDOR_ADMIN, MembershipApi, ScopedGenericApi
from accounts.serializers import error_responses, validate_input
from accounts.tenancy import TenantQuerySet
from partners import services
from partners.models import PartnerOrganization, PartnerTier, Region
from partners.serializers import (
    InvitationCreateInput,
    InvitationOutput,
    PartnerCreateInput,
    PartnerOutput,
    PartnerUpdateInput,
    TierInput,
    TierOutput,
)
from partners.services.lead_profile import partner_lead_profile_update

PARTNER_ADMIN = frozenset({Role.PARTNER_ADMIN})
LEAD_PROFILE_FIELDS = ("territories", "specializations", "certifications", "lead_capacity")

# Request field → service keyword, for the ids that input serializers resolve to rows.
RESOLVED = {"tier_id": "tier", "channel_manager_id": "channel_manager", "partner_id": "partner"}


def service_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    return {RESOLVED.get(name, name): value for name, value in data.items()}


# --- Tiers ----------------------------------------------------------------------------------


class JsonApi:
    """Request bodies are JSON only (a form post is a 415, not a differently typed body)."""

    parser_classes = (BoundedJSONParser,)


class TierListCreateApi(JsonApi, ScopedGenericApi):
    """Partner tiers, highest rank first. Vendor roles read; vendor admins create."""

    model = PartnerTier
    queryset = PartnerTier.objects.none()  # for schema introspection; rows come from get_queryset
    allowed_roles = VENDOR
    write_roles = VENDOR_ADMIN
    filter_backends = ()

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return queryset.order_by("-rank", "name", "id")

    @extend_schema(responses={200: TierOutput(many=True), **error_responses(401, 403)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TierOutput(page, many=True).data)

    @extend_schema(request=TierInput, responses={201: TierOutput, **error_responses(400, 401, 403)})
    def post(self, request: Request) -> Response:
        data = validate_input(TierInput, request, membership=self.membership)
        tier = services.tier_create(tenant=self.membership.tenant, actor=self.membership, **data)
        return Response(TierOutput(tier).data, status=status.HTTP_201_CREATED)


class TierDetailApi(JsonApi, ScopedGenericApi):
    """One partner tier. Vendor roles read; vendor admins change its name or rank."""

    conditional = True

    model = PartnerTier
    queryset = PartnerTier.objects.none()
    allowed_roles = VENDOR
    write_roles = VENDOR_ADMIN

    @extend_schema(responses={200: TierOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(TierOutput(self.get_object()).data)

    @extend_schema(
        request=TierInput(partial=True),
        responses={200: TierOutput, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        tier = self.get_object()
        data = validate_input(TierInput, request, membership=self.membership, partial=True)
        tier = services.tier_update(
            tenant=self.membership.tenant, actor=self.membership, tier_id=tier.pk, **data
        )
        return Response(TierOutput(tier).data)


# --- Partner organizations ------------------------------------------------------------------


def _filter_tiers(request: Request | None) -> QuerySet[PartnerTier]:
    """Tier choices of the filter: the acting membership's, like every choice list."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return PartnerTier.objects.none()
    return PartnerTier.objects.visible_to(membership)


class PartnerFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PartnerOrganization.Status.choices)
    tier_id = django_filters.ModelChoiceFilter(field_name="tier", queryset=_filter_tiers)
    region = django_filters.ChoiceFilter(choices=Region.choices)
    country = django_filters.ChoiceFilter(choices=list(countries))

    class Meta:
        model = PartnerOrganization
        fields = ("status", "tier_id", "region", "country")


class PartnerListCreateApi(JsonApi, ScopedGenericApi):
    """Partner organizations by name, filterable. Vendor roles read; vendor admins create."""

    model = PartnerOrganization
    queryset = PartnerOrganization.objects.none()
    allowed_roles = VENDOR
    write_roles = VENDOR_ADMIN
    filterset_class = PartnerFilter

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return (
            queryset.order_by("name", "id")
            .select_related("tier")
            .prefetch_related("certifications")
        )

    @extend_schema(responses={200: PartnerOutput(many=True), **error_responses(400, 401, 403)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(PartnerOutput(page, many=True).data)

    @extend_schema(
        request=PartnerCreateInput, responses={201: PartnerOutput, **error_responses(400, 401, 403)}
    )
    def post(self, request: Request) -> Response:
        data = validate_input(PartnerCreateInput, request, membership=self.membership)
        partner = services.partner_create(
            tenant=self.membership.tenant, actor=self.membership, **service_kwargs(data)
        )
        return Response(PartnerOutput(partner).data, status=status.HTTP_201_CREATED)


class PartnerDetailApi(JsonApi, ScopedGenericApi):
    """One partner organization. Vendor admins change it (`status` only via suspend and
    reactivate); vendor roles and the partner's own admins change what lead routing needs
    (territories, specializations, certifications; lead capacity: vendor roles only)."""

    conditional = True

    model = PartnerOrganization
    queryset = PartnerOrganization.objects.none()
    allowed_roles = VENDOR | PARTNER_ADMIN

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return queryset.select_related("tier").prefetch_related("certifications")

    @extend_schema(responses={200: PartnerOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(PartnerOutput(self.get_object()).data)

    @extend_schema(
        request=PartnerUpdateInput(partial=True),
        responses={200: PartnerOutput, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        partner = self.get_object()
        data = validate_input(PartnerUpdateInput, request, membership=self.membership, partial=True)
        profile = {name: data.pop(name) for name in LEAD_PROFILE_FIELDS if name in data}
        context = {"tenant": self.membership.tenant, "actor": self.membership}
        if data or not profile:
            services.partner_update(**context, partner_id=partner.pk, **service_kwargs(data))
        if profile:
            partner_lead_profile_update(**context, partner_id=partner.pk, **profile)
        return Response(PartnerOutput(self.get_object()).data)


class PartnerStatusApi(JsonApi, ScopedGenericApi):
    """Base of suspend / reactivate: a body-less POST that changes the partner's status."""

    model = PartnerOrganization
    queryset = PartnerOrganization.objects.none()
    allowed_roles = VENDOR_ADMIN
    suspend: bool

    def post(self, request: Request, pk: int) -> Response:
        partner = self.get_object()
        partner = services.partner_set_status(
            tenant=self.membership.tenant,
            actor=self.membership,
            partner_id=partner.pk,
            suspended=self.suspend,
        )
        return Response(PartnerOutput(partner).data)


STATUS_RESPONSES = {200: PartnerOutput, **error_responses(401, 403, 404, 409)}


@extend_schema_view(post=extend_schema(request=None, responses=STATUS_RESPONSES))
class PartnerSuspendApi(PartnerStatusApi):
    """Suspend a partner: its people lose access to this tenant until it is reactivated."""

    suspend = True


@extend_schema_view(post=extend_schema(request=None, responses=STATUS_RESPONSES))
class PartnerReactivateApi(PartnerStatusApi):
    """Reactivate a suspended partner."""

    suspend = False


# --- Invitations ----------------------------------------------------------------------------


class InvitationCreateApi(JsonApi, MembershipApi):
    """Invite a person by e-mail. Vendor admins: any role; partner admins: partner roles of
    their own organization. The link is e-mailed; the response never contains it."""

    allowed_roles = frozenset({Role.VENDOR_ADMIN, Role.PARTNER_ADMIN})

    @extend_schema(
        request=InvitationCreateInput,
        responses={201: InvitationOutput, **error_responses(400, 401, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        data = validate_input(InvitationCreateInput, request, membership=self.membership)
        link = services.invitation_create(
            tenant=self.membership.tenant, actor=self.membership, **service_kwargs(data)
        )
        return Response(InvitationOutput(link.invitation).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("tiers/", TierListCreateApi.as_view(), name="tiers"),
    path("tiers/<int:pk>/", TierDetailApi.as_view(), name="tier"),
    path("partners/", PartnerListCreateApi.as_view(), name="partners"),
    path("partners/<int:pk>/", PartnerDetailApi.as_view(), name="partner"),
    path("partners/<int:pk>/suspend/", PartnerSuspendApi.as_view(), name="partner-suspend"),
    path(
        "partners/<int:pk>/reactivate/", PartnerReactivateApi.as_view(), name="partner-reactivate"
    ),
    path("invitations/", InvitationCreateApi.as_view(), name="invitations"),
]

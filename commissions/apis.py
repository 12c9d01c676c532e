"""REST API of commissions: the scoped ledger, a partner's statement for a period, the
vendor's approvals and payout batches, and the versions of the commission plan.

Thin: role check (HasRole) → scoped lookup (sealed base: another tenant's or partner's
entry is a 404) → input serializer → one service or selector → the rows re-read through
the same scope. Routes are collected by commissions/urls.py under /api/v1/.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.errors import NotFound, ValidationFailed
from accounts.models import Membership
from accounts.pagination import LargeListPagination
from accounts.rest import VENDOR, VENDOR_ADMIN, MembershipApi, ScopedGenericApi
from accounts.serializers import error_responses, validate_input
from accounts.tenancy import TenantQuerySet
from commissions.filters import CommissionEntryFilter
from commissions.models import CommissionEntry, PayoutBatch, PlanVersion, ProductBonus, TierRate
from commissions.selectors import (
    period_current,
    period_parse,
    plan_spans,
    statement_get,
)
from commissions.serializers import (
    ENTRY_COLUMNS,
    CommissionEntryOutput,
    CommissionPlanCreateInput,
    CommissionPlanOutput,
    CommissionPlanUpdateInput,
    NoInput,
    PayoutCreateInput,
    PayoutOutput,
    PlanPreviewOutput,
    StatementOutput,
    StatementQuery,
    entry_rows,
    statement_data,
)
from commissions.services import ledger, plans
from partners.models import PartnerOrganization
from pipeline.apis.base import JsonApi

# --- Ledger entries -------------------------------------------------------------------------------


class CommissionScopedApi(JsonApi, ScopedGenericApi):
    """Base of the entry endpoints: the entries the member may see (partner reps: of the
    deals they own; partner admins: their organization's; vendor roles: the tenant's)."""

    model = CommissionEntry
    queryset = CommissionEntry.objects.none()  # for schema introspection

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        # The selector applies the same visible_to scope; `&` keeps the sealed one as well.
        # The sealed scope is entry_list_for's (visible_to), newest first. Rows are read as
        # values: ENTRY_COLUMNS joins the deal's and the partner's names.
        return queryset.order_by("-id")

    def output(self, entry_id: int) -> Response:
        """The entry as it is now, re-read through the member's scope."""
        row = self.get_queryset().values(*ENTRY_COLUMNS).get(pk=entry_id)
        return Response(entry_rows([row])[0])


class CommissionListApi(CommissionScopedApi):
    """Ledger entries the member may see, newest first, filterable, cursor-paginated."""

    filterset_class = CommissionEntryFilter
    pagination_class = LargeListPagination

    @extend_schema(
        responses={200: CommissionEntryOutput(many=True), **error_responses(400, 401, 403)}
    )
    def get(self, request: Request) -> Response:
        rows = self.filter_queryset(self.get_queryset()).values(*ENTRY_COLUMNS)
        page = self.paginate_queryset(rows) or []
        return self.get_paginated_response(entry_rows(page))


class CommissionDetailApi(CommissionScopedApi):
    """One entry with its breakdown. Its status changes only through approval and payout."""

    conditional = True

    @extend_schema(responses={200: CommissionEntryOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(entry_rows([self.get_row(*ENTRY_COLUMNS)])[0])


class CommissionApproveApi(CommissionScopedApi):
    """Approve an accrued entry for payment (409 when it is approved or paid already)."""

    allowed_roles = VENDOR

    @extend_schema(
        request=None,
        responses={200: CommissionEntryOutput, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        entry = self.get_object()
        validate_input(NoInput, request, membership=self.membership)
        ledger.commission_approve(
            tenant=self.membership.tenant, actor=self.membership, entry_id=entry.pk
        )
        return self.output(entry.pk)


# --- Statements -----------------------------------------------------------------------------------


def statement_partner(membership: Membership, partner_id: int | None) -> PartnerOrganization:
    """The statement's partner: partner people default to (and only reach) their own."""
    if partner_id is None:
        if membership.is_partner:
            partner_id = membership.partner_id
        else:
            raise ValidationFailed(
                "Name the partner.", fields={"partner_id": ["This field is required."]}
            )
    partner = PartnerOrganization.objects.visible_to(membership).filter(pk=partner_id).first()
    if partner is None:
        raise NotFound
    return partner


class CommissionStatementApi(MembershipApi):
    """A partner's statement for a month or a quarter: the entries created in it (a partner
    rep's: of the deals they own), totals by status, accruals, clawbacks and the net."""

    @extend_schema(
        parameters=[StatementQuery],
        responses={200: StatementOutput, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        query = StatementQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        period_text = query.validated_data.get("period")
        period = period_parse(period_text) if period_text is not None else period_current()
        partner = statement_partner(self.membership, query.validated_data.get("partner_id"))
        statement = statement_get(membership=self.membership, partner=partner, period=period)
        return Response(statement_data(statement))


# --- Payouts --------------------------------------------------------------------------------------


class PayoutListCreateApi(JsonApi, ScopedGenericApi):
    """Payout batches, newest first (vendor roles); POST pays approved entries in one batch
    (409 naming the entries that are not approved; nothing is paid then)."""

    model = PayoutBatch
    queryset = PayoutBatch.objects.none()  # for schema introspection
    allowed_roles = VENDOR
    pagination_class = LargeListPagination

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        entries = CommissionEntry.objects.only("id", "payout_id")
        return queryset.prefetch_related(Prefetch("entries", queryset=entries))

    @extend_schema(responses={200: PayoutOutput(many=True), **error_responses(401, 403)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PayoutOutput(page, many=True).data)

    @extend_schema(
        request=PayoutCreateInput,
        responses={201: PayoutOutput, **error_responses(400, 401, 403, 409)},
    )
    def post(self, request: Request) -> Response:
        data = validate_input(PayoutCreateInput, request, membership=self.membership)
        batch = ledger.payout_create(tenant=self.membership.tenant, actor=self.membership, **data)
        batch = self.get_queryset().get(pk=batch.pk)
        return Response(PayoutOutput(batch).data, status=status.HTTP_201_CREATED)


# --- Commission plans -----------------------------------------------------------------------------


class CommissionPlanScopedApi(JsonApi, ScopedGenericApi):
    """Base of the plan endpoints: each item is one version of the tenant's commission plan.

    Vendor roles read (as on the plan pages); only vendor admins create or change a
    version. Partner roles are refused (403); another tenant's version is a 404.
    """

    model = PlanVersion
    queryset = PlanVersion.objects.none()  # for schema introspection
    allowed_roles = VENDOR
    write_roles = VENDOR_ADMIN

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        rates = TierRate.objects.select_related("tier").order_by("-tier__rank", "tier__name")
        bonuses = ProductBonus.objects.select_related("product_line").order_by(
            "product_line__name", "product_line_id"
        )
        return queryset.prefetch_related(
            Prefetch("tier_rates", queryset=rates),
            Prefetch("product_bonuses", queryset=bonuses),
        ).order_by("-effective_from")

    def with_spans(self, versions: Any) -> list[PlanVersion]:
        spans = plan_spans(tenant=self.membership.tenant)
        rows = list(versions)
        for version in rows:
            version.span = spans[version.pk]  # type: ignore[attr-defined]
        return rows

    def output(self, version_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        """The version as it is now, re-read through the same scope."""
        [version] = self.with_spans([self.get_queryset().get(pk=version_id)])
        return Response(CommissionPlanOutput(version).data, status=status_code)


class CommissionPlanListCreateApi(CommissionPlanScopedApi):
    """Every version, latest start first, with its state (in force, upcoming, ended). POST
    adds a version starting after today (or before the earliest one, covering a period no
    plan covered), copied from the version in force on its start date and then changed."""

    @extend_schema(responses={200: CommissionPlanOutput(many=True), **error_responses(401, 403)})
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            CommissionPlanOutput(self.with_spans(page), many=True).data
        )

    @extend_schema(
        request=CommissionPlanCreateInput,
        responses={201: CommissionPlanOutput, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validate_input(CommissionPlanCreateInput, request, membership=self.membership)
        version = plans.plan_version_create(
            tenant=self.membership.tenant, actor=self.membership, **data
        )
        return self.output(version.pk, status.HTTP_201_CREATED)


class CommissionPlanDetailApi(CommissionPlanScopedApi):
    """One version. PATCH changes a version not yet in force; one in force (or ended) never
    changes: 409."""

    conditional = True

    @extend_schema(responses={200: CommissionPlanOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        return self.output(self.get_object().pk)

    @extend_schema(
        request=CommissionPlanUpdateInput,
        responses={200: CommissionPlanOutput, **error_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        version = self.get_object()
        data = validate_input(CommissionPlanUpdateInput, request, membership=self.membership)
        plans.plan_version_update(
            tenant=self.membership.tenant, actor=self.membership, version_id=version.pk, **data
        )
        return self.output(version.pk)


class CommissionPlanPreviewApi(CommissionPlanScopedApi):
    """What the version would have paid on last quarter's won partner deals, beside what
    the ledger holds for them: the calculation of the plan preview page."""

    @extend_schema(responses={200: PlanPreviewOutput, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        version = self.get_object()
        preview = plans.plan_preview(
            tenant=self.membership.tenant, actor=self.membership, version_id=version.pk
        )
        return Response(PlanPreviewOutput(preview).data)


ENTRY = "commissions/<int:pk>/"
PLAN = "commission-plans/<int:pk>/"

urlpatterns = [
    path("commissions/", CommissionListApi.as_view(), name="commissions"),
    path(ENTRY, CommissionDetailApi.as_view(), name="commission"),
    path(f"{ENTRY}approve/", CommissionApproveApi.as_view(), name="commission-approve"),
    path("commission-statements/", CommissionStatementApi.as_view(), name="commission-statements"),
    path("payouts/", PayoutListCreateApi.as_view(), name="payouts"),
    path("commission-plans/", CommissionPlanListCreateApi.as_view(), name="commission-plans"),
    path(PLAN, CommissionPlanDetailApi.as_view(), name="commission-plan"),
    path(f"{PLAN}preview/", CommissionPlanPreviewApi.as_view(), name="commission-plan-preview"),
]

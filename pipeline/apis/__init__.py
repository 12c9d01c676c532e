"""REST API of the pipeline: stages, opportunities and their lifecycle, activities, co-sell.

Thin: role check (HasRole) → scoped lookup (sealed base: another tenant's or partner's row
is a 404) → input serializer → one service → the row re-read through the same scope.
Routes are collected by pipeline/urls.py under /api/v1/.
"""

from __future__ import annotations

from django.urls import path

from pipeline.apis.cosell import (
    CoSellAssignApi,
    CoSellCancelApi,
    CoSellCompleteApi,
    CoSellDeclineApi,
    CoSellEngageApi,
    CoSellRequestListApi,
    CoSellResourceDetailApi,
    CoSellResourceListCreateApi,
)
from pipeline.apis.external_ids import OpportunityUpsertByExternalIdApi
from pipeline.apis.opportunities import (
    OpportunityActivitiesApi,
    OpportunityCloseLostApi,
    OpportunityCloseWonApi,
    OpportunityCoSellRequestsApi,
    OpportunityDetailApi,
    OpportunityListCreateApi,
    OpportunityMoveStageApi,
    OpportunityReopenApi,
)
from pipeline.apis.stages import (
    StageDetailApi,
    StageListCreateApi,
)

OPPORTUNITY = "opportunities/<int:pk>/"

urlpatterns = [
    path("stages/", StageListCreateApi.as_view(), name="stages"),
    path("stages/<int:pk>/", StageDetailApi.as_view(), name="stage"),
    path("opportunities/", OpportunityListCreateApi.as_view(), name="opportunities"),
    path(OPPORTUNITY, OpportunityDetailApi.as_view(), name="opportunity"),
    path(
        "opportunities/by-external-id/<str:system>/<str:external_id>/",
        OpportunityUpsertByExternalIdApi.as_view(),
        name="opportunity-by-external-id",
    ),
    path(
        f"{OPPORTUNITY}move-stage/",
        OpportunityMoveStageApi.as_view(),
        name="opportunity-move-stage",
    ),
    path(
        f"{OPPORTUNITY}close-won/", OpportunityCloseWonApi.as_view(), name="opportunity-close-won"
    ),
    path(
        f"{OPPORTUNITY}close-lost/",
        OpportunityCloseLostApi.as_view(),
        name="opportunity-close-lost",
    ),
    path(f"{OPPORTUNITY}reopen/", OpportunityReopenApi.as_view(), name="opportunity-reopen"),
    path(
        f"{OPPORTUNITY}activities/",
        OpportunityActivitiesApi.as_view(),
        name="opportunity-activities",
    ),
    path(
        f"{OPPORTUNITY}cosell-requests/",
        OpportunityCoSellRequestsApi.as_view(),
        name="opportunity-cosell-requests",
    ),
    path("cosell-requests/", CoSellRequestListApi.as_view(), name="cosell-requests"),
    path("cosell-requests/<int:pk>/assign/", CoSellAssignApi.as_view(), name="cosell-assign"),
    path("cosell-requests/<int:pk>/engage/", CoSellEngageApi.as_view(), name="cosell-engage"),
    path("cosell-requests/<int:pk>/cancel/", CoSellCancelApi.as_view(), name="cosell-cancel"),
    path("cosell-resources/", CoSellResourceListCreateApi.as_view(), name="cosell-resources"),
    path("cosell-resources/<int:pk>/", CoSellResourceDetailApi.as_view(), name="cosell-resource"),
    path("cosell-requests/<int:pk>/decline/", CoSellDeclineApi.as_view(), name="cosell-decline"),
    path("cosell-requests/<int:pk>/complete/", CoSellCompleteApi.as_view(), name="cosell-complete"),
]

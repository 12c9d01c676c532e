"""REST API of deal registration: registrations and their lifecycle, protection extensions,
the product-line catalog.

Thin: role check (HasRole) → scoped lookup (sealed base: another tenant's or partner's
registration is a 404) → input serializer → one service → the row re-read through the same
scope. Routes are collected by deals/urls.py under /api/v1/.
"""

from __future__ import annotations

from django.urls import path

from deals.apis.actions import (
    RegistrationApproveApi,
    RegistrationMarkDuplicateApi,
    RegistrationRejectApi,
    RegistrationRequestInfoApi,
    RegistrationRevertApi,
    RegistrationSubmitApi,
    RegistrationWithdrawApi,
)
from deals.apis.configuration import ProductLineDetailApi, ProductLineListCreateApi
from deals.apis.extensions import (
    ExtensionApproveApi,
    ExtensionDeclineApi,
    RegistrationExtensionsApi,
)
from deals.apis.registrations import RegistrationDetailApi, RegistrationListCreateApi

REGISTRATION = "registrations/<int:pk>/"
EXTENSION = f"{REGISTRATION}extensions/<int:extension_id>/"
ACTIONS = {
    "submit": RegistrationSubmitApi,
    "approve": RegistrationApproveApi,
    "reject": RegistrationRejectApi,
    "request-info": RegistrationRequestInfoApi,
    "mark-duplicate": RegistrationMarkDuplicateApi,
    "withdraw": RegistrationWithdrawApi,
    "revert": RegistrationRevertApi,
}

urlpatterns = [
    path("registrations/", RegistrationListCreateApi.as_view(), name="registrations"),
    path(REGISTRATION, RegistrationDetailApi.as_view(), name="registration"),
    *(
        path(f"{REGISTRATION}{action}/", api.as_view(), name=f"registration-{action}")
        for action, api in ACTIONS.items()
    ),
    path(
        f"{REGISTRATION}extensions/",
        RegistrationExtensionsApi.as_view(),
        name="registration-extensions",
    ),
    path(f"{EXTENSION}approve/", ExtensionApproveApi.as_view(), name="extension-approve"),
    path(f"{EXTENSION}decline/", ExtensionDeclineApi.as_view(), name="extension-decline"),
    path("product-lines/", ProductLineListCreateApi.as_view(), name="product-lines"),
    path("product-lines/<int:pk>/", ProductLineDetailApi.as_view(), name="product-line"),
]

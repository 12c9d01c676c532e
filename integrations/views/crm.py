"""Vendor settings pages of CRM sync (vendor admins only): the connection settings per
CRM, the sync status (last run, lag, errors with a retry), and the open conflicts with
keep ours / take theirs / edit. Rows come through the tenant scope: another tenant's
conflict or error is a 404; partner people never reach these pages (403)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views.generic import FormView, TemplateView

from accounts.models import Membership
from accounts.portals import VENDOR_ADMIN, ObjectActionView, ServiceFormMixin, VendorPortalMixin
from accounts.scoping import ScopedQuerysetMixin
from integrations.crm_forms import ConflictResolveForm, CrmSettingsForm, CrmUserMapForm
from integrations.models import CrmConnection, CrmUserMapping, SyncConflict, SyncError
from integrations.services import crm_conflicts, crm_settings, crm_users
from integrations.services.crm_mapping import LABELS
from pipeline.models import Stage

ERRORS_SHOWN = 50


class CrmMixin(VendorPortalMixin):
    allowed_roles = VENDOR_ADMIN


class CrmSettingsView(CrmMixin, ServiceFormMixin, FormView):
    template_name = "integrations/crm_settings.html"
    form_class = CrmSettingsForm
    success_message = "CRM settings saved."

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        if kwargs["system"] not in CrmConnection.System.values:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def connection(self) -> CrmConnection:
        return crm_settings.crm_connection_for(tenant=self.tenant, system=self.kwargs["system"])

    def get_form_kwargs(self) -> dict[str, Any]:
        stages = list(Stage.objects.for_tenant(self.tenant).order_by("position", "id"))
        return {**super().get_form_kwargs(), "connection": self.connection(), "stages": stages}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        connection = self.connection()
        crm_people = (
            list(
                CrmUserMapping.objects.for_tenant(self.tenant)
                .filter(connection=connection)
                .select_related("membership__user")
                .order_by("name", "crm_user_id")
            )
            if connection.pk
            else []
        )
        crm_people.sort(key=lambda m: (m.membership_id is not None, m.name.lower()))
        members = (
            Membership.objects.for_tenant(self.tenant)
            .filter(is_active=True, user__is_active=True, partner__isnull=True)
            .select_related("user")
            .order_by("user__email")
        )
        return super().get_context_data(
            connection=connection,
            stored=crm_settings.credentials_present(connection),
            crm_people=crm_people,
            members=members,
            **kwargs,
        )

    def perform(self, form: CrmSettingsForm) -> CrmConnection:
        return crm_settings.crm_connection_save(
            tenant=self.tenant,
            actor=self.membership,
            **form.service_arguments(self.kwargs["system"]),
        )

    def get_success_url(self) -> str:
        return reverse("vendor:crm_status")


class CrmStatusView(CrmMixin, TemplateView):
    """Per connection: last run, lag, open conflicts; then the errors awaiting a retry."""

    template_name = "integrations/crm_status.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        now = timezone.now()
        connections = list(CrmConnection.objects.for_tenant(self.tenant).order_by("system"))
        open_conflicts = SyncConflict.objects.for_tenant(self.tenant).filter(status="open")
        unmapped = CrmUserMapping.objects.for_tenant(self.tenant).filter(membership__isnull=True)
        for connection in connections:
            seen = connection.polled_until or connection.last_success_at
            connection.lag_seconds = int((now - seen).total_seconds()) if seen else None  # type: ignore[attr-defined]
            connection.open_conflicts = open_conflicts.filter(connection=connection).count()  # type: ignore[attr-defined]
            connection.unmapped_users = unmapped.filter(connection=connection).count()  # type: ignore[attr-defined]
        errors = (
            SyncError.objects.for_tenant(self.tenant)
            .filter(retried_at__isnull=True)
            .select_related("opportunity", "connection")
            .order_by("-created_at", "-id")[:ERRORS_SHOWN]
        )
        return super().get_context_data(
            connections=connections,
            errors=errors,
            systems=CrmConnection.System.choices,
            **kwargs,
        )


class CrmConflictListView(CrmMixin, TemplateView):
    template_name = "integrations/crm_conflicts.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        conflicts = list(
            SyncConflict.objects.for_tenant(self.tenant)
            .filter(status="open")
            .select_related("opportunity", "connection")
            .order_by("-updated_at", "-id")
        )
        stages = {str(s.pk): s.name for s in Stage.objects.for_tenant(self.tenant)}
        for conflict in conflicts:
            conflict.label = LABELS.get(conflict.field, conflict.field)  # type: ignore[attr-defined]
            if conflict.field == "stage":
                conflict.ours = stages.get(conflict.ours, conflict.ours)
                conflict.theirs = stages.get(conflict.theirs, conflict.theirs)
        return super().get_context_data(conflicts=conflicts, **kwargs)


class CrmConflictResolveView(ScopedQuerysetMixin, CrmMixin, ObjectActionView):
    model = SyncConflict
    form_class = ConflictResolveForm

    def act(self, record: SyncConflict, data: dict[str, Any]) -> str:
        crm_conflicts.sync_conflict_resolve(
            tenant=self.tenant,
            actor=self.membership,
            conflict_id=record.pk,
            resolution=data["resolution"],
            value=data.get("value", ""),
        )
        return "Conflict resolved."

    def done(self, record: SyncConflict) -> HttpResponse:
        return redirect("vendor:crm_conflicts")


class CrmErrorRetryView(ScopedQuerysetMixin, CrmMixin, ObjectActionView):
    model = SyncError

    def act(self, record: SyncError, data: dict[str, Any]) -> str:
        crm_conflicts.sync_error_retry(
            tenant=self.tenant, actor=self.membership, error_id=record.pk
        )
        return "Queued again."

    def done(self, record: SyncError) -> HttpResponse:
        return redirect("vendor:crm_status")


class CrmUserMapView(ScopedQuerysetMixin, CrmMixin, ObjectActionView):
    """Set (or clear) the member a CRM user is; another tenant's CRM user is a 404, a
    member who is not an active vendor member here an error, and nothing changes."""

    model = CrmUserMapping
    form_class = CrmUserMapForm

    def act(self, record: CrmUserMapping, data: dict[str, Any]) -> str:
        crm_users.crm_user_map(
            tenant=self.tenant,
            actor=self.membership,
            mapping_id=record.pk,
            membership_id=data.get("membership"),
        )
        return f"{record} mapped."

    def done(self, record: CrmUserMapping) -> HttpResponse:
        system = CrmConnection.objects.get(pk=record.connection_id).system
        return redirect("vendor:crm_settings", system=system)


class CrmSyncNowView(ScopedQuerysetMixin, CrmMixin, ObjectActionView):
    model = CrmConnection

    def act(self, record: CrmConnection, data: dict[str, Any]) -> str:
        crm_conflicts.crm_sync_now(tenant=self.tenant, actor=self.membership, connection=record)
        return f"{record} sync queued."

    def done(self, record: CrmConnection) -> HttpResponse:
        return redirect("vendor:crm_status")


BASE = "settings/crm/"
urlpatterns = [
    path(BASE, CrmStatusView.as_view(), name="crm_status"),
    path(f"{BASE}conflicts/", CrmConflictListView.as_view(), name="crm_conflicts"),
    path(
        f"{BASE}conflicts/<int:pk>/resolve/",
        CrmConflictResolveView.as_view(),
        name="crm_conflict_resolve",
    ),
    path(f"{BASE}errors/<int:pk>/retry/", CrmErrorRetryView.as_view(), name="crm_error_retry"),
    path(f"{BASE}<int:pk>/sync-now/", CrmSyncNowView.as_view(), name="crm_sync_now"),
    path(f"{BASE}users/<int:pk>/map/", CrmUserMapView.as_view(), name="crm_user_map"),
    path(f"{BASE}<str:system>/", CrmSettingsView.as_view(), name="crm_settings"),
]

"""Vendor portal pages of the bulk lead import: upload a CSV (a bad file is refused at
once with what is wrong, nothing stored), then the import's page, which polls its progress
(htmx, every 2 s) while the worker checks the rows, stores the leads and routes them, and
lists the errors per row of a rejected file."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import path, reverse
from django.views.generic import DetailView, FormView

from accounts.portals import ServiceFormMixin, VendorPortalMixin
from accounts.scoping import ScopedQuerysetMixin
from accounts.tenancy import TenantQuerySet
from leads.models import LeadImport
from leads.selectors import import_progress, lead_imports_for
from leads.services.imports import (
    IMPORT_COLUMNS,
    IMPORT_MAX_BYTES,
    IMPORT_MAX_ROWS,
    lead_import_create,
)

ERRORS_SHOWN = 200


class LeadImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8 CSV, at most {IMPORT_MAX_ROWS:,} rows and "
        f"{IMPORT_MAX_BYTES // (1024 * 1024)} MB; first line: the column names.",
    )


class LeadImportView(VendorPortalMixin, ServiceFormMixin, FormView):
    template_name = "leads/vendor_lead_import.html"
    form_class = LeadImportForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            columns=IMPORT_COLUMNS,
            imports=list(lead_imports_for(membership=self.membership)[:10]),
            **kwargs,
        )

    def perform(self, form: LeadImportForm) -> LeadImport:
        upload = form.cleaned_data["file"]
        raw = upload.read(IMPORT_MAX_BYTES + 1)
        self.created = lead_import_create(
            tenant=self.tenant, actor=self.membership, file_name=upload.name, raw=raw
        )
        return self.created

    def get_success_message(self, result: LeadImport) -> str:
        return f"{result.file_name}: {result.row_count:,} rows uploaded; checking them now."

    def get_success_url(self) -> str:
        return reverse("vendor:lead_import_detail", args=[self.created.pk])


class LeadImportDetailView(VendorPortalMixin, ScopedQuerysetMixin, DetailView):
    """The import's page; `?fragment` (htmx polling) answers only its progress panel."""

    model = LeadImport
    context_object_name = "lead_import"

    def refine_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return queryset.defer("content").select_related("created_by")

    def get_template_names(self) -> list[str]:
        if getattr(self.request, "htmx", False):
            return ["leads/partials/lead_import_progress.html"]
        return ["leads/vendor_lead_import_detail.html"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        errors = self.object.errors
        return super().get_context_data(
            progress=import_progress(self.object),
            errors_shown=errors[:ERRORS_SHOWN],
            **kwargs,
        )


urlpatterns = [
    path("leads/import/", LeadImportView.as_view(), name="lead_import"),
    path("leads/imports/<int:pk>/", LeadImportDetailView.as_view(), name="lead_import_detail"),
]

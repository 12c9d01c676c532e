"""Vendor portal pages of the accounts app: the audit log (vendor admins only)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.urls import path

from accounts.models import AuditEntry
from accounts.portals import VENDOR_ADMIN, FilteredListView, TenantFilterSet, VendorPortalMixin
from accounts.scoping import ScopedQuerysetMixin
from accounts.selectors import audit_actor_choices, audit_rows, audit_verbs, verb_label


class AuditLogFilter(TenantFilterSet):
    verb = django_filters.ChoiceFilter(choices=[], empty_label="Any action")
    actor = django_filters.ModelChoiceFilter(queryset=None, empty_label="Anyone")

    class Meta:
        model = AuditEntry
        fields = ("verb", "actor")

    def scope_choices(self) -> None:
        self.filters["verb"].extra["choices"] = [
            (verb, verb_label(verb)) for verb in audit_verbs(tenant=self.tenant)
        ]
        self.filters["actor"].queryset = audit_actor_choices(tenant=self.tenant)


class AuditLogView(ScopedQuerysetMixin, VendorPortalMixin, FilteredListView):
    """Who did what to which record, newest first: actor, action, the record (linked to its
    page), what changed (labels and values people read), time, IP."""

    model = AuditEntry
    allowed_roles = VENDOR_ADMIN
    template_name = "vendor/audit_log.html"
    filterset_class = AuditLogFilter
    paginate_by = 50

    def refine_queryset(self, queryset: Any) -> Any:
        queryset = queryset.select_related("actor").order_by("-created_at", "-pk")
        return self.apply_filters(queryset)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = audit_rows(tenant=self.tenant, entries=list(context["object_list"]))
        return context


urlpatterns = [
    path("audit/", AuditLogView.as_view(), name="audit_log"),
]

"""Vendor portal pages of commission plans: every version (which is in force, its rates,
multipliers, bonuses, cap and accelerator), a new version from the current one, edits
before a version's start date, and a preview on last quarter's won deals.

Channel managers read the plans and previews; only vendor admins create or edit a version.
Another tenant's version is a 404. A version in force never changes: its edit page and a
POST to it are refused with a message and change nothing.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.views.generic import DetailView, FormView, TemplateView

from accounts.portals import VENDOR_ADMIN, ServiceFormMixin, VendorPortalMixin
from accounts.scoping import ScopedQuerysetMixin
from commissions.forms import PlanVersionForm
from commissions.models import PlanVersion
from commissions.selectors import plan_versions
from commissions.services.calculation import version_in_force
from commissions.services.plans import plan_preview, plan_version_create, plan_version_update

IN_FORCE = "This version is in force (or was): it never changes. Create a new version instead."


class PlanListView(VendorPortalMixin, TemplateView):
    """Every version with its start date, rates, multipliers, bonuses, cap, accelerator."""

    template_name = "commissions/vendor_plan_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        today = timezone.localdate()
        versions = plan_versions(tenant=self.tenant)
        in_force = next((v for v in versions if v.effective_from <= today), None)
        for later, version in zip([None, *versions], versions, strict=False):
            version.until = later.effective_from - timedelta(days=1) if later else None
            version.state = (
                "in force"
                if version == in_force
                else ("upcoming" if version.effective_from > today else "ended")
            )
            version.rates = sorted(
                version.tier_rates.all(), key=lambda r: (-r.tier.rank, r.tier.name)
            )
            version.bonuses = sorted(
                version.product_bonuses.all(), key=lambda b: b.product_line.name
            )
        return super().get_context_data(versions=versions, in_force=in_force, **kwargs)


class PlanVersionFormMixin(VendorPortalMixin, ServiceFormMixin, FormView):
    allowed_roles = VENDOR_ADMIN
    form_class = PlanVersionForm
    template_name = "commissions/vendor_plan_form.html"

    def source(self) -> PlanVersion | None:
        raise NotImplementedError

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "tenant": self.tenant, "source": self.source()}

    def get_success_message(self, result: PlanVersion) -> str:
        return f"Plan version “{result.name}” saved; it starts on {result.effective_from}."

    def get_success_url(self) -> str:
        return reverse("vendor:plan_list")


class PlanCreateView(PlanVersionFormMixin):
    """A new version, every field prefilled from the version in force today."""

    def source(self) -> PlanVersion | None:
        return self.current

    @cached_property
    def current(self) -> PlanVersion | None:
        return version_in_force(tenant=self.tenant, on=timezone.localdate())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(current=self.current, **kwargs)

    def perform(self, form: PlanVersionForm) -> PlanVersion:
        return plan_version_create(tenant=self.tenant, actor=self.membership, **form.changes())


class PlanEditView(ScopedQuerysetMixin, PlanVersionFormMixin):
    """Change a version before its start date; one in force is refused with a message."""

    model = PlanVersion

    @cached_property
    def version(self) -> PlanVersion:
        return self.get_object()  # type: ignore[return-value]

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.prefetch_related("tier_rates", "product_bonuses")

    def source(self) -> PlanVersion | None:
        return self.version

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse() or super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse() or super().post(request, *args, **kwargs)

    def refuse(self) -> HttpResponse | None:
        if self.version.effective_from > timezone.localdate():
            return None
        messages.error(self.request, IN_FORCE)
        return redirect("vendor:plan_list")

    def get_initial(self) -> dict[str, Any]:
        return {"name": self.version.name, "effective_from": self.version.effective_from}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(version=self.version, **kwargs)

    def perform(self, form: PlanVersionForm) -> PlanVersion:
        return plan_version_update(
            tenant=self.tenant, actor=self.membership, version_id=self.version.pk, **form.changes()
        )


class PlanPreviewView(ScopedQuerysetMixin, VendorPortalMixin, DetailView):
    """What the version would have paid on last quarter's won deals, beside the ledger."""

    model = PlanVersion
    template_name = "commissions/vendor_plan_preview.html"
    context_object_name = "version"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        preview = plan_preview(tenant=self.tenant, actor=self.membership, version_id=self.object.pk)
        return super().get_context_data(
            preview=preview,
            difference=preview.would_pay_total - preview.accrued_total,
            currency=self.tenant.currency,
            **kwargs,
        )


PLAN = "commissions/plans/<int:pk>/"

urlpatterns = [
    path("commissions/plans/", PlanListView.as_view(), name="plan_list"),
    path("commissions/plans/new/", PlanCreateView.as_view(), name="plan_create"),
    path(PLAN + "edit/", PlanEditView.as_view(), name="plan_edit"),
    path(PLAN + "preview/", PlanPreviewView.as_view(), name="plan_preview"),
]

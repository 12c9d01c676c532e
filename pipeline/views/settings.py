"""Vendor settings pages of the pipeline: the tenant's stages and its movement rules.

Vendor admins only (channel managers get the 403 page). Stages come through
`ScopedQuerysetMixin`, so another tenant's stage ID is a 404; every change is one call
into pipeline/services/stages.py, whose refusals are shown as messages or form errors.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views import View
from django.views.generic import FormView, ListView

from accounts.errors import ApplicationError, NotFound, PermissionDenied
from accounts.portals import (
    VENDOR_ADMIN,
    ObjectActionView,
    ServiceFormMixin,
    VendorPortalMixin,
    error_page,
    first_error,
)
from accounts.scoping import ScopedQuerysetMixin
from accounts.services.tenants import tenant_fiscal_year_set
from pipeline.models import EntryCriterion, LostReason, Opportunity, PipelineRules, Stage
from pipeline.services.stages import (
    lost_reason_create,
    lost_reason_set_active,
    pipeline_rules_update,
    stage_create,
    stage_delete,
    stage_reorder,
    stage_set_active,
    stage_update,
)
from pipeline.settings_forms import (
    FiscalYearForm,
    LostReasonForm,
    PipelineRulesForm,
    StageActiveForm,
    StageForm,
    StageReorderForm,
)

CRITERION_LABELS = dict(EntryCriterion.choices)
OPEN_DEALS = Count("opportunities", filter=Q(opportunities__status=Opportunity.Status.OPEN))


class StageSettingsMixin(VendorPortalMixin):
    allowed_roles = VENDOR_ADMIN


class StageListView(ScopedQuerysetMixin, StageSettingsMixin, ListView):
    """The stages in order, with the movement rules form on the same page."""

    model = Stage
    template_name = "pipeline/settings/stage_list.html"
    context_object_name = "stages"

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.annotate(open_deals=OPEN_DEALS).order_by("position", "pk")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        rules = PipelineRules.objects.for_tenant(self.tenant).first() or PipelineRules()
        stages = list(kwargs.pop("object_list", self.object_list))
        for stage in stages:
            stage.criteria_labels = [CRITERION_LABELS[c] for c in stage.entry_criteria]
        open_ids = [s.pk for s in stages if s.kind == Stage.Kind.OPEN]
        return super().get_context_data(
            fiscal_year_form=FiscalYearForm(
                initial={"fiscal_year_start_month": self.tenant.fiscal_year_start_month}
            ),
            rules_form=PipelineRulesForm(
                initial={
                    "allow_skip_forward": rules.allow_skip_forward,
                    "allow_backward": rules.allow_backward,
                }
            ),
            first_open_id=open_ids[0] if open_ids else None,
            last_open_id=open_ids[-1] if open_ids else None,
            object_list=stages,
            **kwargs,
        )


class StageCreateView(StageSettingsMixin, ServiceFormMixin, FormView):
    form_class = StageForm
    template_name = "pipeline/settings/stage_form.html"
    success_message = "Stage “{result.name}” created."

    def perform(self, form: StageForm) -> Stage:
        return stage_create(tenant=self.tenant, actor=self.membership, **form.cleaned_data)

    def get_success_url(self) -> str:
        return reverse("vendor:stage_list")


class StageEditView(ScopedQuerysetMixin, StageSettingsMixin, ServiceFormMixin, FormView):
    model = Stage
    form_class = StageForm
    template_name = "pipeline/settings/stage_form.html"
    success_message = "Stage “{result.name}” saved."

    @cached_property
    def stage(self) -> Stage:
        return self.get_object()  # type: ignore[return-value]

    def get_initial(self) -> dict[str, Any]:
        return StageForm.initial_for(self.stage)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(stage=self.stage, **kwargs)

    def perform(self, form: StageForm) -> Stage:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if not changes.get("forecast_category", True):  # blank: keep the stage's category
            del changes["forecast_category"]
        if not changes:
            return self.stage
        return stage_update(
            tenant=self.tenant, actor=self.membership, stage_id=self.stage.pk, **changes
        )

    def get_success_url(self) -> str:
        return reverse("vendor:stage_list")


class StageActiveView(ScopedQuerysetMixin, StageSettingsMixin, ObjectActionView):
    """POST action=activate|deactivate."""

    model = Stage
    form_class = StageActiveForm
    success_url_name = "vendor:stage_list"

    def act(self, record: Stage, data: dict[str, Any]) -> str:
        stage = stage_set_active(
            tenant=self.tenant,
            actor=self.membership,
            stage_id=record.pk,
            active=data["action"] == "activate",
        )
        return f"Stage “{stage.name}” is now {'active' if stage.is_active else 'inactive'}."


class StageDeleteView(ScopedQuerysetMixin, StageSettingsMixin, ObjectActionView):
    model = Stage
    success_url_name = "vendor:stage_list"

    def act(self, record: Stage, data: dict[str, Any]) -> str:
        stage_delete(tenant=self.tenant, actor=self.membership, stage_id=record.pk)
        return f"Stage “{record.name}” deleted."


class StageReorderView(ScopedQuerysetMixin, StageSettingsMixin, View):
    """POST stage=<id>&direction=up|down: swap an open stage with its open neighbour."""

    model = Stage
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = StageReorderForm(request.POST)
        if not form.is_valid():
            messages.error(request, first_error(form))
            return redirect("vendor:stage_list")
        stages = list(self.get_queryset().order_by("position", "pk"))
        moved = next((s for s in stages if s.pk == form.cleaned_data["stage"]), None)
        if moved is None:
            raise Http404
        order = [s.pk for s in stages if s.kind == Stage.Kind.OPEN]
        if moved.pk not in order:
            messages.error(request, "The won and lost stages stay last.")
            return redirect("vendor:stage_list")
        index = order.index(moved.pk)
        other = index - 1 if form.cleaned_data["direction"] == "up" else index + 1
        if not 0 <= other < len(order):
            end = "first" if other < 0 else "last"
            messages.error(request, f"“{moved.name}” is already the {end} open stage.")
            return redirect("vendor:stage_list")
        order[index], order[other] = order[other], order[index]
        try:
            stage_reorder(tenant=self.tenant, actor=self.membership, stage_ids=order)
        except (PermissionDenied, NotFound) as error:
            return error_page(request, error)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"“{moved.name}” moved {form.cleaned_data['direction']}.")
        return redirect("vendor:stage_list")


class PipelineRulesView(StageSettingsMixin, View):
    """POST the movement rules (the form is on the stage list)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = PipelineRulesForm(request.POST)
        form.is_valid()  # two checkboxes: absent means off, nothing can be invalid
        try:
            pipeline_rules_update(tenant=self.tenant, actor=self.membership, **form.cleaned_data)
        except (PermissionDenied, NotFound) as error:
            return error_page(request, error)
        messages.success(request, "Movement rules saved.")
        return redirect("vendor:stage_list")


class FiscalYearView(StageSettingsMixin, View):
    """POST the month the fiscal year starts in (the form is on the stage list)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = FiscalYearForm(request.POST)
        if not form.is_valid():
            messages.error(request, first_error(form))
            return redirect("vendor:stage_list")
        try:
            tenant_fiscal_year_set(
                tenant=self.tenant,
                actor=self.membership,
                month=form.cleaned_data["fiscal_year_start_month"],
            )
        except (PermissionDenied, NotFound) as error:
            return error_page(request, error)
        messages.success(request, "Fiscal year saved.")
        return redirect("vendor:stage_list")


urlpatterns = [
    path("settings/stages/", StageListView.as_view(), name="stage_list"),
    path("settings/stages/new/", StageCreateView.as_view(), name="stage_create"),
    path("settings/stages/reorder/", StageReorderView.as_view(), name="stage_reorder"),
    path("settings/stages/<int:pk>/edit/", StageEditView.as_view(), name="stage_edit"),
    path("settings/stages/<int:pk>/active/", StageActiveView.as_view(), name="stage_active"),
    path("settings/stages/<int:pk>/delete/", StageDeleteView.as_view(), name="stage_delete"),
    path("settings/rules/", PipelineRulesView.as_view(), name="pipeline_rules"),
    path("settings/fiscal-year/", FiscalYearView.as_view(), name="fiscal_year"),
]


class LostReasonListView(StageSettingsMixin, ServiceFormMixin, FormView):
    """The tenant's lost-reason codes, with a form to add one."""

    form_class = LostReasonForm
    template_name = "pipeline/settings/lost_reasons.html"
    success_message = "Lost reason “{result.label}” added."

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        reasons = LostReason.objects.for_tenant(self.tenant).order_by("-is_active", "label")
        return super().get_context_data(reasons=reasons, **kwargs)

    def perform(self, form: LostReasonForm) -> LostReason:
        return lost_reason_create(tenant=self.tenant, actor=self.membership, **form.cleaned_data)

    def get_success_url(self) -> str:
        return reverse("vendor:lost_reason_list")


class LostReasonActiveView(ScopedQuerysetMixin, StageSettingsMixin, ObjectActionView):
    model = LostReason
    form_class = StageActiveForm
    success_url_name = "vendor:lost_reason_list"

    def act(self, record: LostReason, data: dict[str, Any]) -> str:
        active = data["action"] == "activate"
        lost_reason_set_active(
            tenant=self.tenant, actor=self.membership, reason_id=record.pk, active=active
        )
        return f"“{record.label}” {'is active again' if active else 'is retired'}."


urlpatterns += [
    path("settings/lost-reasons/", LostReasonListView.as_view(), name="lost_reason_list"),
    path(
        "settings/lost-reasons/<int:pk>/active/",
        LostReasonActiveView.as_view(),
        name="lost_reason_active",
    ),
]

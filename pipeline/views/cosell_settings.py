"""Vendor admin pages of the co-sell pool: the kinds of help and their eligibility rules,
the first-contact clock, the people in the pool and their days away.

Vendor admins only (others get the 403 page); a type, pool member or period of another
tenant is a 404. Each POST is one call into pipeline/services/cosell_pool.py.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.generic import FormView

from accounts.portals import VENDOR_ADMIN, ObjectActionView, ServiceFormMixin, VendorPortalMixin
from accounts.scoping import ScopedQuerysetMixin
from pipeline.cosell_forms import (
    ClockForm,
    CoSellTypeForm,
    PoolAddForm,
    PoolEditForm,
    UnavailabilityForm,
)
from pipeline.models import CoSellResource, CoSellResourceType, CoSellUnavailability
from pipeline.selectors.cosell import cosell_resource_list, cosell_settings_get, cosell_type_list
from pipeline.services.cosell_pool import (
    cosell_resource_create,
    cosell_resource_update,
    cosell_settings_update,
    cosell_type_save,
    cosell_unavailability_add,
    cosell_unavailability_remove,
)

POOL_FIELDS = ("types", "regions", "product_lines", "weekly_capacity", "capacity_unit")


class PoolSettingsMixin(VendorPortalMixin):
    allowed_roles = VENDOR_ADMIN

    def form_kwargs_with_tenant(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs["tenant"] = self.tenant
        return kwargs


class CoSellSettingsView(PoolSettingsMixin, ServiceFormMixin, FormView):
    """The pool at a glance, with the form that adds a person."""

    template_name = "pipeline/cosell/settings.html"
    form_class = PoolAddForm
    success_message = "{result.person.user.display_name} is in the co-sell pool."

    def get_form_kwargs(self) -> dict[str, Any]:
        return self.form_kwargs_with_tenant(super().get_form_kwargs())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        clock = cosell_settings_get(tenant=self.tenant)
        return super().get_context_data(
            types=cosell_type_list(tenant=self.tenant),
            pool=list(cosell_resource_list(tenant=self.tenant)),
            clock_form=ClockForm(
                initial={
                    "sla_business_days": clock.sla_business_days,
                    "large_deal_sla_business_days": clock.large_deal_sla_business_days,
                    "large_deal_amount": clock.large_deal_amount,
                }
            ),
            currency=self.tenant.currency,
            **kwargs,
        )

    def perform(self, form: PoolAddForm) -> CoSellResource:
        data = form.cleaned_data
        return cosell_resource_create(
            tenant=self.tenant,
            actor=self.membership,
            person_id=data["person"].pk,
            **{name: data[name] for name in POOL_FIELDS},
        )

    def get_success_url(self) -> str:
        return reverse("vendor:cosell_settings")


class ClockView(PoolSettingsMixin, ServiceFormMixin, FormView):
    template_name = "pipeline/cosell/clock.html"
    form_class = ClockForm
    success_message = "The first-contact clock is saved."
    http_method_names = ["post"]

    def perform(self, form: ClockForm) -> Any:
        return cosell_settings_update(
            tenant=self.tenant, actor=self.membership, **form.cleaned_data
        )

    def get_success_url(self) -> str:
        return reverse("vendor:cosell_settings")


class TypeFormMixin(ServiceFormMixin, PoolSettingsMixin):
    form_class = CoSellTypeForm
    template_name = "pipeline/cosell/type_form.html"
    success_message = "“{result.name}” saved."
    type_id: int | None = None

    def get_form_kwargs(self) -> dict[str, Any]:
        return self.form_kwargs_with_tenant(super().get_form_kwargs())  # type: ignore[misc]

    def perform(self, form: CoSellTypeForm) -> CoSellResourceType:
        data = form.cleaned_data
        return cosell_type_save(
            tenant=self.tenant,
            actor=self.membership,
            type_id=self.type_id,
            name=data["name"],
            stage_ids=[s.pk for s in data["stages"]],
            min_amount=data["min_amount"],
            hours_per_request=data["hours_per_request"],
            is_active=data["is_active"],
        )

    def get_success_url(self) -> str:
        return reverse("vendor:cosell_settings")


class TypeCreateView(TypeFormMixin, FormView):
    pass


class TypeEditView(ScopedQuerysetMixin, TypeFormMixin, FormView):
    model = CoSellResourceType

    @cached_property
    def kind(self) -> CoSellResourceType:
        return self.get_object()  # type: ignore[return-value]

    def get_initial(self) -> dict[str, Any]:
        self.type_id = self.kind.pk
        return {
            "name": self.kind.name,
            "stages": list(self.kind.stages.all()),
            "min_amount": self.kind.min_amount,
            "hours_per_request": self.kind.hours_per_request,
            "is_active": self.kind.is_active,
        }

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self.type_id = self.kind.pk
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(kind=self.kind, **kwargs)


class PersonEditView(ScopedQuerysetMixin, PoolSettingsMixin, ServiceFormMixin, FormView):
    """A pool member's kinds of help, regions, product lines and capacity; their days away."""

    model = CoSellResource
    form_class = PoolEditForm
    template_name = "pipeline/cosell/person_form.html"
    success_message = "{result.person.user.display_name} saved."

    def refine_queryset(self, queryset: Any) -> Any:
        return cosell_resource_list(tenant=self.tenant).filter(pk__in=queryset.values("pk"))

    @cached_property
    def resource(self) -> CoSellResource:
        return self.get_object()  # type: ignore[return-value]

    def get_form_kwargs(self) -> dict[str, Any]:
        return self.form_kwargs_with_tenant(super().get_form_kwargs())

    def get_initial(self) -> dict[str, Any]:
        r = self.resource
        return {
            "types": list(r.types.all()),
            "regions": r.regions,
            "product_lines": ", ".join(r.product_lines),
            "weekly_capacity": r.weekly_capacity,
            "capacity_unit": r.capacity_unit,
            "is_active": r.is_active,
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            resource=self.resource,
            away=list(self.resource.unavailability.all()),
            away_form=UnavailabilityForm(auto_id="id_away_%s"),
            **kwargs,
        )

    def perform(self, form: PoolEditForm) -> CoSellResource:
        data = form.cleaned_data
        return cosell_resource_update(
            tenant=self.tenant,
            actor=self.membership,
            resource_id=self.resource.pk,
            is_active=data["is_active"],
            **{name: data[name] for name in POOL_FIELDS},
        )

    def get_success_url(self) -> str:
        return reverse("vendor:cosell_pool_person", args=[self.resource.pk])


class AwayAddView(ScopedQuerysetMixin, PoolSettingsMixin, ObjectActionView):
    model = CoSellResource
    form_class = UnavailabilityForm

    def act(self, record: CoSellResource, data: dict[str, Any]) -> str:
        cosell_unavailability_add(
            tenant=self.tenant, actor=self.membership, resource_id=record.pk, **data
        )
        return "Unavailability added."

    def done(self, record: CoSellResource) -> Any:
        return redirect("vendor:cosell_pool_person", pk=record.pk)


class AwayRemoveView(ScopedQuerysetMixin, PoolSettingsMixin, ObjectActionView):
    model = CoSellUnavailability

    def act(self, record: CoSellUnavailability, data: dict[str, Any]) -> str:
        cosell_unavailability_remove(tenant=self.tenant, actor=self.membership, period_id=record.pk)
        return "Unavailability removed."

    def done(self, record: CoSellUnavailability) -> Any:
        return redirect("vendor:cosell_pool_person", pk=record.resource_id)


SETTINGS = "settings/cosell/"

urlpatterns = [
    path(SETTINGS, CoSellSettingsView.as_view(), name="cosell_settings"),
    path(SETTINGS + "clock/", ClockView.as_view(), name="cosell_clock"),
    path(SETTINGS + "types/new/", TypeCreateView.as_view(), name="cosell_type_create"),
    path(SETTINGS + "types/<int:pk>/", TypeEditView.as_view(), name="cosell_type_edit"),
    path(SETTINGS + "people/<int:pk>/", PersonEditView.as_view(), name="cosell_pool_person"),
    path(SETTINGS + "people/<int:pk>/away/", AwayAddView.as_view(), name="cosell_away_add"),
    path(SETTINGS + "away/<int:pk>/remove/", AwayRemoveView.as_view(), name="cosell_away_remove"),
]

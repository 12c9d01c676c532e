"""Vendor admin settings pages of deal registration: the tenant's rules (match threshold,
review SLA, extensions), its product lines and its rejection reasons.

Vendor admins only (channel managers get the 403 page). Product lines and reasons come
through `ScopedQuerysetMixin`, so another tenant's ID is a 404; every change is one call
into deals/services/configuration.py, whose refusals are shown as form errors or messages.
The rules form and both "add" forms live on one page; an invalid one is shown there again
with its errors.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.urls import path, reverse
from django.views.generic import FormView

from accounts.portals import VENDOR_ADMIN, ObjectActionView, ServiceFormMixin, VendorPortalMixin
from accounts.scoping import ScopedQuerysetMixin
from deals.models import ProductLine, RegistrationSettings, RejectionReason
from deals.selectors import product_lines_for
from deals.services.configuration import (
    product_line_create,
    product_line_update,
    registration_settings_for,
    registration_settings_update,
    rejection_reason_create,
    rejection_reason_set_active,
)
from deals.settings_forms import (
    ActiveForm,
    ProductLineForm,
    ProductLineRenameForm,
    RegistrationRulesForm,
    RejectionReasonForm,
)

SETTINGS_URL = "vendor:registration_settings"


class RegistrationSettingsMixin(VendorPortalMixin):
    allowed_roles = VENDOR_ADMIN


class SettingsPageMixin(RegistrationSettingsMixin, ServiceFormMixin, FormView):
    """The one settings page; each subclass handles the POST of one of its forms."""

    template_name = "deals/settings/registration_settings.html"
    form_context_name = ""

    def get_success_url(self) -> str:
        return reverse(SETTINGS_URL)

    @cached_property
    def rules(self) -> RegistrationSettings:
        return registration_settings_for(self.tenant)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        forms = {
            "rules_form": RegistrationRulesForm(
                initial=RegistrationRulesForm.initial_for(self.rules), prefix="rules"
            ),
            "line_form": ProductLineForm(prefix="line"),
            "reason_form": RejectionReasonForm(prefix="reason"),
        }
        form = kwargs.pop("form", None) or self.get_form()
        forms[self.form_context_name] = form
        reasons = RejectionReason.objects.for_tenant(self.tenant).order_by("-is_active", "label")
        return super().get_context_data(
            **forms,
            product_lines=product_lines_for(tenant=self.tenant, active_only=False).order_by(
                "-is_active", "name", "id"
            ),
            reasons=reasons,
            form=form,
            **kwargs,
        )


class RegistrationSettingsView(SettingsPageMixin):
    form_class = RegistrationRulesForm
    prefix = "rules"
    form_context_name = "rules_form"
    success_message = "Registration rules saved."

    def get_initial(self) -> dict[str, Any]:
        return RegistrationRulesForm.initial_for(self.rules)

    def perform(self, form: RegistrationRulesForm) -> RegistrationSettings:
        return registration_settings_update(
            tenant=self.tenant, actor=self.membership, **form.cleaned_data
        )


class ProductLineCreateView(SettingsPageMixin):
    http_method_names = ["post"]
    form_class = ProductLineForm
    prefix = "line"
    form_context_name = "line_form"
    success_message = "Product line “{result.name}” added."

    def perform(self, form: ProductLineForm) -> ProductLine:
        return product_line_create(tenant=self.tenant, actor=self.membership, **form.cleaned_data)


class RejectionReasonCreateView(SettingsPageMixin):
    http_method_names = ["post"]
    form_class = RejectionReasonForm
    prefix = "reason"
    form_context_name = "reason_form"
    success_message = "Rejection reason “{result.label}” added."

    def perform(self, form: RejectionReasonForm) -> RejectionReason:
        return rejection_reason_create(
            tenant=self.tenant, actor=self.membership, **form.cleaned_data
        )


class ProductLineEditView(
    ScopedQuerysetMixin, RegistrationSettingsMixin, ServiceFormMixin, FormView
):
    """Rename a product line (its code never changes)."""

    model = ProductLine
    form_class = ProductLineRenameForm
    template_name = "deals/settings/product_line_form.html"
    success_message = "Product line “{result.name}” saved."

    @cached_property
    def line(self) -> ProductLine:
        return self.get_object()  # type: ignore[return-value]

    def get_initial(self) -> dict[str, Any]:
        return {"name": self.line.name}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(line=self.line, **kwargs)

    def perform(self, form: ProductLineRenameForm) -> ProductLine:
        return product_line_update(
            tenant=self.tenant,
            actor=self.membership,
            product_line_id=self.line.pk,
            name=form.cleaned_data["name"],
        )

    def get_success_url(self) -> str:
        return reverse(SETTINGS_URL)


class ActiveToggleView(ScopedQuerysetMixin, RegistrationSettingsMixin, ObjectActionView):
    """POST action=activate|deactivate: restore or retire a product line or a reason."""

    form_class = ActiveForm
    success_url_name = SETTINGS_URL

    def act(self, record: ProductLine | RejectionReason, data: dict[str, Any]) -> str:
        active = data["action"] == "activate"
        self.set_active(record, active)
        return f"“{record}” {'is active again' if active else 'is retired'}."

    def set_active(self, record: Any, active: bool) -> None:
        raise NotImplementedError


class ProductLineActiveView(ActiveToggleView):
    model = ProductLine

    def set_active(self, record: ProductLine, active: bool) -> None:
        product_line_update(
            tenant=self.tenant, actor=self.membership, product_line_id=record.pk, is_active=active
        )


class RejectionReasonActiveView(ActiveToggleView):
    model = RejectionReason

    def set_active(self, record: RejectionReason, active: bool) -> None:
        rejection_reason_set_active(
            tenant=self.tenant, actor=self.membership, reason_id=record.pk, is_active=active
        )


BASE = "settings/registrations/"

urlpatterns = [
    path(BASE, RegistrationSettingsView.as_view(), name="registration_settings"),
    path(BASE + "product-lines/", ProductLineCreateView.as_view(), name="product_line_create"),
    path(
        BASE + "product-lines/<int:pk>/edit/",
        ProductLineEditView.as_view(),
        name="product_line_edit",
    ),
    path(
        BASE + "product-lines/<int:pk>/active/",
        ProductLineActiveView.as_view(),
        name="product_line_active",
    ),
    path(
        BASE + "rejection-reasons/",
        RejectionReasonCreateView.as_view(),
        name="rejection_reason_create",
    ),
    path(
        BASE + "rejection-reasons/<int:pk>/active/",
        RejectionReasonActiveView.as_view(),
        name="rejection_reason_active",
    ),
]

"""The routing rules settings page (vendor admins): the rule chain's order and modes, the
score weights, hops, reminders and business hours. One call into
leads/services/policy.py; its refusals show as form errors."""

from __future__ import annotations

from typing import Any

from django.urls import path, reverse
from django.views.generic import FormView

from accounts.portals import VENDOR_ADMIN, ServiceFormMixin, VendorPortalMixin
from leads.forms import RoutingPolicyForm
from leads.models import RoutingPolicy
from leads.services.policy import routing_policy_for, routing_policy_update


class RoutingSettingsView(VendorPortalMixin, ServiceFormMixin, FormView):
    allowed_roles = VENDOR_ADMIN
    template_name = "leads/routing_settings.html"
    form_class = RoutingPolicyForm

    def get_initial(self) -> dict[str, Any]:
        return RoutingPolicyForm.initial_for(routing_policy_for(self.tenant))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["policy"] = routing_policy_for(self.tenant)
        return context

    def perform(self, form: RoutingPolicyForm) -> RoutingPolicy:
        return routing_policy_update(
            tenant=self.tenant, actor=self.membership, **form.service_changes()
        )

    def get_success_message(self, result: RoutingPolicy) -> str:
        return f"Routing rules saved as version {result.version}."

    def get_success_url(self) -> str:
        return reverse("vendor:routing_settings")


urlpatterns = [path("settings/routing/", RoutingSettingsView.as_view(), name="routing_settings")]

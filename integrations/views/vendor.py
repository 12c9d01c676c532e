"""Vendor settings pages of outbound webhooks (vendor admins only): endpoints, their
deliveries and attempts, and the buttons that rotate, ping, disable, enable, redeliver.

Rows come through `ScopedQuerysetMixin`, so another tenant's endpoint or delivery is a
404; every change is one call into integrations/services.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.generic import DetailView, FormView

from accounts.portals import VENDOR_ADMIN, ObjectActionView, ServiceFormMixin, VendorPortalMixin
from accounts.scoping import ScopedQuerysetMixin
from integrations import selectors
from integrations.forms import EndpointForm, EndpointStatusForm, RedeliverFailedForm
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.services import deliveries, endpoints

DELIVERIES_SHOWN = 50


class WebhookSettingsMixin(VendorPortalMixin):
    allowed_roles = VENDOR_ADMIN


def needs_attention(endpoint: WebhookEndpoint) -> tuple[bool, bool, int]:
    return (endpoint.status == "active", not endpoint.failed_count, -endpoint.pk)  # type: ignore[attr-defined]


class WebhookListView(WebhookSettingsMixin, ServiceFormMixin, FormView):
    """The endpoints (disabled and failing ones first) and the form to register one."""

    form_class = EndpointForm
    template_name = "integrations/webhook_list.html"
    success_message = "Endpoint registered. Verify deliveries with the signing secret below."

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        rows = selectors.webhook_endpoint_list_for(membership=self.membership)
        return super().get_context_data(endpoints=sorted(rows, key=needs_attention), **kwargs)

    def perform(self, form: EndpointForm) -> WebhookEndpoint:
        self.created = endpoints.webhook_endpoint_create(
            tenant=self.tenant, actor=self.membership, **form.cleaned_data
        )
        return self.created

    def get_success_url(self) -> str:
        return reverse("vendor:webhook_detail", args=[self.created.pk])


class WebhookDetailView(ScopedQuerysetMixin, WebhookSettingsMixin, DetailView):
    """One endpoint: its secret, actions, and its latest deliveries (`?status=`)."""

    model = WebhookEndpoint
    template_name = "integrations/webhook_detail.html"
    context_object_name = "endpoint"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        status = self.request.GET.get("status", "")
        rows = selectors.webhook_delivery_list_for(membership=self.membership).filter(
            endpoint=self.object
        )
        if status in WebhookDelivery.Status.values:
            rows = rows.filter(status=status)
        return super().get_context_data(
            deliveries=list(rows[:DELIVERIES_SHOWN]),
            status=status,
            statuses=WebhookDelivery.Status.choices,
            redeliver_form=RedeliverFailedForm(),
            **kwargs,
        )


class WebhookEditView(ScopedQuerysetMixin, WebhookSettingsMixin, ServiceFormMixin, FormView):
    """Change an endpoint's URL, event types and description (validated and audited like
    the API's PATCH; the secret stays)."""

    model = WebhookEndpoint
    form_class = EndpointForm
    template_name = "integrations/webhook_edit.html"
    success_message = "Endpoint saved."

    @cached_property
    def endpoint(self) -> WebhookEndpoint:
        return self.get_object()  # type: ignore[return-value]

    def get_initial(self) -> dict[str, Any]:
        endpoint = self.endpoint
        return {
            "url": endpoint.url,
            "event_types": endpoint.event_types,
            "description": endpoint.description,
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(endpoint=self.endpoint, **kwargs)

    def perform(self, form: EndpointForm) -> WebhookEndpoint:
        return endpoints.webhook_endpoint_update(
            tenant=self.tenant,
            actor=self.membership,
            endpoint_id=self.endpoint.pk,
            **form.cleaned_data,
        )

    def get_success_url(self) -> str:
        return reverse("vendor:webhook_detail", args=[self.endpoint.pk])


class WebhookDeliveryView(ScopedQuerysetMixin, WebhookSettingsMixin, DetailView):
    """One delivery: the body sent and every attempt (status, latency, answer)."""

    model = WebhookDelivery
    template_name = "integrations/webhook_delivery.html"
    context_object_name = "delivery"

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("endpoint")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        attempts = selectors.webhook_attempt_list(delivery=self.object)
        return super().get_context_data(attempts=attempts, **kwargs)


class EndpointActionView(ScopedQuerysetMixin, WebhookSettingsMixin, ObjectActionView):
    model = WebhookEndpoint

    def done(self, record: WebhookEndpoint) -> HttpResponse:
        return redirect("vendor:webhook_detail", record.pk)


class WebhookRotateView(EndpointActionView):
    def act(self, record: WebhookEndpoint, data: dict[str, Any]) -> str:
        endpoints.webhook_endpoint_rotate_secret(
            tenant=self.tenant, actor=self.membership, endpoint_id=record.pk
        )
        return "New signing secret. The previous one also signs for the next 24 hours."


class WebhookPingView(EndpointActionView):
    def act(self, record: WebhookEndpoint, data: dict[str, Any]) -> str:
        deliveries.webhook_endpoint_ping(
            tenant=self.tenant, actor=self.membership, endpoint_id=record.pk
        )
        return "Test message queued: it appears in the deliveries below."


class WebhookStatusView(EndpointActionView):
    form_class = EndpointStatusForm

    def act(self, record: WebhookEndpoint, data: dict[str, Any]) -> str:
        change = (
            endpoints.webhook_endpoint_enable
            if data["action"] == "enable"
            else endpoints.webhook_endpoint_disable
        )
        change(tenant=self.tenant, actor=self.membership, endpoint_id=record.pk)
        return f"Endpoint {'enabled' if data['action'] == 'enable' else 'disabled'}."


class WebhookDeleteView(EndpointActionView):
    def act(self, record: WebhookEndpoint, data: dict[str, Any]) -> str:
        count = endpoints.webhook_endpoint_delete(
            tenant=self.tenant, actor=self.membership, endpoint_id=record.pk
        )
        noun = "delivery" if count == 1 else "deliveries"
        return f"Endpoint {record.url} deleted with its {count} {noun}."

    def done(self, record: WebhookEndpoint) -> HttpResponse:
        if WebhookEndpoint.objects.filter(pk=record.pk).exists():  # refused: still there
            return redirect("vendor:webhook_detail", record.pk)
        return redirect("vendor:webhook_list")


class WebhookRedeliverFailedView(EndpointActionView):
    form_class = RedeliverFailedForm

    def act(self, record: WebhookEndpoint, data: dict[str, Any]) -> str:
        count = deliveries.webhook_redeliver_failed(
            tenant=self.tenant, actor=self.membership, since=data["since"], endpoint_id=record.pk
        )
        return f"{count} failed deliver{'y' if count == 1 else 'ies'} queued again."


class WebhookRedeliverView(ScopedQuerysetMixin, WebhookSettingsMixin, ObjectActionView):
    model = WebhookDelivery

    @cached_property
    def back(self) -> str:
        return self.request.POST.get("back", "")

    def act(self, record: WebhookDelivery, data: dict[str, Any]) -> str:
        deliveries.webhook_redeliver(
            tenant=self.tenant, actor=self.membership, delivery_id=record.pk
        )
        return f"Message {record.message_id} queued again."

    def done(self, record: WebhookDelivery) -> HttpResponse:
        if self.back == "delivery":
            return redirect("vendor:webhook_delivery", record.pk)
        return redirect("vendor:webhook_detail", record.endpoint_id)


BASE = "settings/webhooks/"
urlpatterns = [
    path(BASE, WebhookListView.as_view(), name="webhook_list"),
    path(f"{BASE}<int:pk>/", WebhookDetailView.as_view(), name="webhook_detail"),
    path(f"{BASE}<int:pk>/edit/", WebhookEditView.as_view(), name="webhook_edit"),
    path(f"{BASE}<int:pk>/delete/", WebhookDeleteView.as_view(), name="webhook_delete"),
    path(f"{BASE}<int:pk>/rotate/", WebhookRotateView.as_view(), name="webhook_rotate"),
    path(f"{BASE}<int:pk>/ping/", WebhookPingView.as_view(), name="webhook_ping"),
    path(f"{BASE}<int:pk>/status/", WebhookStatusView.as_view(), name="webhook_status"),
    path(
        f"{BASE}<int:pk>/redeliver-failed/",
        WebhookRedeliverFailedView.as_view(),
        name="webhook_redeliver_failed",
    ),
    path(f"{BASE}deliveries/<int:pk>/", WebhookDeliveryView.as_view(), name="webhook_delivery"),
    path(
        f"{BASE}deliveries/<int:pk>/redeliver/",
        WebhookRedeliverView.as_view(),
        name="webhook_redeliver",
    ),
]

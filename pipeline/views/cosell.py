"""Vendor pages of co-sell: the queue by first-contact clock, the pool's workload and one
person's workload. Actions from the queue come back to the queue.

Vendor people only (partners get the 403 page); a request or pool member of another
tenant is a 404 (`ScopedQuerysetMixin`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.views.generic import DetailView, TemplateView

from accounts.portals import VendorPortalMixin
from accounts.scoping import ScopedQuerysetMixin
from pipeline.forms import CoSellAssignForm
from pipeline.models import CoSellRequest, CoSellResource
from pipeline.selectors.cosell import (
    cosell_queue,
    cosell_queue_summary,
    cosell_resource_list,
    cosell_utilization,
)
from pipeline.views.vendor import (
    CoSellAssignView,
    CoSellDeclineView,
    CoSellEngageView,
)

WORKLOAD_WEEKS = 4


class CoSellQueueView(VendorPortalMixin, TemplateView):
    """Open requests, overdue first then by first-contact deadline, with the deal's money."""

    template_name = "pipeline/cosell/queue.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        since = timezone.now() - timedelta(days=30)
        requests = list(cosell_queue(tenant=self.tenant, membership=self.membership)[:200])
        now = timezone.now()
        for item in requests:
            item.overdue = item.sla_due_at is not None and item.sla_due_at < now
        return super().get_context_data(
            requests=requests,
            summary=cosell_queue_summary(tenant=self.tenant, since=since),
            assign_choices=list(CoSellAssignForm(tenant=self.tenant).fields["person"].choices),
            currency=self.tenant.currency,
            **kwargs,
        )


class QueueActionMixin:
    """An action on a request from the queue: any of the tenant's requests, back to the
    queue afterwards."""

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset

    def done(self, record: CoSellRequest) -> Any:
        return redirect("vendor:cosell_queue")


class QueueAssignView(QueueActionMixin, CoSellAssignView):
    pass


class QueueEngageView(QueueActionMixin, CoSellEngageView):
    pass


class QueueDeclineView(QueueActionMixin, CoSellDeclineView):
    pass


def _weeks_back(weeks: int) -> tuple[Any, Any]:
    today = timezone.localdate()
    return today - timedelta(days=7 * (weeks - 1)), today


class CoSellWorkloadView(VendorPortalMixin, TemplateView):
    """Capacity against load of every pool member and kind of help over recent weeks."""

    template_name = "pipeline/cosell/workload.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        since, until = _weeks_back(WORKLOAD_WEEKS)
        utilization = cosell_utilization(self.tenant, since, until)
        weeks = [w.week for w in utilization.people[0].weeks] if utilization.people else []
        return super().get_context_data(utilization=utilization, weeks=weeks, **kwargs)


class CoSellPersonView(VendorPortalMixin, ScopedQuerysetMixin, DetailView):
    """One pool member: capacity against load per week, and what they work on now."""

    model = CoSellResource
    template_name = "pipeline/cosell/person.html"
    context_object_name = "resource"

    def refine_queryset(self, queryset: Any) -> Any:
        return cosell_resource_list(tenant=self.tenant).filter(pk__in=queryset.values("pk"))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        since, until = _weeks_back(WORKLOAD_WEEKS)
        utilization = cosell_utilization(self.tenant, since, until)
        mine = next((p for p in utilization.people if p.resource.pk == self.object.pk), None)
        work = (
            CoSellRequest.objects.for_tenant(self.tenant)
            .filter(assigned_resource=self.object, status__in=CoSellRequest.OPEN_STATUSES)
            .select_related("opportunity", "resource_type")
            .order_by("sla_due_at", "id")
        )
        return super().get_context_data(person=mine, work=list(work), **kwargs)


COSELL = "cosell/"

urlpatterns = [
    path(COSELL, CoSellQueueView.as_view(), name="cosell_queue"),
    path(COSELL + "<int:request_pk>/assign/", QueueAssignView.as_view(), name="queue_assign"),
    path(COSELL + "<int:request_pk>/engage/", QueueEngageView.as_view(), name="queue_engage"),
    path(COSELL + "<int:request_pk>/decline/", QueueDeclineView.as_view(), name="queue_decline"),
    path(COSELL + "workload/", CoSellWorkloadView.as_view(), name="cosell_workload"),
    path(COSELL + "people/<int:pk>/", CoSellPersonView.as_view(), name="cosell_person"),
]

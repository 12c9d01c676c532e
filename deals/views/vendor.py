"""Vendor portal pages of deal registration: the review queue with its SLA clock and the
other lists, one registration beside what screening found, and the decisions on it.

Channel managers and vendor admins see every registration of their tenant; another
tenant's registration (or extension) is a 404 (`ScopedQuerysetMixin`). Each POST is one
service call from deals/services/decisions.py; a refused transition becomes an error
message and changes nothing. Reverting a decision is for vendor admins only.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.views import View
from django.views.generic import DetailView, ListView

from accounts.errors import ApplicationError, NotFound, PermissionDenied
from accounts.models import Role
from accounts.portals import (
    VENDOR_ADMIN,
    ObjectActionView,
    VendorPortalMixin,
    error_page,
    first_error,
)
from accounts.scoping import ScopedQuerysetMixin
from deals.decision_forms import (
    ApproveAnywayForm,
    ApproveForm,
    BulkApproveForm,
    ExtensionDeclineForm,
    MarkDuplicateForm,
    RejectForm,
    RequestInfoForm,
    RevertForm,
)
from deals.home import protection_ends_window
from deals.models import DealRegistration, Extension, RejectionReason
from deals.selectors import (
    later_conflicts,
    later_finding_views,
    next_in_queue,
    protection_days_left,
    queue_groups,
    registration_extensions,
    registration_findings,
    registration_list_for,
    registration_status_counts,
    registration_timeline,
    review_queue,
)
from deals.services.blocking import protection_blockers
from deals.services.configuration import registration_settings_for
from deals.services.decisions import (
    extension_decline,
    extension_grant,
    registration_approve,
    registration_bulk_approve,
    registration_mark_duplicate,
    registration_reject,
    registration_request_info,
    registration_revert,
)
from deals.views.partner import decision_label

Status = DealRegistration.Status
# Tabs of the registration list: (label, statuses shown; None: all but drafts).
TABS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "review": ("In review", (Status.IN_REVIEW,)),
    "info_requested": ("Information requested", (Status.INFO_REQUESTED,)),
    "approved": ("Approved", (Status.APPROVED,)),
    "rejected": ("Rejected", (Status.REJECTED,)),
    "all": ("All", None),
}
PAGE_SIZE = 25
QUEUE_LIMIT = 200
REVERTIBLE = (Status.APPROVED, Status.REJECTED)
STATUS_LABELS = dict(Status.choices)


class RegistrationQueueView(VendorPortalMixin, ListView):
    """`?tab=review` (default): the review queue, longest waiting first, with the SLA clock
    and bulk approval. Other tabs: newest first, paged by id (`?after=`)."""

    template_name = "deals/vendor_registration_queue.html"
    context_object_name = "registrations"

    @property
    def tab(self) -> str:
        tab = self.request.GET.get("tab", "review")
        return tab if tab in TABS else "review"

    def get_queryset(self) -> Any:
        if self.tab == "review":
            return review_queue(membership=self.membership, limit=QUEUE_LIMIT)
        statuses = TABS[self.tab][1]
        rows = registration_list_for(membership=self.membership).annotate(
            finding_count=Count("findings")
        )
        if self.request.GET.get("protection_ends") == "week":  # the vendor home's link
            rows = rows.filter(protected_until__range=protection_ends_window())
        rows = rows.exclude(status=Status.DRAFT) if statuses is None else rows
        return rows.filter(status__in=statuses) if statuses is not None else rows

    def narrowed(self) -> str:
        """What the vendor home's links narrow the list to ("" when not narrowed)."""
        if self.tab == "review" and self.request.GET.get("overdue") == "1":
            return "reviews past the SLA"
        if self.request.GET.get("protection_ends") == "week":
            return "protections ending this week"
        return ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = {
            "narrowed": self.narrowed(),
            "tab": self.tab,
            "tabs": self.tabs_with_counts(),
        }
        if self.tab == "review":
            items = self.object_list
            if self.request.GET.get("overdue") == "1":  # the vendor home's link
                items = [item for item in items if item.overdue]
            context.update(
                items=items,
                groups=queue_groups(items),
                sla_hours=registration_settings_for(self.tenant).review_sla_hours,
                queue_full=len(items) >= QUEUE_LIMIT,
                overdue_count=sum(1 for item in items if item.overdue),
            )
        else:
            after = self.request.GET.get("after", "")
            rows = self.object_list
            if after.isdigit():
                rows = rows.filter(pk__lt=int(after))
            page = list(rows.order_by("-pk")[: PAGE_SIZE + 1])
            context.update(
                rows=page[:PAGE_SIZE],
                next_after=page[PAGE_SIZE - 1].pk if len(page) > PAGE_SIZE else None,
                is_first_page=not after.isdigit(),
            )
        self.object_list = []  # the template reads `items` or `rows`
        return super().get_context_data(**context, **kwargs)

    def tabs_with_counts(self) -> list[tuple[str, str, int]]:
        """(key, label, how many registrations the tab lists), from one query."""
        counts = registration_status_counts(membership=self.membership)
        return [
            (
                key,
                label,
                sum(counts.values())
                if statuses is None
                else sum(counts.get(status, 0) for status in statuses),
            )
            for key, (label, statuses) in TABS.items()
        ]


class BulkApproveView(VendorPortalMixin, View):
    """POST registration=<id>&registration=<id>…: approve those without findings."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = BulkApproveForm(request.POST)
        if not form.is_valid():
            messages.error(request, first_error(form))
            return redirect("vendor:registration_queue")
        try:
            result = registration_bulk_approve(
                tenant=self.tenant,
                actor=self.membership,
                registration_ids=form.cleaned_data["registration"],
                note=form.cleaned_data["note"],
            )
        except (PermissionDenied, NotFound) as error:
            return error_page(request, error)
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("vendor:registration_queue")
        names = self.customer_names([*result.approved, *result.skipped])
        if result.approved:
            listed = ", ".join(names.get(pk, f"#{pk}") for pk in result.approved)
            count = len(result.approved)
            messages.success(
                request, f"Approved {count} registration{'s' * (count != 1)}: {listed}."
            )
        for pk, reason in result.skipped.items():
            messages.warning(request, f"Skipped {names.get(pk, f'#{pk}')}: {reason}")
        return redirect("vendor:registration_queue")

    def customer_names(self, ids: list[int]) -> dict[int, str]:
        rows = DealRegistration.objects.visible_to(self.membership).filter(pk__in=ids)
        return {pk: f"#{pk} {name}" for pk, name in rows.values_list("pk", "customer_name")}


class RegistrationDetailView(ScopedQuerysetMixin, VendorPortalMixin, DetailView):
    """The registration beside each finding's other record, the decisions the actor may
    take, extension requests, the timeline and the opportunity approval opened."""

    model = DealRegistration
    template_name = "deals/vendor_registration_detail.html"
    context_object_name = "registration"

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.select_related(
            "partner", "partner__tier", "owner", "decided_by", "opportunity", "duplicate_of"
        ).prefetch_related("product_lines")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        registration: DealRegistration = self.object
        membership = self.membership
        settings = registration_settings_for(self.tenant)
        extensions = registration_extensions(registration=registration)
        in_review = registration.status == Status.IN_REVIEW
        duplicate_form = MarkDuplicateForm(
            tenant=self.tenant, registration_id=registration.pk, auto_id="id_duplicate_%s"
        )
        reasons = dict(RejectionReason.objects.for_tenant(self.tenant).values_list("code", "label"))
        later = later_conflicts(registration=registration, membership=membership)
        context = {
            "findings": registration_findings(registration=registration, membership=membership),
            "later_conflicts": later,
            "later_findings": later_finding_views(later, tenant_id=self.tenant.pk),
            "timeline": timeline_entries(registration, membership, reasons),
            "decision_label": decision_label(registration.decision_code, reasons),
            "extensions": extensions,
            "days_left": protection_days_left(registration),
            "settings": settings,
            "in_review": in_review,
            "can_revert": membership.role == Role.VENDOR_ADMIN
            and registration.status in REVERTIBLE,
            "can_grant": registration.status == Status.APPROVED
            and registration.extensions_granted < settings.max_extensions,
            "open_extension": next(
                (e for e in extensions if e.status == Extension.Status.REQUESTED), None
            ),
            "approval_blockers": protection_blockers(registration) if in_review else [],
            "approve_form": ApproveForm(tenant=self.tenant, auto_id="id_approve_%s"),
            "approve_anyway_form": ApproveAnywayForm(
                tenant=self.tenant, auto_id="id_approve_anyway_%s"
            ),
            "reject_form": RejectForm(tenant=self.tenant, auto_id="id_reject_%s"),
            "info_form": RequestInfoForm(tenant=self.tenant, auto_id="id_info_%s"),
            "duplicate_form": duplicate_form,
            "has_originals": len(duplicate_form.fields["original"].choices) > 1,
            "revert_form": RevertForm(tenant=self.tenant, auto_id="id_revert_%s"),
            "decline_form": ExtensionDeclineForm(tenant=self.tenant, auto_id="id_decline_%s"),
            **self.next_in_queue(registration),
        }
        return super().get_context_data(**context, **kwargs)

    def next_in_queue(self, registration: DealRegistration) -> dict[str, Any]:
        """Once decided (or out of review), the next registration waiting, by the queue's
        order; none in review: the template leads back to the queue."""
        if registration.status == Status.IN_REVIEW:
            return {"offer_next": False, "next_in_queue": None}
        following = next_in_queue(membership=self.membership, after=registration)
        return {"offer_next": True, "next_in_queue": following}


def timeline_entries(
    registration: DealRegistration, membership: Any, reasons: dict[str, str]
) -> list[Any]:
    """The timeline with readable labels for the verb, statuses and reason."""
    events = registration_timeline(registration=registration, membership=membership)
    for event in events:
        event.label = event.get_verb_display()
        event.reason_label = decision_label(event.reason_code, reasons) if event.reason_code else ""
        event.from_label = STATUS_LABELS.get(event.from_status, "New")
        event.to_label = STATUS_LABELS.get(event.to_status, event.to_status)
    return events


# --- Decisions ---------------------------------------------------------------------------------


class RegistrationAction(ScopedQuerysetMixin, VendorPortalMixin, ObjectActionView):
    """A POST on one registration: a small form, one service call, a message, back to it."""

    model = DealRegistration
    action_form: Any = None

    @property
    def form_class(self) -> Any:  # type: ignore[override]
        return partial(self.action_form, tenant=self.tenant)

    def done(self, record: Any) -> HttpResponse:
        return redirect("vendor:registration_detail", pk=self.registration_id(record))

    def registration_id(self, record: Any) -> int:
        return record.pk

    def service_kwargs(self, record: Any) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "actor": self.membership,
            "registration_id": self.registration_id(record),
        }


class ApproveView(RegistrationAction):
    """Approve; with `override_reason` (the "approve anyway" form), beside another
    partner's protection. A blocked approval is refused with the blocking finding."""

    @property
    def action_form(self) -> Any:  # type: ignore[override]
        return ApproveAnywayForm if "override_reason" in self.request.POST else ApproveForm

    def act(self, record: DealRegistration, data: dict[str, Any]) -> str:
        registration = registration_approve(
            **self.service_kwargs(record),
            note=data["note"],
            override_reason=data.get("override_reason", ""),
        )
        alongside = registration.get_override_reason_display().lower()
        return (
            f"Approved{f' alongside an earlier registration ({alongside})' if alongside else ''}"
            f": {registration.customer_name} is protected until "
            f"{registration.protected_until:%Y-%m-%d}."
        )


class RejectView(RegistrationAction):
    action_form = RejectForm

    def act(self, record: DealRegistration, data: dict[str, Any]) -> str:
        registration_reject(
            **self.service_kwargs(record),
            reason_code=data["reason_code"],
            message=data["message"],
        )
        return "Rejected; the partner is told the reason."


class RequestInfoView(RegistrationAction):
    action_form = RequestInfoForm

    def act(self, record: DealRegistration, data: dict[str, Any]) -> str:
        registration_request_info(**self.service_kwargs(record), message=data["message"])
        return "Sent back to the partner for more information."


class MarkDuplicateView(RegistrationAction):
    action_form = MarkDuplicateForm

    @property
    def form_class(self) -> Any:  # type: ignore[override]
        return partial(
            MarkDuplicateForm, tenant=self.tenant, registration_id=int(self.kwargs["pk"])
        )

    def act(self, record: DealRegistration, data: dict[str, Any]) -> str:
        registration_mark_duplicate(
            **self.service_kwargs(record), original_id=data["original"], message=data["message"]
        )
        return f"Rejected as a duplicate of registration #{data['original']}."


class RevertView(RegistrationAction):
    write_roles = VENDOR_ADMIN
    action_form = RevertForm

    def act(self, record: DealRegistration, data: dict[str, Any]) -> str:
        registration_revert(**self.service_kwargs(record), note=data["note"])
        return "The decision is reverted: the registration is in review again."


class ExtensionAction(RegistrationAction):
    """A decision on one extension request of the registration in the URL."""

    model = Extension  # type: ignore[assignment]
    lookup_url_kwarg = "ext_pk"

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.filter(registration_id=self.kwargs["pk"])

    def registration_id(self, record: Any) -> int:
        return record.registration_id


class ExtensionGrantView(ExtensionAction):
    @property
    def form_class(self) -> Any:  # type: ignore[override]
        return None

    def act(self, record: Extension, data: dict[str, Any]) -> str:
        extension = extension_grant(**self.service_kwargs(record), extension_id=record.pk)
        return f"Extension granted: {extension.days_added} more days of protection."


class ExtensionDeclineView(ExtensionAction):
    action_form = ExtensionDeclineForm

    def act(self, record: Extension, data: dict[str, Any]) -> str:
        extension_decline(
            **self.service_kwargs(record), extension_id=record.pk, reason=data["reason"]
        )
        return "Extension declined; the partner is told."


REGISTRATION = "registrations/<int:pk>/"
EXTENSION = REGISTRATION + "extensions/<int:ext_pk>/"

urlpatterns = [
    path("registrations/", RegistrationQueueView.as_view(), name="registration_queue"),
    path(
        "registrations/bulk-approve/",
        BulkApproveView.as_view(),
        name="registration_bulk_approve",
    ),
    path(REGISTRATION, RegistrationDetailView.as_view(), name="registration_detail"),
    path(REGISTRATION + "approve/", ApproveView.as_view(), name="registration_approve"),
    path(REGISTRATION + "reject/", RejectView.as_view(), name="registration_reject"),
    path(
        REGISTRATION + "request-info/", RequestInfoView.as_view(), name="registration_request_info"
    ),
    path(
        REGISTRATION + "mark-duplicate/",
        MarkDuplicateView.as_view(),
        name="registration_mark_duplicate",
    ),
    path(REGISTRATION + "revert/", RevertView.as_view(), name="registration_revert"),
    path(EXTENSION + "grant/", ExtensionGrantView.as_view(), name="extension_grant"),
    path(EXTENSION + "decline/", ExtensionDeclineView.as_view(), name="extension_decline"),
]

"""Partner portal pages of deal registration: my registrations, the guided form (with its
live "similar registrations exist" hint), a registration's page, and the actions on it.

A partner rep sees the registrations they submitted; a partner admin the organization's
(`DealRegistration.owner_scope_field`). Another partner's or tenant's registration is a 404.
What screening found is told by its kind, product lines and the date the first
registration was made — never the other partner or its record.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.generic import DetailView, FormView, TemplateView

from accounts.errors import ValidationFailed
from accounts.portals import (
    FilteredListView,
    ObjectActionView,
    PartnerPortalMixin,
    ServiceFormMixin,
)
from accounts.scoping import ScopedQuerysetMixin
from deals.forms import (
    SUBMIT,
    ExtensionRequestForm,
    PartnerRegistrationFilter,
    RegistrationForm,
    SimilarCustomerForm,
    WithdrawForm,
)
from deals.models import DealRegistration, Extension, Finding, RegistrationEvent, RejectionReason
from deals.selectors import (
    WAITING,
    product_lines_for,
    protection_days_left,
    registration_extensions,
    registration_findings,
    registration_list_for,
    registration_review_wait,
    registration_timeline,
    similar_registration_kinds,
)
from deals.services.configuration import registration_settings_for
from deals.services.registrations import (
    EDITABLE_STATUSES,
    extension_request,
    registration_create,
    registration_submit,
    registration_update,
    registration_withdraw,
)

Status = DealRegistration.Status
WITHDRAWABLE = (Status.DRAFT, *DealRegistration.LIVE)
DECISION_LABELS = {
    "approved": "Approved",
    "info_requested": "Information requested",
    "duplicate": "Duplicate",
}
SIMILAR_TEXTS = {
    Finding.Kind.DUPLICATE: "You or your organization already registered a similar customer.",
    Finding.Kind.PARTNER_CONFLICT: (
        "Another partner has a live registration for a similar customer."
    ),
}


@dataclass(frozen=True)
class RegistrationRow:
    registration: DealRegistration
    days_left: int | None


@dataclass(frozen=True)
class TimelineEntry:
    event: RegistrationEvent
    label: str
    reason: str


def detail_url(registration_id: int) -> str:
    return reverse("partner:registration_detail", args=[registration_id])


# --- List ------------------------------------------------------------------------------------


class RegistrationListView(PartnerPortalMixin, FilteredListView):
    template_name = "deals/partner_registration_list.html"
    filterset_class = PartnerRegistrationFilter
    context_object_name = "registrations"

    def get_queryset(self) -> Any:
        return self.apply_filters(registration_list_for(membership=self.membership))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rows"] = [
            RegistrationRow(registration, protection_days_left(registration))
            for registration in context["object_list"]
        ]
        return context


# --- The guided form -------------------------------------------------------------------------


class RegistrationFormMixin(ServiceFormMixin):
    """Both "Save draft" and "Submit registration" post the whole form."""

    form_class = RegistrationForm
    template_name = "deals/partner_registration_form.html"
    similar_hint = True

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "tenant": self.tenant}  # type: ignore[misc]

    def get_form(self, form_class: Any = None) -> RegistrationForm:
        form: RegistrationForm = super().get_form(form_class)  # type: ignore[misc]
        if self.similar_hint:
            similar_hint_attrs(form)
        return form

    @property
    def submitting(self) -> bool:
        return self.request.POST.get("action") == SUBMIT

    def get_success_message(self, result: DealRegistration) -> str:
        if result.status == Status.SUBMITTED:
            return f"Registration for {result.customer_name} submitted; screening is under way."
        return f"Draft for {result.customer_name} saved."

    def get_success_url(self) -> str:
        return detail_url(self.saved.pk)

    saved: DealRegistration


def similar_hint_attrs(form: RegistrationForm) -> None:
    """Ask the server, while the customer is typed, whether similar registrations exist."""
    url = reverse("partner:registration_similar")
    include = "#id_customer_name, #id_customer_website, #id_customer_country"
    for name, trigger in (
        ("customer_name", "input changed delay:400ms"),
        ("customer_website", "change"),
        ("customer_country", "change"),
    ):
        form.fields[name].widget.attrs.update(
            {
                "hx-get": url,
                "hx-trigger": trigger,
                "hx-target": "#similar-hint",
                "hx-include": include,
            }
        )
    form.fields["customer_name"].widget.attrs["aria-describedby"] = "similar-hint"


class RegistrationCreateView(PartnerPortalMixin, RegistrationFormMixin, FormView):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            title="Register a deal", cancel_url=reverse("partner:registration_list"), **kwargs
        )

    def perform(self, form: RegistrationForm) -> DealRegistration:
        self.saved = registration_create(
            tenant=self.tenant,
            actor=self.membership,
            submit=self.submitting,
            **form.service_fields(),
        )
        return self.saved


class RegistrationEditView(
    ScopedQuerysetMixin, PartnerPortalMixin, RegistrationFormMixin, FormView
):
    """A draft, or a registration the vendor asked more about; saved, or saved and submitted
    in one transaction (a refused submission keeps nothing)."""

    model = DealRegistration

    @cached_property
    def registration(self) -> DealRegistration:
        return self.get_object()  # type: ignore[return-value]

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.registration.status not in EDITABLE_STATUSES:
            status = self.registration.get_status_display().lower()
            messages.error(request, f"A registration that is {status} cannot be edited.")
            return redirect(detail_url(self.registration.pk))
        return super().get(request, *args, **kwargs)

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        self.registration  # noqa: B018  (404 before the form is read)
        return super().post(request, *args, **kwargs)

    @property
    def similar_hint(self) -> bool:  # type: ignore[override]
        # A live registration would find itself.
        return self.registration.status == Status.DRAFT

    def get_initial(self) -> dict[str, Any]:
        return RegistrationForm.initial_for(self.registration)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            title=f"Edit the registration for {self.registration.customer_name}",
            registration=self.registration,
            cancel_url=detail_url(self.registration.pk),
            **kwargs,
        )

    @transaction.atomic
    def perform(self, form: RegistrationForm) -> DealRegistration:
        kwargs = {"tenant": self.tenant, "actor": self.membership}
        pk = self.registration.pk
        self.saved = registration_update(**kwargs, registration_id=pk, **form.service_fields())
        if self.submitting:
            self.saved = registration_submit(**kwargs, registration_id=pk)
        return self.saved


class SimilarRegistrationsView(PartnerPortalMixin, TemplateView):
    """The form's hint (an htmx partial): the kinds of similar live registrations only."""

    template_name = "deals/partials/partner_similar.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = SimilarCustomerForm(self.request.GET)
        kinds: list[str] = []
        if form.is_valid():
            kinds = similar_registration_kinds(
                membership=self.membership,
                customer_name=form.cleaned_data["customer_name"],
                website=form.cleaned_data["customer_website"],
                country=form.cleaned_data["customer_country"].upper(),
            )
        return super().get_context_data(
            hints=[SIMILAR_TEXTS[kind] for kind in kinds if kind in SIMILAR_TEXTS], **kwargs
        )


# --- A registration's page -----------------------------------------------------------------


class RegistrationDetailView(ScopedQuerysetMixin, PartnerPortalMixin, DetailView):
    model = DealRegistration
    template_name = "deals/partner_registration_detail.html"
    context_object_name = "registration"

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("opportunity", "owner", "partner__tier").prefetch_related(
            "product_lines"
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        registration: DealRegistration = self.object
        extensions = registration_extensions(registration=registration)
        reasons = dict(RejectionReason.objects.for_tenant(self.tenant).values_list("code", "label"))
        context = {
            "findings": self.findings(registration),
            "timeline": self.timeline(registration, reasons),
            "extensions": extensions,
            "days_left": protection_days_left(registration),
            "decision_label": decision_label(registration.decision_code, reasons),
            "can": self.permitted(registration, extensions),
            "withdraw_form": WithdrawForm(auto_id="id_withdraw_%s"),
            "extension_form": ExtensionRequestForm(auto_id="id_extension_%s"),
            **review_status_context(registration, self.membership),
        }
        return super().get_context_data(**context, **kwargs)

    def findings(self, registration: DealRegistration) -> list[Any]:
        """Kind, product lines (by name) and first-registered date; nothing of the other."""
        names = dict(
            product_lines_for(tenant=self.tenant, active_only=False).values_list("code", "name")
        )
        return [
            {
                "kind": finding.kind,
                "kind_label": finding.kind_label,
                "score": finding.score,
                "product_lines": [names.get(code, code) for code in finding.product_lines],
                "first_registered_at": finding.first_registered_at,
            }
            for finding in registration_findings(
                registration=registration, membership=self.membership
            )
        ]

    def timeline(
        self, registration: DealRegistration, reasons: dict[str, str]
    ) -> list[TimelineEntry]:
        events = registration_timeline(registration=registration, membership=self.membership)
        entries = []
        for event in events:
            label = event.get_verb_display()
            reason = decision_label(event.reason_code, reasons) if event.reason_code else ""
            entries.append(TimelineEntry(event, label, "" if reason == label else reason))
        return entries

    def permitted(
        self, registration: DealRegistration, extensions: list[Extension]
    ) -> dict[str, bool]:
        """Buttons for the transitions this person may take now (the services still decide)."""
        status = registration.status
        extendable = status == Status.APPROVED and (
            registration.extensions_granted < registration_settings_for(self.tenant).max_extensions
            and not any(e.status == Extension.Status.REQUESTED for e in extensions)
        )
        return {
            "edit": status in EDITABLE_STATUSES,
            "submit": status in EDITABLE_STATUSES,
            "withdraw": status in WITHDRAWABLE,
            "extend": extendable,
        }


def review_status_context(registration: DealRegistration, membership: Any) -> dict[str, Any]:
    """What the polled review-status fragment shows: why it waits, until when."""
    return {
        "wait": registration_review_wait(registration=registration, membership=membership),
        "polling": registration.status in WAITING,
    }


class RegistrationStatusView(ScopedQuerysetMixin, PartnerPortalMixin, DetailView):
    """The review-status fragment the registration's page polls (htmx, every 2 s) while the
    vendor has it. Once it no longer waits the fragment comes without its trigger, so the
    polling stops; when the status differs from the one the page shows (`?shown=`), htmx is
    told to reload the page (`HX-Refresh`) so the decision, protection and timeline show."""

    model = DealRegistration
    template_name = "deals/partials/partner_review_status.html"
    context_object_name = "registration"
    http_method_names = ["get"]

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("partner__tier")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = review_status_context(self.object, self.membership)
        return super().get_context_data(**context, **kwargs)

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        shown = self.request.GET.get("shown", "")
        if shown and shown != self.object.status:
            response["HX-Refresh"] = "true"
        return response


def decision_label(code: str, reasons: dict[str, str]) -> str:
    return reasons.get(code) or DECISION_LABELS.get(code, code.replace("_", " ").capitalize())


# --- Actions ---------------------------------------------------------------------------------


class RegistrationAction(ScopedQuerysetMixin, PartnerPortalMixin, ObjectActionView):
    """A POST on one registration: a small form, one service call, a message, back to it."""

    model = DealRegistration

    def done(self, record: Any) -> HttpResponse:
        return redirect(detail_url(record.pk))

    def service_kwargs(self, record: DealRegistration) -> dict[str, Any]:
        return {"tenant": self.tenant, "actor": self.membership, "registration_id": record.pk}


class SubmitView(RegistrationAction):
    def act(self, record: DealRegistration, data: dict[str, Any]) -> str:
        try:
            registration_submit(**self.service_kwargs(record))
        except ValidationFailed as error:
            raise ValidationFailed(missing_message(error), fields=error.fields) from error
        return f"Registration for {record.customer_name} submitted; screening is under way."


def missing_message(error: ValidationFailed) -> str:
    """ "Complete the registration…: Country, Amount." — the fields still missing, by label."""
    labels = RegistrationForm.base_fields
    names = [
        str(labels[name].label or name.replace("_", " ").capitalize())
        if name in labels
        else name.replace("_", " ").capitalize()
        for name in error.fields
    ]
    if not names:
        return error.message
    return f"{error.message.rstrip('.')}: {', '.join(names)}. Edit it to fill them in."


class WithdrawView(RegistrationAction):
    form_class = WithdrawForm

    def act(self, record: DealRegistration, data: dict[str, Any]) -> str:
        registration_withdraw(**self.service_kwargs(record), note=data["note"])
        return f"Registration for {record.customer_name} withdrawn."


class ExtensionRequestView(RegistrationAction):
    form_class = ExtensionRequestForm

    def act(self, record: DealRegistration, data: dict[str, Any]) -> str:
        extension_request(**self.service_kwargs(record), reason=data["reason"])
        return "Extension requested; the vendor will decide."


urlpatterns = [
    path("registrations/", RegistrationListView.as_view(), name="registration_list"),
    path("registrations/new/", RegistrationCreateView.as_view(), name="registration_create"),
    path(
        "registrations/similar/",
        SimilarRegistrationsView.as_view(),
        name="registration_similar",
    ),
    path("registrations/<int:pk>/", RegistrationDetailView.as_view(), name="registration_detail"),
    path("registrations/<int:pk>/edit/", RegistrationEditView.as_view(), name="registration_edit"),
    path(
        "registrations/<int:pk>/status/",
        RegistrationStatusView.as_view(),
        name="registration_status",
    ),
    path("registrations/<int:pk>/submit/", SubmitView.as_view(), name="registration_submit"),
    path("registrations/<int:pk>/withdraw/", WithdrawView.as_view(), name="registration_withdraw"),
    path(
        "registrations/<int:pk>/extensions/",
        ExtensionRequestView.as_view(),
        name="registration_extension_request",
    ),
]

"""Vendor portal pages of the partners app: home, partners, tiers, people, invitations.

Channel managers read partners, tiers and people; vendor admins also change them and
manage invitations. Records come through `ScopedQuerysetMixin`: another tenant's ID is a 404.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.generic import DetailView, FormView, ListView, TemplateView

from accounts.models import Membership
from accounts.portals import (
    VENDOR_ADMIN,
    FilteredListView,
    ObjectActionView,
    ServiceFormMixin,
    VendorPortalMixin,
)
from accounts.scoping import ScopedQuerysetMixin
from accounts.services.memberships import membership_set_active
from partners.filters import InvitationFilter, PartnerFilter, PeopleFilter
from partners.forms import (
    MembershipActiveForm,
    PartnerForm,
    PartnerStatusForm,
    TierForm,
    VendorInvitationForm,
)
from partners.home import sections_for, tiles_for
from partners.models import Invitation, PartnerOrganization, PartnerTier
from partners.selectors import (
    active_people_count,
    partner_invitations,
    partner_people,
    vendor_home,
)
from partners.services import (
    invitation_create,
    partner_create,
    partner_set_status,
    partner_update,
    tier_create,
    tier_update,
)
from partners.views.invitations import InvitationResendBase, InvitationRevokeBase

PAGE_SIZE = 25


# --- Home ------------------------------------------------------------------------------------


class HomeView(VendorPortalMixin, TemplateView):
    template_name = "vendor/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """The figures of what needs attention load after the page (HomeFiguresView): at a
        million deals their aggregates take longer than the page may."""
        home = vendor_home(tenant=self.tenant, user=self.request.user)  # type: ignore[arg-type]
        return super().get_context_data(
            home=home,
            sections=sections_for("vendor", self.membership),
            **kwargs,
        )


class HomeFiguresView(VendorPortalMixin, TemplateView):
    """The home's figures (each a link to exactly its rows): the fragment htmx swaps into
    the home, or a page of its own without script."""

    def get_template_names(self) -> list[str]:
        htmx = getattr(self.request, "htmx", False)
        return ["partials/home_tiles.html" if htmx else "vendor/home_figures.html"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tiles=tiles_for("vendor", self.membership), **kwargs)


# --- Partners --------------------------------------------------------------------------------


class PartnerListView(ScopedQuerysetMixin, VendorPortalMixin, FilteredListView):
    model = PartnerOrganization
    template_name = "vendor/partner_list.html"
    filterset_class = PartnerFilter

    def refine_queryset(self, queryset: Any) -> Any:
        queryset = (
            queryset.select_related("tier", "channel_manager")
            .annotate(people=active_people_count())
            .order_by("name", "pk")
        )
        return self.apply_filters(queryset)


class PartnerDetailView(ScopedQuerysetMixin, VendorPortalMixin, DetailView):
    model = PartnerOrganization
    template_name = "vendor/partner_detail.html"
    context_object_name = "partner"

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("tier", "channel_manager")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        partner = self.object
        return super().get_context_data(
            people=partner_people(tenant=self.tenant, partner=partner),
            invitations=partner_invitations(tenant=self.tenant, partner=partner),
            **kwargs,
        )


class PartnerCreateView(VendorPortalMixin, ServiceFormMixin, FormView):
    allowed_roles = VENDOR_ADMIN
    form_class = PartnerForm
    template_name = "vendor/partner_form.html"
    success_message = "Partner “{result.name}” created."

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "tenant": self.tenant}

    def perform(self, form: PartnerForm) -> PartnerOrganization:
        self.partner = partner_create(
            tenant=self.tenant, actor=self.membership, **form.cleaned_data
        )
        return self.partner

    def get_success_url(self) -> str:
        return reverse("vendor:partner_detail", args=[self.partner.pk])


class PartnerEditView(ScopedQuerysetMixin, VendorPortalMixin, ServiceFormMixin, FormView):
    model = PartnerOrganization
    allowed_roles = VENDOR_ADMIN
    form_class = PartnerForm
    template_name = "vendor/partner_form.html"
    success_message = "Partner “{result.name}” saved."

    @cached_property
    def partner(self) -> PartnerOrganization:
        return self.get_object()  # type: ignore[return-value]

    def get_form_kwargs(self) -> dict[str, Any]:
        return {
            **super().get_form_kwargs(),
            "tenant": self.tenant,
            "initial": PartnerForm.initial_for(self.partner),
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(partner=self.partner, **kwargs)

    def perform(self, form: PartnerForm) -> PartnerOrganization:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if not changes:
            return self.partner
        return partner_update(
            tenant=self.tenant, actor=self.membership, partner_id=self.partner.pk, **changes
        )

    def get_success_url(self) -> str:
        return reverse("vendor:partner_detail", args=[self.partner.pk])


class PartnerStatusView(ScopedQuerysetMixin, VendorPortalMixin, ObjectActionView):
    """POST action=suspend|reactivate."""

    model = PartnerOrganization
    allowed_roles = VENDOR_ADMIN
    form_class = PartnerStatusForm

    def act(self, record: PartnerOrganization, data: dict[str, Any]) -> str:
        partner = partner_set_status(
            tenant=self.tenant,
            actor=self.membership,
            partner_id=record.pk,
            suspended=data["action"] == "suspend",
        )
        return f"Partner “{partner.name}” is now {partner.get_status_display().lower()}."

    def done(self, record: PartnerOrganization) -> HttpResponse:
        return redirect("vendor:partner_detail", pk=record.pk)


# --- Tiers -----------------------------------------------------------------------------------


class TierListView(ScopedQuerysetMixin, VendorPortalMixin, ListView):
    model = PartnerTier
    template_name = "vendor/tier_list.html"
    context_object_name = "tiers"
    paginate_by = PAGE_SIZE

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.annotate(partner_count=Count("partners")).order_by("-rank", "name", "pk")


class TierCreateView(VendorPortalMixin, ServiceFormMixin, FormView):
    allowed_roles = VENDOR_ADMIN
    form_class = TierForm
    template_name = "vendor/tier_form.html"
    success_message = "Tier “{result.name}” created."

    def perform(self, form: TierForm) -> PartnerTier:
        return tier_create(tenant=self.tenant, actor=self.membership, **form.cleaned_data)

    def get_success_url(self) -> str:
        return reverse("vendor:tier_list")


class TierEditView(ScopedQuerysetMixin, VendorPortalMixin, ServiceFormMixin, FormView):
    model = PartnerTier
    allowed_roles = VENDOR_ADMIN
    form_class = TierForm
    template_name = "vendor/tier_form.html"
    success_message = "Tier “{result.name}” saved."

    @cached_property
    def tier(self) -> PartnerTier:
        return self.get_object()  # type: ignore[return-value]

    def get_initial(self) -> dict[str, Any]:
        return TierForm.initial_for(self.tier)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(tier=self.tier, **kwargs)

    def perform(self, form: TierForm) -> PartnerTier:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if not changes:
            return self.tier
        return tier_update(
            tenant=self.tenant, actor=self.membership, tier_id=self.tier.pk, **changes
        )

    def get_success_url(self) -> str:
        return reverse("vendor:tier_list")


# --- People ----------------------------------------------------------------------------------


class PeopleView(ScopedQuerysetMixin, VendorPortalMixin, FilteredListView):
    model = Membership
    template_name = "vendor/people.html"
    context_object_name = "people"
    filterset_class = PeopleFilter

    def refine_queryset(self, queryset: Any) -> Any:
        queryset = queryset.select_related("user", "partner").order_by(
            "partner__name", "user__full_name", "user__email", "pk"
        )
        return self.apply_filters(queryset)


class MembershipActiveView(ScopedQuerysetMixin, VendorPortalMixin, ObjectActionView):
    """POST action=activate|deactivate on anyone of the tenant (vendor admins)."""

    model = Membership
    allowed_roles = VENDOR_ADMIN
    form_class = MembershipActiveForm
    success_url_name = "vendor:people"

    def act(self, record: Membership, data: dict[str, Any]) -> str:
        active = data["action"] == "activate"
        membership_set_active(
            tenant=self.tenant, actor=self.membership, membership_id=record.pk, active=active
        )
        return f"{record.user.display_name} is now {'active' if active else 'inactive'}."


# --- Invitations -----------------------------------------------------------------------------


class InvitationListView(ScopedQuerysetMixin, VendorPortalMixin, FilteredListView):
    model = Invitation
    allowed_roles = VENDOR_ADMIN
    template_name = "vendor/invitation_list.html"
    context_object_name = "invitations"
    filterset_class = InvitationFilter

    def refine_queryset(self, queryset: Any) -> Any:
        queryset = queryset.select_related("partner", "invited_by").order_by("-created_at", "-pk")
        return self.apply_filters(queryset)


class InvitationCreateView(VendorPortalMixin, ServiceFormMixin, FormView):
    allowed_roles = VENDOR_ADMIN
    form_class = VendorInvitationForm
    template_name = "vendor/invitation_form.html"
    success_message = "Invitation sent to {result.invitation.email}."

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "tenant": self.tenant}

    def perform(self, form: VendorInvitationForm) -> Any:
        return invitation_create(tenant=self.tenant, actor=self.membership, **form.cleaned_data)

    def get_success_url(self) -> str:
        return reverse("vendor:invitation_list")


class InvitationResendView(VendorPortalMixin, InvitationResendBase):
    allowed_roles = VENDOR_ADMIN
    success_url_name = "vendor:invitation_list"


class InvitationRevokeView(VendorPortalMixin, InvitationRevokeBase):
    allowed_roles = VENDOR_ADMIN
    success_url_name = "vendor:invitation_list"


urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("figures/", HomeFiguresView.as_view(), name="home_figures"),
    path("partners/", PartnerListView.as_view(), name="partner_list"),
    path("partners/new/", PartnerCreateView.as_view(), name="partner_create"),
    path("partners/<int:pk>/", PartnerDetailView.as_view(), name="partner_detail"),
    path("partners/<int:pk>/edit/", PartnerEditView.as_view(), name="partner_edit"),
    path("partners/<int:pk>/status/", PartnerStatusView.as_view(), name="partner_status"),
    path("tiers/", TierListView.as_view(), name="tier_list"),
    path("tiers/new/", TierCreateView.as_view(), name="tier_create"),
    path("tiers/<int:pk>/edit/", TierEditView.as_view(), name="tier_edit"),
    path("people/", PeopleView.as_view(), name="people"),
    path("people/<int:pk>/active/", MembershipActiveView.as_view(), name="membership_active"),
    path("invitations/", InvitationListView.as_view(), name="invitation_list"),
    path("invitations/new/", InvitationCreateView.as_view(), name="invitation_create"),
    path("invitations/<int:pk>/resend/", InvitationResendView.as_view(), name="invitation_resend"),
    path("invitations/<int:pk>/revoke/", InvitationRevokeView.as_view(), name="invitation_revoke"),
]

"""Partner portal pages of the partners app: home, people, invitations.

Everything is the acting person's own organization. Partner admins manage its people and
invitations; partner reps see a read-only list of their active colleagues. A record of
another partner or tenant is a 404 (`ScopedQuerysetMixin` filters by partner).
"""

from __future__ import annotations

from typing import Any

from django.urls import path, reverse
from django.views.generic import FormView, ListView, TemplateView

from accounts.models import Membership, Role
from accounts.portals import (
    PARTNER_ADMIN,
    ObjectActionView,
    PartnerPortalMixin,
    ServiceFormMixin,
)
from accounts.scoping import ScopedQuerysetMixin
from accounts.services.memberships import membership_set_active
from partners.forms import MembershipActiveForm, PartnerInvitationForm
from partners.home import sections_for, tiles_for
from partners.models import Invitation
from partners.selectors import partner_home
from partners.services import invitation_create
from partners.views.invitations import InvitationResendBase, InvitationRevokeBase

PAGE_SIZE = 25


class HomeView(PartnerPortalMixin, TemplateView):
    template_name = "partner/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        home = partner_home(
            tenant=self.tenant,
            membership=self.membership,
            include_invitations=self.membership.role == Role.PARTNER_ADMIN,
        )
        return super().get_context_data(
            home=home,
            tiles=tiles_for("partner", self.membership),
            sections=sections_for("partner", self.membership),
            **kwargs,
        )


class PeopleView(ScopedQuerysetMixin, PartnerPortalMixin, ListView):
    """Admins: the whole organization, inactive people included. Reps: active colleagues."""

    model = Membership
    template_name = "partner/people.html"
    context_object_name = "people"
    paginate_by = PAGE_SIZE

    def refine_queryset(self, queryset: Any) -> Any:
        if self.acting_membership.role != Role.PARTNER_ADMIN:
            queryset = queryset.filter(is_active=True)
        return queryset.select_related("user").order_by(
            "-is_active", "user__full_name", "user__email", "pk"
        )


class MembershipActiveView(ScopedQuerysetMixin, PartnerPortalMixin, ObjectActionView):
    """POST action=activate|deactivate on a colleague (partner admins)."""

    model = Membership
    allowed_roles = PARTNER_ADMIN
    form_class = MembershipActiveForm
    success_url_name = "partner:people"

    def act(self, record: Membership, data: dict[str, Any]) -> str:
        active = data["action"] == "activate"
        membership_set_active(
            tenant=self.tenant, actor=self.membership, membership_id=record.pk, active=active
        )
        return f"{record.user.display_name} is now {'active' if active else 'inactive'}."


class InvitationListView(ScopedQuerysetMixin, PartnerPortalMixin, ListView):
    model = Invitation
    allowed_roles = PARTNER_ADMIN
    template_name = "partner/invitation_list.html"
    context_object_name = "invitations"
    paginate_by = PAGE_SIZE

    def refine_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("invited_by").order_by("-created_at", "-pk")


class InvitationCreateView(PartnerPortalMixin, ServiceFormMixin, FormView):
    allowed_roles = PARTNER_ADMIN
    form_class = PartnerInvitationForm
    template_name = "partner/invitation_form.html"
    success_message = "Invitation sent to {result.invitation.email}."

    def perform(self, form: PartnerInvitationForm) -> Any:
        return invitation_create(
            tenant=self.tenant,
            actor=self.membership,
            partner=self.membership.partner,
            **form.cleaned_data,
        )

    def get_success_url(self) -> str:
        return reverse("partner:invitation_list")


class InvitationResendView(PartnerPortalMixin, InvitationResendBase):
    allowed_roles = PARTNER_ADMIN
    success_url_name = "partner:invitation_list"


class InvitationRevokeView(PartnerPortalMixin, InvitationRevokeBase):
    allowed_roles = PARTNER_ADMIN
    success_url_name = "partner:invitation_list"


urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("people/", PeopleView.as_view(), name="people"),
    path("people/<int:pk>/active/", MembershipActiveView.as_view(), name="membership_active"),
    path("invitations/", InvitationListView.as_view(), name="invitation_list"),
    path("invitations/new/", InvitationCreateView.as_view(), name="invitation_create"),
    path("invitations/<int:pk>/resend/", InvitationResendView.as_view(), name="invitation_resend"),
    path("invitations/<int:pk>/revoke/", InvitationRevokeView.as_view(), name="invitation_revoke"),
]

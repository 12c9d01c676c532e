"""Partner portal pages of deal registration.

A partner rep sees the registrations they submitted; a partner admin the organization's
(`DealRegistration.owner_scope_field`). Another partner's or tenant's registration is a 404.
"""

from __future__ import annotations

from django.urls import path
from django.views.generic import DetailView

from accounts.portals import PartnerPortalMixin
from accounts.scoping import ScopedQuerysetMixin
from deals.models import DealRegistration


class RegistrationDetailView(ScopedQuerysetMixin, PartnerPortalMixin, DetailView):
    model = DealRegistration
    template_name = "deals/partner_registration_detail.html"
    context_object_name = "registration"


urlpatterns = [
    path("registrations/<int:pk>/", RegistrationDetailView.as_view(), name="registration_detail"),
]

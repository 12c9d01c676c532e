"""Vendor portal pages of deal registration.

Channel managers and vendor admins see every registration of their tenant; another
tenant's registration is a 404.
"""

from __future__ import annotations

from django.urls import path
from django.views.generic import DetailView

from accounts.portals import VendorPortalMixin
from accounts.scoping import ScopedQuerysetMixin
from deals.models import DealRegistration


class RegistrationDetailView(ScopedQuerysetMixin, VendorPortalMixin, DetailView):
    model = DealRegistration
    template_name = "deals/vendor_registration_detail.html"
    context_object_name = "registration"


urlpatterns = [
    path("registrations/<int:pk>/", RegistrationDetailView.as_view(), name="registration_detail"),
]

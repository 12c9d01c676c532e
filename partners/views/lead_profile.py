"""The partner's lead profile page: the territories and product-line specializations lead
routing reads. Partner admins change their own organization's; partner reps read them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import path, reverse
from django.views.generic import FormView

from accounts.portals import PARTNER_ADMIN, PartnerPortalMixin, ServiceFormMixin
from partners.catalog import product_line_codes
from partners.models import PartnerOrganization
from partners.services.lead_profile import partner_lead_profile_update


class LeadProfileForm(forms.Form):
    territories = forms.CharField(
        max_length=2000,
        required=False,
        help_text="Country codes and regions, separated by commas, e.g. “US, CA, EMEA”.",
    )
    specializations = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Product lines"
    )

    def __init__(self, *args: Any, codes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["specializations"].choices = [(code, code) for code in codes]

    def service_changes(self) -> dict[str, Any]:
        text = self.cleaned_data["territories"]
        return {
            "territories": [code for code in (t.strip() for t in text.split(",")) if code],
            "specializations": self.cleaned_data["specializations"],
        }


class LeadProfileView(PartnerPortalMixin, ServiceFormMixin, FormView):
    template_name = "partner/lead_profile.html"
    form_class = LeadProfileForm
    write_roles = PARTNER_ADMIN

    @property
    def partner(self) -> PartnerOrganization:
        return PartnerOrganization.objects.select_related("tier").get(
            tenant=self.tenant, pk=self.membership.partner_id
        )

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "codes": sorted(product_line_codes(self.tenant.pk))}

    def get_initial(self) -> dict[str, Any]:
        partner = self.partner
        return {
            "territories": ", ".join(partner.territories),
            "specializations": partner.specializations,
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(partner=self.partner, **kwargs)

    def perform(self, form: LeadProfileForm) -> PartnerOrganization:
        return partner_lead_profile_update(
            tenant=self.tenant,
            actor=self.membership,
            partner_id=self.membership.partner_id,  # type: ignore[arg-type]
            **form.service_changes(),
        )

    def get_success_message(self, result: PartnerOrganization) -> str:
        return "Lead profile saved."

    def get_success_url(self) -> str:
        return reverse("partner:lead_profile")


urlpatterns = [path("lead-profile/", LeadProfileView.as_view(), name="lead_profile")]

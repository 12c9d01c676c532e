"""Forms of the vendor's decisions on a registration. They validate input only;
deals/services/decisions.py does the writes and enforces the lifecycle.

Every choice is scoped to the acting tenant (rejection reasons) or to the registration
being decided (the original of a duplicate), so another tenant's ID is "Select a valid
choice", exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.forms import SelectedIdsField
from accounts.models import Tenant
from deals.models import Finding, OverrideReason, RejectionReason
from pipeline.forms import TenantForm

MESSAGE_MAX = 2000
TEXTAREA = forms.Textarea(attrs={"rows": 2})


class ApproveForm(TenantForm):
    note = forms.CharField(
        required=False,
        max_length=MESSAGE_MAX,
        widget=TEXTAREA,
        help_text="Optional; the partner reads it.",
    )


class ApproveAnywayForm(ApproveForm):
    """Approve beside another partner's protection (deals/services/blocking.py): the
    reason is recorded and told to both partners."""

    override_reason = forms.ChoiceField(
        choices=[("", "Choose a reason"), *OverrideReason.choices],
        label="Approve anyway because",
        help_text="Both partners read the reason; neither learns who the other is.",
    )


class RejectForm(TenantForm):
    reason_code = forms.ChoiceField(choices=[], label="Reason")
    message = forms.CharField(
        required=False, max_length=MESSAGE_MAX, widget=TEXTAREA, label="Message to the partner"
    )

    def scope(self, tenant: Tenant) -> None:
        reasons = RejectionReason.objects.for_tenant(tenant).filter(is_active=True)
        self.fields["reason_code"].choices = [
            ("", "Choose a reason"),
            *reasons.order_by("label").values_list("code", "label"),
        ]


class RequestInfoForm(TenantForm):
    message = forms.CharField(
        max_length=MESSAGE_MAX, widget=TEXTAREA, label="What the partner should add"
    )


class MarkDuplicateForm(TenantForm):
    """The original is one of the registrations the findings of this one point at."""

    original = forms.TypedChoiceField(choices=[], coerce=int, label="Duplicate of")
    message = forms.CharField(
        required=False, max_length=MESSAGE_MAX, widget=TEXTAREA, label="Message to the partner"
    )

    def __init__(self, *args: Any, registration_id: int, **kwargs: Any) -> None:
        self.registration_id = registration_id
        super().__init__(*args, **kwargs)

    def scope(self, tenant: Tenant) -> None:
        findings = (
            Finding.objects.for_tenant(tenant)
            .filter(registration_id=self.registration_id, other_registration__isnull=False)
            .select_related("other_registration__partner")
            .order_by("other_registration__first_submitted_at", "other_registration_id")
        )
        seen: dict[int, str] = {}
        for finding in findings:
            other = finding.other_registration
            if other is not None and other.pk not in seen:
                seen[other.pk] = f"#{other.pk} {other.customer_name} ({other.partner.name})"
        self.fields["original"].choices = [("", "Choose the original"), *seen.items()]


class RevertForm(TenantForm):
    note = forms.CharField(
        max_length=MESSAGE_MAX,
        widget=TEXTAREA,
        label="Why (audit note)",
        help_text="Kept in the audit log and told to the partner.",
    )


class ExtensionDeclineForm(TenantForm):
    reason = forms.CharField(required=False, max_length=500, label="Why")


class BulkApproveForm(forms.Form):
    registration = SelectedIdsField(noun="registration", label="Registrations")
    note = forms.CharField(required=False, max_length=MESSAGE_MAX)

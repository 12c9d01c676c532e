"""How an outbox event is written out as a webhook's `data`.

`data` is the resource as the API returns it to a vendor admin (the same serializers), read
when the event is fanned out, so a retry or a redelivery sends the same body. A subject
that no longer exists is written as its id with the event's payload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accounts.models import DomainEvent, Membership, Role
from commissions.selectors import entry_list_for
from commissions.serializers import ENTRY_COLUMNS, entry_rows
from deals.selectors import finding_view, findings_queryset, registration_list_for
from deals.serializers import RegistrationOutput
from leads.selectors import lead_list_for, routing_explanation
from leads.serializers import LeadOutput
from pipeline.models import CoSellRequest
from pipeline.selectors import opportunity_list_for
from pipeline.serializers import CoSellRequestOutput, OpportunityOutput


def vendor_reader(tenant_id: int) -> Membership:
    """An unsaved vendor-admin membership: what the API would show a vendor admin."""
    return Membership(tenant_id=tenant_id, role=Role.VENDOR_ADMIN)


def _opportunity(event: DomainEvent) -> dict[str, Any] | None:
    reader = vendor_reader(event.tenant_id)
    opportunity = (
        opportunity_list_for(membership=reader)
        .select_related(None)
        .select_related("customer", "lost_reason")
        .filter(pk=event.subject_id)
        .first()
    )
    return None if opportunity is None else dict(OpportunityOutput(opportunity).data)


def _registration(event: DomainEvent) -> dict[str, Any] | None:
    reader = vendor_reader(event.tenant_id)
    registration = registration_list_for(membership=reader).filter(pk=event.subject_id).first()
    if registration is None:
        return None
    findings = [
        finding_view(f, vendor=True) for f in findings_queryset([registration.pk], vendor=True)
    ]
    context = {"membership": reader, "findings": {registration.pk: findings}}
    return dict(RegistrationOutput(registration, context=context).data)


def _commission_entry(event: DomainEvent) -> dict[str, Any] | None:
    reader = vendor_reader(event.tenant_id)
    rows = entry_list_for(membership=reader).filter(pk=event.subject_id).values(*ENTRY_COLUMNS)
    return next(iter(entry_rows(rows)), None)


def _cosell_request(event: DomainEvent) -> dict[str, Any] | None:
    reader = vendor_reader(event.tenant_id)
    request = CoSellRequest.objects.visible_to(reader).filter(pk=event.subject_id).first()
    return None if request is None else dict(CoSellRequestOutput(request).data)


def _lead(event: DomainEvent) -> dict[str, Any] | None:
    """The lead as GET /api/v1/leads/{id}/ shows it to a vendor admin (with its routing)."""
    reader = vendor_reader(event.tenant_id)
    lead = lead_list_for(membership=reader).filter(pk=event.subject_id).first()
    if lead is None:
        return None
    data = dict(LeadOutput(lead).data)
    data["routing"] = [routing_explanation(offer) for offer in lead.offers.all()]
    return data


RENDERERS: dict[str, Callable[[DomainEvent], dict[str, Any] | None]] = {
    "pipeline.opportunity": _opportunity,
    "deals.dealregistration": _registration,
    "commissions.commissionentry": _commission_entry,
    "pipeline.cosellrequest": _cosell_request,
    "leads.lead": _lead,
}


def event_data(event: DomainEvent) -> dict[str, Any]:
    render = RENDERERS.get(event.subject_type)
    data = render(event) if render is not None and event.subject_id.isdigit() else None
    if data is None:
        data = {"id": int(event.subject_id) if event.subject_id.isdigit() else event.subject_id}
        data.update(event.payload)
    return data

"""Screening many leads at once (an import's chunk of rows): the same keys, lookups,
re-ranking and threshold as one lead's `lead_screen` (leads/services/intake.py), in three
round trips per chunk instead of one or more per row: every candidate lookup of every lead
in one statement (`candidate_rows_many`), then the matched live registrations and the deals
of the matched customers, each in one query."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import Tenant
from deals.models import DealRegistration
from deals.services.candidates import CANDIDATE_LIMIT, CUSTOMER, REGISTRATION, candidate_rows_many
from deals.services.keys import CustomerKeys
from deals.services.screening import WON_LOOKBACK, rerank
from leads.models import Lead
from leads.services.intake import LeadMatch, lead_matches_set
from pipeline.models import Opportunity

Scored = dict[int, tuple[int, list[str]]]


def _keys(lead: Lead) -> CustomerKeys:
    return CustomerKeys.of(
        name=lead.company_name,
        website=lead.company_website,
        email=lead.contact_email,
        country=str(lead.country),
    )


def _registration_partners(tenant: Tenant, ids: set[int]) -> dict[int, int | None]:
    if not ids:
        return {}
    live = DealRegistration.objects.for_tenant(tenant).filter(
        status__in=DealRegistration.LIVE, pk__in=ids
    )
    return dict(live.values_list("pk", "partner_id"))


def _customer_deals(tenant: Tenant, ids: set[int]) -> list[dict[str, Any]]:
    """As `opportunity_matches` selects them, newest first."""
    if not ids:
        return []
    since = timezone.localdate() - WON_LOOKBACK
    state = Q(status=Opportunity.Status.OPEN, registration__isnull=True) | Q(
        status=Opportunity.Status.WON, closed_on__gte=since
    )
    deals = Opportunity.objects.for_tenant(tenant).filter(state, customer_id__in=ids)
    rows = deals.order_by("-id").values_list("pk", "customer_id", "partner_id", "status")
    return [
        dict(zip(("pk", "customer_id", "partner_id", "status"), row, strict=True)) for row in rows
    ]


def _matches(
    registrations: Scored,
    customers: Scored,
    partners: dict[int, int | None],
    deals: list[dict[str, Any]],
) -> list[LeadMatch]:
    found = [
        LeadMatch("registration", pk, partners[pk], score)
        for pk, (score, _) in sorted(registrations.items())
        if pk in partners
    ]
    mine = [d for d in deals if d["customer_id"] in customers][: CANDIDATE_LIMIT * 2]
    found += [
        LeadMatch("opportunity", d["pk"], d["partner_id"], customers[d["customer_id"]][0])
        for d in mine
        if d["status"] == Opportunity.Status.OPEN
    ]
    return sorted(found, key=lambda m: (-m.score, m.kind != "registration", m.record_id))


def leads_screen(*, tenant: Tenant, leads: list[Lead], threshold: int) -> None:
    """Screen unsaved leads in place (their matches and preferred partner), as
    `lead_build` screens one."""
    keys = [_keys(lead) for lead in leads]
    rows = candidate_rows_many(tenant=tenant, keys=keys, threshold=threshold)
    scored = [
        (rerank(k, r[REGISTRATION], threshold), rerank(k, r[CUSTOMER], threshold))
        for k, r in zip(keys, rows, strict=True)
    ]
    partners = _registration_partners(tenant, {pk for reg, _ in scored for pk in reg})
    deals = _customer_deals(tenant, {pk for _, cust in scored for pk in cust})
    for lead, (registrations, customers) in zip(leads, scored, strict=True):
        lead_matches_set(lead, _matches(registrations, customers, partners, deals))

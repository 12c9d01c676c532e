"""Many routings at once never push a partner past its lead capacity.

Truly concurrent transactions: each routing is a thread with its own PostgreSQL
connection, all released at once by a barrier. Without the capacity locks every thread
reads the same loads and picks the same best partner (tried: 11 of the 12 offers went to
one partner of capacity 2). Routings lock only the partner they chose and re-read its
numbers under the lock, so most of them find their first choice filled meanwhile and fall
to the next best: the facts each offer stores are the re-read ones, and replay them to the
stored decision."""

from __future__ import annotations

from collections import Counter

import pytest

from accounts.tenancy import tenant_context
from leads.models import Lead, LeadOffer
from leads.services.routing import lead_route, routing_replay
from tests.leads.conftest import make_lead, set_profile
from tests.partners.factories import PartnerOrganizationFactory
from tests.threads import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

LEADS = 12
CAPACITY = 2
ROUNDS = 3


def route_at_once(tenant, lead_ids: list[int]) -> list[Exception]:
    def route(lead_id: int) -> None:
        with tenant_context(tenant):
            lead_route(tenant=tenant, lead_id=lead_id)

    return run_at_once(route, lead_ids)


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_capacity_is_never_exceeded(leads_world, round_number):
    w = leads_world
    third = PartnerOrganizationFactory(tenant=w.tenant, tier=w.tier, name="Fourth Coffee")
    for partner in (w.partner, w.other_partner, third):
        set_profile(partner, territories=["US"], specializations=["cloud"], lead_capacity=CAPACITY)
    leads = [make_lead(w, company_name=f"Rush {round_number}-{n}") for n in range(LEADS)]

    assert route_at_once(w.tenant, [lead.pk for lead in leads]) == []

    with tenant_context(w.tenant):
        per_partner = Counter(
            LeadOffer.objects.filter(status="offered").values_list("partner_id", flat=True)
        )
        statuses = Counter(Lead.objects.values_list("status", flat=True))
    assert per_partner == {w.partner.pk: 2, w.other_partner.pk: 2, third.pk: 2}
    assert statuses == {"offered": 6, "queued": 6}
    with tenant_context(w.tenant):
        offers = list(LeadOffer.objects.all())
    for offer in offers:
        assert routing_replay(offer).as_json() == offer.explanation["decision"]
        mine = next(
            c
            for c in offer.explanation["facts"]["candidates"]
            if c["partner_id"] == offer.partner_id
        )
        assert mine["stats"]["load"] < mine["stats"]["capacity"] == CAPACITY

"""An import screens its rows in a few statements per chunk (leads/services/screening.py)
with the same outcome as screening each lead alone (leads/services/intake.py lead_screen):
same matches, scores, order and preferred partner, for names, domains and open deals."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tenancy import tenant_context
from deals.services.configuration import registration_settings_for
from deals.services.registrations import registration_create
from leads.models import Lead
from leads.services.intake import lead_build, lead_matches_set, lead_screen
from leads.services.screening import leads_screen
from tests.deals.conftest import registration_data
from tests.pipeline.factories import CustomerFactory, OpportunityFactory

LEADS = [
    {"company_name": "Fabrikam Inc", "country": "US"},  # a registration, by name
    {"company_name": "Totally Other", "company_website": "https://contoso-shop.example"},
    {"company_name": "Tailspin Toys", "country": "US"},  # an open deal's customer
    {"company_name": "Nobody Matches Here", "country": "US"},
    {"company_name": "Fabrikam", "contact_email": "a@fabrikam.example", "country": "US"},
    {"company_name": "Tailspin Toys Ltd", "company_website": "https://tailspin.example"},
]


def test_many_leads_screen_as_each_alone(leads_world):
    w = leads_world
    with tenant_context(w.tenant):
        for name, site in (
            ("Fabrikam Inc", "fabrikam.example"),
            ("Contoso", "contoso-shop.example"),
        ):
            registration_create(
                tenant=w.tenant,
                actor=w.other_partner_rep,
                submit=True,
                **registration_data(
                    customer_name=name, customer_website=f"https://{site}", product_lines=["cloud"]
                ),
            )
        customer = CustomerFactory(
            tenant=w.tenant,
            name="Tailspin Toys",
            name_normalized="tailspin toys",
            name_core="tailspin toys",
            root_domain="tailspin.example",
        )
        OpportunityFactory(tenant=w.tenant, customer=customer, partner=w.partner)
        threshold = registration_settings_for(w.tenant).match_threshold

        def build(fields: dict) -> Lead:
            fields = {"country": "US", **fields}
            return lead_build(
                tenant=w.tenant, created_by=None, fields=fields, threshold=threshold, screen=False
            )

        alone = [build(fields) for fields in LEADS]
        for lead in alone:
            lead_matches_set(lead, lead_screen(tenant=w.tenant, lead=lead))
        together = [build(fields) for fields in LEADS]
        with CaptureQueriesContext(connection) as queries:
            leads_screen(tenant=w.tenant, leads=together, threshold=threshold)

    assert [lead.matches for lead in together] == [lead.matches for lead in alone]
    # a domain alone under a different name is not the same customer, as for registrations
    assert [len(lead.matches) > 0 for lead in together] == [True, False, True, False, True, True]
    assert [lead.preferred_partner_id for lead in together] == [
        lead.preferred_partner_id for lead in alone
    ]
    assert together[0].preferred_partner_id == w.other_partner.pk
    assert together[2].preferred_partner_id == w.partner.pk
    assert len(queries) == 3  # candidates, live registrations, the customers' deals

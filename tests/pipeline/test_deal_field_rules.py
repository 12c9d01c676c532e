"""The deal's amount and close date follow one rule on every form, serializer and service:
the edit form no longer takes a close date in 1900, and an amount is above zero. An
overdue close date left as it is still saves (the deal is stale, not invalid)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.errors import ValidationFailed
from accounts.models import AuditEntry
from pipeline.models import Customer, Opportunity
from pipeline.services import opportunities as svc
from tests.api_clients import api_as
from tests.conftest import World
from tests.pages import messages_of
from tests.pipeline.factories import OpportunityFactory

AMOUNT_RULE = "Above 0 and at most 999,999,999,999.99."
PAST = "Today or later."
FAR = "Within 10 years from today."


def far() -> str:
    return (timezone.localdate() + timedelta(days=365 * 10 + 5)).isoformat()


def edits() -> list:
    return [
        ({"expected_close_date": "1900-01-01"}, "expected_close_date", PAST),
        ({"expected_close_date": "FAR"}, "expected_close_date", FAR),
        ({"amount": "0"}, "amount", AMOUNT_RULE),
    ]


def real(data: dict) -> dict:
    return {k: far() if v == "FAR" else v for k, v in data.items()}


@pytest.fixture
def deal(world: World, stages) -> Opportunity:
    return OpportunityFactory(
        tenant=world.tenant,
        partner=world.partner,
        owner=world.partner_rep.user,
        name="Rep deal",
        amount=Decimal(100),
        expected_close_date=date(2020, 1, 1),  # overdue already
    )


def state(world, in_tenant, deal) -> tuple:
    with in_tenant(world.tenant):
        row = Opportunity.objects.get(pk=deal.pk)
        return row.name, row.amount, row.expected_close_date, AuditEntry.objects.count()


@pytest.mark.parametrize(("data", "field", "error"), edits())
@pytest.mark.parametrize(
    ("actor", "portal"), [("partner_rep", "partner"), ("vendor_admin", "vendor")]
)
def test_the_edit_form_applies_the_rules(
    world, deal, client_for, in_tenant, data, field, error, actor, portal
):
    before = state(world, in_tenant, deal)
    form = {"name": "Rep deal", "amount": "100", "expected_close_date": "2020-01-01", **real(data)}

    response = client_for(world.member(actor)).post(
        reverse(f"{portal}:opportunity_edit", args=[deal.pk]), form
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {field: [error]}
    assert state(world, in_tenant, deal) == before


def test_an_overdue_close_date_left_as_it_is_still_saves(world, deal, client_for, in_tenant):
    response = client_for(world.partner_rep).post(
        reverse("partner:opportunity_edit", args=[deal.pk]),
        {"name": "Renamed", "amount": "100", "expected_close_date": "2020-01-01"},
    )
    assert response.status_code == 302
    assert state(world, in_tenant, deal)[:3] == ("Renamed", Decimal(100), date(2020, 1, 1))


@pytest.mark.parametrize(
    ("body", "field", "error"),
    [
        ({"expected_close_date": "1900-01-01"}, "expected_close_date", PAST),
        ({"expected_close_date": "FAR"}, "expected_close_date", FAR),
        ({"amount": "0"}, "amount", AMOUNT_RULE),
        ({"amount": 0}, "amount", AMOUNT_RULE),
    ],
)
def test_the_api_edit_applies_the_rules(world, deal, in_tenant, body, field, error):
    client = api_as(world, "partner_rep")
    before = state(world, in_tenant, deal)

    response = client.patch(f"/api/v1/opportunities/{deal.pk}/", real(body), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: [error]}
    assert state(world, in_tenant, deal) == before


def test_the_api_edit_keeps_an_unchanged_overdue_date(world, deal, in_tenant):
    response = api_as(world, "partner_rep").patch(
        f"/api/v1/opportunities/{deal.pk}/",
        {"name": "Renamed", "expected_close_date": "2020-01-01"},
        format="json",
    )
    assert response.status_code == 200


@pytest.mark.parametrize(("data", "field", "error"), edits())
def test_the_direct_deal_form_and_api_apply_the_rules(
    world, stages, client_for, in_tenant, data, field, error
):
    form = {"customer_name": "Tailspin", "name": "Direct", "owner": "", **real(data)}
    response = client_for(world.channel_manager).post(reverse("vendor:opportunity_create"), form)
    assert response.context["form"].errors == {field: [error]}

    body = {"customer": {"name": "Tailspin"}, "name": "Direct", **real(data)}
    answer = api_as(world, "channel_manager").post("/api/v1/opportunities/", body, format="json")
    assert answer.status_code == 400
    assert answer.json()["error"]["fields"] == {field: [error]}
    with in_tenant(world.tenant):
        assert (Opportunity.objects.count(), Customer.objects.count()) == (0, 0)


@pytest.mark.parametrize("portal", ["partner", "vendor"])
def test_closing_won_refuses_a_zero_amount(world, deal, client_for, in_tenant, portal):
    actor = world.partner_rep if portal == "partner" else world.channel_manager
    before = state(world, in_tenant, deal)
    response = client_for(actor).post(
        reverse(f"{portal}:opportunity_close_won", args=[deal.pk]),
        {"amount": "0", "close_date": timezone.localdate().isoformat()},
    )
    assert messages_of(response) == [f"Amount: {AMOUNT_RULE}"]
    assert state(world, in_tenant, deal) == before


def test_the_services_apply_the_rules_too(world, deal, in_tenant):
    with in_tenant(world.tenant):
        with pytest.raises(ValidationFailed) as refused:
            svc.opportunity_update(
                tenant=world.tenant,
                actor=world.partner_rep,
                opportunity_id=deal.pk,
                expected_close_date=date(1900, 1, 1),
            )
        assert refused.value.fields == {"expected_close_date": [PAST]}
        with pytest.raises(ValidationFailed) as refused:
            svc.opportunity_update(
                tenant=world.tenant, actor=world.partner_rep, opportunity_id=deal.pk, amount=0
            )
        assert refused.value.fields == {"amount": [AMOUNT_RULE]}

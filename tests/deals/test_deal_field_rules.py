"""The same amount and close-date rules on the registration form and API as on every deal
form: an amount given is above zero; a close date is today or later and within ten years.
A refused input is a clear field error and nothing is saved."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deals.models import DealRegistration
from tests.api_clients import api_as
from tests.deals.api_helpers import URL, json_body
from tests.deals.test_partner_pages import form_post

AMOUNT_RULE = "Above 0 and at most 999,999,999,999.99."
CASES = [
    ({"amount": "0"}, "amount", AMOUNT_RULE),
    ({"amount": "0.00"}, "amount", AMOUNT_RULE),
    ({"expected_close_date": "1900-01-01"}, "expected_close_date", "Today or later."),
    (
        {"expected_close_date": "FAR"},
        "expected_close_date",
        "Within 10 years from today.",
    ),
]


def far() -> str:
    return (timezone.localdate() + timedelta(days=365 * 10 + 5)).isoformat()


def with_far(data: dict) -> dict:
    return {k: far() if v == "FAR" else v for k, v in data.items()}


def registrations_in(world, in_tenant) -> int:
    with in_tenant(world.tenant):
        return DealRegistration.objects.count()


@pytest.mark.parametrize(("data", "field", "error"), CASES)
@pytest.mark.parametrize("action", ["draft", "submit"])
def test_the_registration_form_applies_the_rules(
    deals_world, client_for, in_tenant, data, field, error, action
):
    response = client_for(deals_world.partner_rep).post(
        reverse("partner:registration_create"), form_post(action=action, **with_far(data))
    )

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    assert registrations_in(deals_world, in_tenant) == 0


@pytest.mark.parametrize(("data", "field", "error"), CASES)
def test_the_registration_api_applies_the_rules(deals_world, in_tenant, data, field, error):
    response = api_as(deals_world, "partner_rep").post(
        URL, json_body(**with_far(data)), format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {field: [error]}
    assert registrations_in(deals_world, in_tenant) == 0


def test_a_close_date_today_and_in_ten_years_are_fine(deals_world, client_for, in_tenant):
    today = timezone.localdate()
    for day in (today, date(today.year + 10, today.month, min(today.day, 28))):
        response = client_for(deals_world.partner_rep).post(
            reverse("partner:registration_create"),
            form_post(action="draft", expected_close_date=day.isoformat()),
        )
        assert response.status_code == 302
    assert registrations_in(deals_world, in_tenant) == 2

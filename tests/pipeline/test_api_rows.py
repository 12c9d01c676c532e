"""The opportunity endpoints write their rows with a plain function (pipeline/serializers.py
`opportunity_row`, read as values); OpportunityOutput stays the documented contract. Both
writers must give the same JSON, nulls, dates, money and the nested parts included."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from pipeline.models import Customer, LostReason, Opportunity
from pipeline.selectors import opportunity_list_for
from pipeline.serializers import OpportunityOutput
from tests.api_clients import api_as
from tests.conftest import World
from tests.pipeline.test_api_opportunities import URL, deal_url, deals  # noqa: F401


def serialized(serializer: OpportunityOutput) -> object:
    return json.loads(JSONRenderer().render(serializer.data))


def vary(world: World, deals: dict[str, Opportunity]) -> None:  # noqa: F811
    """A lost deal with its reason, a won one, a stale one, nulls and a blank country."""
    reason = LostReason.objects.get_or_create(
        tenant=world.tenant, code="price", defaults={"label": "Price"}
    )[0]
    yesterday = timezone.localdate() - timedelta(days=1)
    Opportunity.objects.filter(pk=deals["rep"].pk).update(
        status="lost", lost_reason=reason, lost_note="Too dear", closed_on=yesterday
    )
    Opportunity.objects.filter(pk=deals["admin"].pk).update(
        amount=Decimal("12500.5"), expected_close_date=yesterday, next_step_date=date(2030, 1, 2)
    )
    Opportunity.objects.filter(pk=deals["other"].pk).update(amount=None, expected_close_date=None)
    Customer.objects.filter(pk=deals["direct"].customer_id).update(country="")


def test_the_list_writes_what_the_serializer_writes(world: World, deals, in_tenant):  # noqa: F811
    with in_tenant(world.tenant):
        vary(world, deals)

    body = api_as(world, "vendor_admin").get(URL).json()["results"]

    with in_tenant(world.tenant):
        listed = opportunity_list_for(membership=world.vendor_admin).select_related("lost_reason")
        expected = serialized(OpportunityOutput(listed, many=True))
    assert len(body) == 4
    assert body == expected
    assert {row["lost_reason_code"] for row in body} == {"price", None}


def test_the_detail_writes_what_the_serializer_writes(world: World, deals, in_tenant):  # noqa: F811
    with in_tenant(world.tenant):
        vary(world, deals)
    client = api_as(world, "vendor_admin")

    for deal in (deals["rep"], deals["admin"], deals["direct"]):
        body = client.get(deal_url(deal.pk)).json()
        with in_tenant(world.tenant):
            listed = opportunity_list_for(membership=world.vendor_admin)
            expected = serialized(OpportunityOutput(listed.get(pk=deal.pk)))
        assert body == expected

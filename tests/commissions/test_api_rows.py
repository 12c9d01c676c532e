"""The ledger endpoints write their rows with a plain function (commissions/serializers.py
`entry_row`, read as values); CommissionEntryOutput stays the documented contract. Both
writers must give the same JSON: accruals, an approved entry, a clawback."""

from __future__ import annotations

import json

import pytest
from rest_framework.renderers import JSONRenderer

from accounts.tenancy import tenant_context
from commissions.selectors import entry_list_for
from commissions.serializers import CommissionEntryOutput
from tests.api_clients import api_as
from tests.commissions.api_helpers import URL, Ledger, approve, build_ledger, entry_url, reopen
from tests.conftest import World


@pytest.fixture
def ledger(deals_world: World, plan, partner_deal, close_won) -> Ledger:
    ledger = build_ledger(deals_world, partner_deal, close_won)
    approve(deals_world, ledger.admin)
    reopen(deals_world, ledger.rep)  # a clawback
    return ledger


def serialized(data: object) -> object:
    return json.loads(JSONRenderer().render(data))


@pytest.mark.parametrize("actor", ["channel_manager", "partner_admin"])
def test_the_list_and_detail_write_what_the_serializer_writes(deals_world: World, ledger, actor):
    member = getattr(deals_world, actor)
    client = api_as(deals_world, actor)

    body = client.get(URL).json()["results"]

    with tenant_context(deals_world.tenant):
        entries = list(entry_list_for(membership=member))
    assert body == serialized(CommissionEntryOutput(entries, many=True).data)
    assert {row["status"] for row in body} >= {"approved", "accrued"}
    assert any(row["reverses_id"] for row in body)
    for entry in entries:
        detail = client.get(entry_url(entry.pk)).json()
        assert detail == serialized(CommissionEntryOutput(entry).data)

"""Both sides edit the fields they share at random; after each round of sync every edit
made on both sides is a visible conflict holding both values, and every one-sided edit
reached the other side. Nothing is lost, nothing is overwritten silently."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.tenancy import tenant_context
from integrations.models import SyncConflict
from integrations.services.crm_conflicts import sync_conflict_resolve
from integrations.services.crm_sync import crm_pull, crm_push
from pipeline.models import Opportunity
from pipeline.services.opportunity_edits import opportunity_update
from tests.conftest import World
from tests.pipeline.factories import OpportunityFactory

ROUNDS = 30
TODAY = timezone.localdate()


def ours(world: World, deal_id: int) -> dict[str, str]:
    with tenant_context(world.tenant):
        deal = Opportunity.objects.get(pk=deal_id)
    return {"amount": f"{deal.amount:.2f}", "close": deal.expected_close_date.isoformat()}


def theirs(salesforce, deal_id: int) -> dict[str, str]:
    record = salesforce.by_prm_id(deal_id)[0]
    return {"amount": f"{Decimal(str(record['Amount'])):.2f}", "close": record["CloseDate"]}


def sync(world: World, connection, deal_id: int) -> None:
    with tenant_context(world.tenant):
        crm_pull(tenant=world.tenant, connection_id=connection.pk)
    with tenant_context(world.tenant):
        crm_push(tenant=world.tenant, connection_id=connection.pk, opportunity_id=deal_id)


def open_conflicts(world: World) -> dict[str, tuple[str, str]]:
    names = {"amount": "amount", "expected_close_date": "close"}
    with tenant_context(world.tenant):
        rows = SyncConflict.objects.filter(status="open").values_list(
            "pk", "field", "ours", "theirs"
        )
        return {names[field]: (pk, mine, their) for pk, field, mine, their in rows}


OUR_FIELDS = {"amount": "amount", "close": "expected_close_date"}


def our_value(field: str, value: str) -> object:
    return Decimal(value) if field == "amount" else date.fromisoformat(value)


def new_value(rng: random.Random, field: str) -> str:
    if field == "amount":
        return f"{rng.randint(1, 500) * 100}.00"
    return (TODAY + timedelta(days=rng.randint(1, 300))).isoformat()


def test_random_edits_on_both_sides_end_in_conflicts_never_lost(world, connected, salesforce):
    rng = random.Random(20261201)
    deal = OpportunityFactory(
        tenant=world.tenant, amount=Decimal(1000), expected_close_date=TODAY + timedelta(days=30)
    )
    sync(world, connected, deal.pk)
    crm_id = salesforce.by_prm_id(deal.pk)[0]["Id"]
    conflicts_seen = 0

    for _ in range(ROUNDS):
        agreed = ours(world, deal.pk)
        assert theirs(salesforce, deal.pk) == agreed
        edits: dict[str, dict[str, str]] = {"ours": {}, "theirs": {}}
        for field in ("amount", "close"):
            for side in ("ours", "theirs"):
                if rng.random() < 0.45:
                    edits[side][field] = new_value(rng, field)
        if edits["ours"]:
            with tenant_context(world.tenant):
                opportunity_update(
                    tenant=world.tenant,
                    actor=world.vendor_admin,
                    opportunity_id=deal.pk,
                    **{OUR_FIELDS[f]: our_value(f, v) for f, v in edits["ours"].items()},
                )
        if edits["theirs"]:
            salesforce.edit(
                crm_id,
                **{
                    {"amount": "Amount", "close": "CloseDate"}[f]: (
                        float(v) if f == "amount" else v
                    )
                    for f, v in edits["theirs"].items()
                },
            )

        sync(world, connected, deal.pk)

        conflicts = open_conflicts(world)
        for field in ("amount", "close"):
            mine, their = edits["ours"].get(field), edits["theirs"].get(field)
            if mine and their and mine != their:
                assert field in conflicts, (field, mine, their)
                assert conflicts[field][1:] == (mine, their)  # both values kept, visibly
            else:
                assert field not in conflicts
                expected = their or mine or agreed[field]
                assert ours(world, deal.pk)[field] == expected
                assert theirs(salesforce, deal.pk)[field] == expected
        for pk, _, _ in conflicts.values():
            conflicts_seen += 1
            resolution = rng.choice(["keep_ours", "take_theirs", "edit"])
            with tenant_context(world.tenant):
                field = SyncConflict.objects.get(pk=pk).field
                sync_conflict_resolve(
                    tenant=world.tenant, actor=world.vendor_admin, conflict_id=pk,
                    resolution=resolution,
                    value=new_value(rng, "amount" if field == "amount" else "close"),
                )  # fmt: skip
        sync(world, connected, deal.pk)
        assert open_conflicts(world) == {}

    assert conflicts_seen >= 5  # the seed exercises the conflict path, not only the easy ones

"""External ids of customers and opportunities, and the upsert of an opportunity by its
id in another system (what a CRM integration calls to create or update a deal).

The upsert goes through the ordinary services (create, edit, move stage, close), so the
history, the audit log, the domain events and the stage rules apply as to any other
change. Two upserts of the same id at the same moment create one deal: a transaction-
scoped advisory lock on (tenant, system, id) serializes them, and the unique constraint on
the external id stays the final arbiter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from accounts.errors import ValidationFailed
from accounts.external_ids import external_id_clean, system_clean
from accounts.models import Membership, Tenant, User
from accounts.permissions import require_vendor
from accounts.services.external_ids import external_ids_write
from pipeline.models import (
    Customer,
    CustomerExternalId,
    Opportunity,
    OpportunityExternalId,
    Stage,
)
from pipeline.services import opportunities as lifecycle
from pipeline.services.customers import customer_get_or_create
from pipeline.services.opportunity_edits import (
    lock_opportunity,
    opportunity_create_direct,
    opportunity_update,
)


@transaction.atomic
def opportunity_external_ids_set(
    *, tenant: Tenant, actor: Membership, opportunity_id: int, external_ids: Mapping[str, Any]
) -> dict[str, str]:
    """Set or (with null) remove the deal's ids in the systems named (vendor roles)."""
    require_vendor(actor)
    opportunity = lock_opportunity(tenant, actor, opportunity_id)
    return external_ids_write(
        tenant=tenant,
        model=OpportunityExternalId,
        owner_id=opportunity.pk,
        external_ids=external_ids,
    )


@transaction.atomic
def customer_external_ids_set(
    *, tenant: Tenant, actor: Membership, customer: Customer, external_ids: Mapping[str, Any]
) -> dict[str, str]:
    require_vendor(actor)
    return external_ids_write(
        tenant=tenant, model=CustomerExternalId, owner_id=customer.pk, external_ids=external_ids
    )


def lock_external_id(*, tenant_id: int, kind: str, system: str, external_id: str) -> None:
    """Serialize the writers of one external id (until the transaction ends)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))",
            [f"external-id:{kind}:{system}:{external_id}", tenant_id],
        )


@dataclass(frozen=True)
class UpsertResult:
    opportunity: Opportunity
    created: bool


@transaction.atomic
def opportunity_upsert_by_external_id(  # noqa: PLR0913
    *,
    tenant: Tenant,
    actor: Membership,
    system: str,
    external_id: str,
    changes: Mapping[str, Any],
    customer: Mapping[str, Any] | None = None,
    owner: User | None = None,
    stage: Stage | None = None,
    external_ids: Mapping[str, Any] | None = None,
) -> UpsertResult:
    """Create the deal that `system` knows as `external_id`, or update the one already
    linked to it. Only the fields that differ are written, so sending the same body again
    changes nothing. A stage given is reached through the lifecycle (its rules apply)."""
    require_vendor(actor)
    system = system_clean(system)
    external_id = external_id_clean(external_id, field="external_id")
    others = dict(external_ids or {})
    if others.get(system, external_id) != external_id:
        raise ValidationFailed(
            f"external_ids.{system} differs from the id in the path.",
            fields={"external_ids": [f"{system}: must match the id in the path or be left out."]},
        )
    others[system] = external_id
    lock_external_id(
        tenant_id=tenant.pk, kind="opportunity", system=system, external_id=external_id
    )
    linked = (
        OpportunityExternalId.objects.for_tenant(tenant)
        .filter(system=system, external_id=external_id)
        .values_list("opportunity_id", flat=True)
        .first()
    )
    if linked is None:
        opportunity = _create(tenant, actor, customer, owner, changes)
    else:
        opportunity = _update(tenant, actor, linked, changes)
    external_ids_write(
        tenant=tenant, model=OpportunityExternalId, owner_id=opportunity.pk, external_ids=others
    )
    if customer and customer.get("external_ids"):
        customer_external_ids_set(
            tenant=tenant,
            actor=actor,
            customer=opportunity.customer,
            external_ids=customer["external_ids"],
        )
    if stage is not None and stage.pk != opportunity.stage_id:
        opportunity_reach_stage(tenant, actor, opportunity.pk, stage)
    opportunity.refresh_from_db()
    return UpsertResult(opportunity=opportunity, created=linked is None)


def _create(
    tenant: Tenant,
    actor: Membership,
    customer: Mapping[str, Any] | None,
    owner: User | None,
    changes: Mapping[str, Any],
) -> Opportunity:
    if not customer or "name" not in changes:
        missing = [
            f for f in ("customer", "name") if not (customer if f == "customer" else f in changes)
        ]
        raise ValidationFailed(
            "A new deal needs a name and a customer.",
            fields={f: ["Required to create the deal."] for f in missing},
        )
    found = _customer_by_external_ids(tenant, customer.get("external_ids") or {})
    if found is None:
        fields = {k: customer[k] for k in ("name", "website", "country") if k in customer}
        found, _ = customer_get_or_create(tenant=tenant, **fields)
    return opportunity_create_direct(
        tenant=tenant, actor=actor, customer=found, owner=owner, **dict(changes)
    )


def _customer_by_external_ids(tenant: Tenant, external_ids: Mapping[str, Any]) -> Customer | None:
    for system, value in external_ids.items():
        if value is None:
            continue
        linked = (
            CustomerExternalId.objects.for_tenant(tenant)
            .filter(system=system, external_id=value)
            .select_related("customer")
            .first()
        )
        if linked is not None:
            return linked.customer
    return None


def _update(
    tenant: Tenant, actor: Membership, opportunity_id: int, changes: Mapping[str, Any]
) -> Opportunity:
    opportunity = lock_opportunity(tenant, actor, opportunity_id)
    differing = {
        field: value for field, value in changes.items() if getattr(opportunity, field) != value
    }
    if differing:
        opportunity = opportunity_update(
            tenant=tenant, actor=actor, opportunity_id=opportunity_id, **differing
        )
    return opportunity


def opportunity_reach_stage(
    tenant: Tenant, actor: Membership, opportunity_id: int, stage: Stage
) -> None:
    """Move, close won or close lost, as the target stage's kind says."""
    if stage.kind == Stage.Kind.WON:
        lifecycle.opportunity_close_won(tenant=tenant, actor=actor, opportunity_id=opportunity_id)
    elif stage.kind == Stage.Kind.LOST:
        lifecycle.opportunity_close_lost(
            tenant=tenant, actor=actor, opportunity_id=opportunity_id, reason_code=""
        )
    else:
        lifecycle.opportunity_move_stage(
            tenant=tenant, actor=actor, opportunity_id=opportunity_id, stage_id=stage.pk
        )

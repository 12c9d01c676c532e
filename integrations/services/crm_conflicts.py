"""Resolving a sync conflict (vendor admins): keep ours (the CRM gets our value on the next
push), take theirs (written here through the services), or enter a value (written here,
then pushed). Retrying a sync error re-runs its push or the poll."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.errors import Conflict, NotFound, ValidationFailed
from accounts.models import Membership, Tenant
from accounts.permissions import require_vendor_admin
from accounts.queue import enqueue_on_commit
from accounts.services.audit import audit_record
from integrations.models import CrmConnection, CrmRecordState, SyncConflict, SyncError
from integrations.services.crm_mapping import canonical
from integrations.services.crm_push import PUSH_TASK
from integrations.services.crm_sync import apply_value, lock_deal

PULL_TASK = "integrations.tasks.crm_pull"


def _lock_conflict(tenant: Tenant, conflict_id: int) -> SyncConflict:
    conflict = (
        SyncConflict.objects.for_tenant(tenant)
        .select_for_update()
        .select_related("connection")
        .filter(pk=conflict_id)
        .first()
    )
    if conflict is None:
        raise NotFound
    if conflict.status != SyncConflict.Status.OPEN:
        raise Conflict("This conflict is already resolved.")
    return conflict


@transaction.atomic
def sync_conflict_resolve(
    *, tenant: Tenant, actor: Membership, conflict_id: int, resolution: str, value: str = ""
) -> SyncConflict:
    require_vendor_admin(actor)
    conflict = _lock_conflict(tenant, conflict_id)
    connection = conflict.connection
    lock_deal(connection.pk, conflict.opportunity_id)
    if resolution == SyncConflict.Resolution.KEEP_OURS:
        chosen = conflict.ours
    elif resolution == SyncConflict.Resolution.TAKE_THEIRS:
        chosen = conflict.theirs
        apply_value(connection, conflict.opportunity_id, conflict.field, chosen)
    elif resolution == SyncConflict.Resolution.EDIT:
        chosen = canonical(conflict.field, value.strip())
        if not chosen or len(chosen) > 500:
            raise ValidationFailed("Enter the value to keep.", fields={"value": ["Required."]})
        apply_value(connection, conflict.opportunity_id, conflict.field, chosen)
    else:
        raise ValidationFailed("Choose how to resolve.", fields={"resolution": ["Choose one."]})
    _settle_base(connection, conflict)
    conflict.status = SyncConflict.Status.RESOLVED
    conflict.resolution = resolution
    conflict.resolved_value = chosen
    conflict.resolved_by = actor.user
    conflict.resolved_at = conflict.updated_at = timezone.now()
    conflict.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="sync_conflict_resolved",
        subject=conflict,
        after={"field": conflict.field, "resolution": resolution, "value": chosen},
    )
    if resolution != SyncConflict.Resolution.TAKE_THEIRS:
        enqueue_on_commit(PUSH_TASK, tenant.pk, connection.pk, conflict.opportunity_id)
    return conflict


def _settle_base(connection: CrmConnection, conflict: SyncConflict) -> None:
    """The CRM's value becomes the base: ours now differs from it only if we keep or edit,
    and then the push sends ours (the CRM did not change since)."""
    state = CrmRecordState.objects.filter(
        connection=connection, opportunity_id=conflict.opportunity_id
    ).first()
    if state is not None:
        state.base = {**state.base, conflict.field: conflict.theirs}
        state.save(update_fields=["base"])


@transaction.atomic
def sync_error_retry(*, tenant: Tenant, actor: Membership, error_id: int) -> SyncError:
    require_vendor_admin(actor)
    error = SyncError.objects.for_tenant(tenant).select_for_update().filter(pk=error_id).first()
    if error is None:
        raise NotFound
    if error.retried_at is not None:
        raise Conflict("Already retried.")
    error.retried_at = timezone.now()
    error.save(update_fields=["retried_at"])
    if error.opportunity_id is not None and error.direction == SyncError.Direction.PUSH:
        enqueue_on_commit(PUSH_TASK, tenant.pk, error.connection_id, error.opportunity_id)
    else:
        enqueue_on_commit(PULL_TASK, tenant.pk, error.connection_id)
    return error


def crm_sync_now(*, tenant: Tenant, actor: Membership, connection: CrmConnection) -> None:
    require_vendor_admin(actor)
    enqueue_on_commit(PULL_TASK, tenant.pk, connection.pk)

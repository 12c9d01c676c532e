"""Two-way sync of deals with a tenant's CRM.

PRM → CRM (`crm_push`): the worker pushes a deal once an approved registration opened it
and whenever it moves; the CRM upserts by the field holding our id, so a change sent ten
times is one record. Fields the CRM owns are never pushed; first-sync fields only when
the CRM record is created; a field both own is pushed only if the CRM did not change it
too since the last sync (else it becomes a conflict).

CRM → PRM (`crm_pull`): a poll of the records whose modstamp moved since the last poll,
less a look-back window; a record's change older than the last one applied (a duplicate
or out-of-order event) is skipped. CRM-owned fields are applied through our services; a
field both own that changed on both sides becomes a SyncConflict; a change our rules
refuse (a stage move, a past close date) becomes a conflict too, never a silent skip.

Each deal's sync runs under a transaction-scoped advisory lock on (connection, deal).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection as db
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.errors import ApplicationError
from accounts.models import Membership, Role, Tenant
from accounts.services.external_ids import ExternalIdTaken, external_ids_write
from integrations.crm.base import CrmConnector, CrmError, CrmRecord, CrmTransientError
from integrations.crm.credentials import credentials_decrypt, credentials_encrypt
from integrations.crm.hubspot import hubspot_connector
from integrations.crm.salesforce import salesforce_connector
from integrations.models import CrmConnection, CrmRecordState, FieldOwner, SyncConflict, SyncError
from integrations.services.crm_mapping import (
    Mapped,
    from_crm,
    mappings,
    prm_values,
    to_crm,
)
from pipeline.models import Opportunity, OpportunityExternalId, Stage
from pipeline.services.activities import activity_add
from pipeline.services.external_ids import opportunity_reach_stage
from pipeline.services.opportunity_edits import opportunity_update

FIRST_POLL_WINDOW = timedelta(days=1)
PUSHED_OWNERS = {FieldOwner.PRM, FieldOwner.BOTH, FieldOwner.FIRST_SYNC}
PULLED_OWNERS = {FieldOwner.CRM, FieldOwner.BOTH}


def connector_for(connection: CrmConnection) -> CrmConnector:
    credentials = credentials_decrypt(connection.credentials)
    fields = [m.crm for m in mappings(connection)]
    if connection.system == CrmConnection.System.SALESFORCE:
        return salesforce_connector(
            credentials=credentials,
            external_id_field=connection.external_id_field,
            fields=fields,
        )
    return hubspot_connector(
        credentials=credentials, external_id_field=connection.external_id_field, fields=fields
    )


def sync_actor(connection: CrmConnection) -> Membership:
    """Who sync acts as in history and audit: the admin who connected the CRM, with a
    vendor admin's rights (unsaved: sync is not a login)."""
    return Membership(
        tenant_id=connection.tenant_id, user=connection.acting_user, role=Role.VENDOR_ADMIN
    )


def lock_deal(connection_id: int, opportunity_id: int) -> None:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, %s))",
            [f"crm-sync:{connection_id}:{opportunity_id}", connection_id],
        )


def _stages(tenant_id: int) -> dict[int, Stage]:
    return {s.pk: s for s in Stage.objects.filter(tenant_id=tenant_id)}


def _keep_credentials(connection: CrmConnection, connector: CrmConnector) -> None:
    refreshed = connector.refreshed_credentials()
    if refreshed:
        CrmConnection.objects.filter(pk=connection.pk).update(
            credentials=credentials_encrypt(refreshed)
        )


def sync_error(
    connection: CrmConnection,
    *,
    direction: str,
    message: str,
    opportunity_id: int | None = None,
    crm_id: str = "",
) -> None:
    SyncError.objects.create(
        tenant_id=connection.tenant_id,
        connection=connection,
        opportunity_id=opportunity_id,
        direction=direction,
        crm_id=crm_id[:255],
        message=message[:500],
    )


def conflict_open(
    connection: CrmConnection,
    opportunity_id: int,
    field: str,
    *,
    kind: str,
    ours: str,
    theirs: str,
    base: str,
    reason: str = "",
) -> SyncConflict:
    """The open conflict of this deal's field, with both sides' latest values (a later
    edit on either side updates it; none is lost)."""
    conflict, _ = SyncConflict.objects.update_or_create(
        tenant_id=connection.tenant_id,
        connection=connection,
        opportunity_id=opportunity_id,
        field=field,
        status=SyncConflict.Status.OPEN,
        defaults={
            "kind": kind,
            "ours": ours[:500],
            "theirs": theirs[:500],
            "base": base[:500],
            "reason": reason[:500],
            "updated_at": timezone.now(),
        },
    )
    return conflict


# --- PRM → CRM ----------------------------------------------------------------------------------


RETRY = "retry"


@transaction.atomic
def crm_push(*, tenant: Tenant | int, connection_id: int, opportunity_id: int) -> bool | str:
    """Send the deal's PRM-side changes; True if the CRM was called, RETRY when the CRM is
    rate limiting or down (the task tries again). Other CRM errors are recorded for the
    status page."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    connection = CrmConnection.objects.filter(
        tenant_id=tenant_id, pk=connection_id, is_active=True
    ).first()
    opportunity = Opportunity.objects.filter(tenant_id=tenant_id, pk=opportunity_id).first()
    if connection is None or opportunity is None:
        return False
    lock_deal(connection.pk, opportunity.pk)
    state = CrmRecordState.objects.filter(connection=connection, opportunity=opportunity).first()
    try:
        connector = connector_for(connection)
    except CrmError as error:
        sync_error(connection, direction="push", message=str(error), opportunity_id=opportunity_id)
        return False
    try:
        with transaction.atomic():
            return _push(connection, connector, opportunity, state)
    except CrmTransientError:
        return RETRY
    except CrmError as error:
        sync_error(
            connection,
            direction=SyncError.Direction.PUSH,
            message=str(error),
            opportunity_id=opportunity.pk,
            crm_id=state.crm_id if state else "",
        )
        return False
    finally:
        _keep_credentials(connection, connector)


def _push(
    connection: CrmConnection,
    connector: CrmConnector,
    opportunity: Opportunity,
    state: CrmRecordState | None,
) -> bool:
    fields = mappings(connection)
    first = state is None or not state.crm_id
    base = {} if state is None else dict(state.base)
    ours = prm_values(opportunity, fields)
    theirs = _their_values(connection, connector, opportunity, fields) if not first else {}
    stages = _stages(connection.tenant_id)
    send: dict[str, object] = {}
    pushed: dict[str, str] = {}
    for mapped in fields:
        if not _pushes(mapped, first) or mapped.prm not in ours:
            continue
        value = ours[mapped.prm]
        if not first and value == base.get(mapped.prm, ""):
            continue
        if mapped.owner == FieldOwner.BOTH and not first:
            their = theirs.get(mapped.prm, base.get(mapped.prm, ""))
            if their not in (base.get(mapped.prm, ""), value):
                conflict_open(
                    connection, opportunity.pk, mapped.prm,
                    kind=SyncConflict.Kind.BOTH_CHANGED,
                    ours=value, theirs=their, base=base.get(mapped.prm, ""),
                )  # fmt: skip
                continue
        send[mapped.crm] = to_crm(connection, mapped.prm, value, stages)
        pushed[mapped.prm] = value
    if not send and state is not None and not first:
        state.synced_at = timezone.now()  # looked at: nothing of ours to send
        state.save(update_fields=["synced_at"])
        return False
    outcome = connector.upsert_deal(prm_id=str(opportunity.pk), fields=send)  # type: ignore[arg-type]
    _remember(connection, opportunity, state, crm_id=outcome.crm_id, values=pushed)
    return True


def _pushes(mapped: Mapped, first: bool) -> bool:
    if mapped.owner == FieldOwner.FIRST_SYNC:
        return first
    return mapped.owner in PUSHED_OWNERS and mapped.prm != "notes"


def _their_values(
    connection: CrmConnection,
    connector: CrmConnector,
    opportunity: Opportunity,
    fields: list[Mapped],
) -> dict[str, str]:
    """The CRM's current values of the fields both own (one read, only when there are)."""
    both = [m for m in fields if m.owner == FieldOwner.BOTH]
    if not both:
        return {}
    record = connector.get_deal(prm_id=str(opportunity.pk))
    if record is None:
        return {}
    stages = _stages(connection.tenant_id)
    values = {}
    for mapped in both:
        value = from_crm(connection, mapped.prm, record.fields.get(mapped.crm, ""), stages)
        if value is not None:
            values[mapped.prm] = value
    return values


def _remember(
    connection: CrmConnection,
    opportunity: Opportunity,
    state: CrmRecordState | None,
    *,
    crm_id: str,
    values: dict[str, str],
) -> None:
    if state is None:
        state = CrmRecordState(
            tenant_id=connection.tenant_id, connection=connection, opportunity=opportunity
        )
    if crm_id and state.crm_id != crm_id:
        state.crm_id = crm_id
        try:
            external_ids_write(
                tenant=connection.tenant,
                model=OpportunityExternalId,
                owner_id=opportunity.pk,
                external_ids={connection.system: crm_id},
            )
        except ExternalIdTaken:  # e.g. a CRM sandbox reset reusing ids: say so, keep syncing
            sync_error(
                connection,
                direction=SyncError.Direction.PUSH,
                message="This CRM id is already linked to another deal here.",
                opportunity_id=opportunity.pk,
                crm_id=crm_id,
            )
    state.base = {**state.base, **values}
    state.synced_at = timezone.now()
    state.save()


# --- CRM → PRM ----------------------------------------------------------------------------------


@transaction.atomic
def crm_pull(*, tenant: Tenant | int, connection_id: int) -> int | str:
    """Apply the CRM's changes since the last poll; returns how many records changed us, or
    RETRY when the CRM is rate limiting or down."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    connection = (
        CrmConnection.objects.select_for_update(skip_locked=True)
        .filter(tenant_id=tenant_id, pk=connection_id, is_active=True)
        .first()
    )
    if connection is None:
        return 0  # gone, paused, or another worker is polling it right now
    now = timezone.now()
    since = (connection.polled_until or now - FIRST_POLL_WINDOW) - timedelta(
        seconds=connection.lookback_seconds
    )
    connection.last_run_at = now
    connection.save(update_fields=["last_run_at"])
    try:
        connector = connector_for(connection)
        records = connector.changed_deals(since=since)
    except CrmTransientError:
        return RETRY
    except CrmError as error:
        sync_error(connection, direction=SyncError.Direction.PULL, message=str(error))
        return 0
    _keep_credentials(connection, connector)
    applied = sum(crm_pull_record(connection, record) for record in records)
    newest = max((r.modstamp for r in records), default=None)
    if newest is not None and (connection.polled_until is None or newest > connection.polled_until):
        connection.polled_until = newest
    connection.last_success_at = now
    connection.save(update_fields=["last_success_at", "polled_until"])
    return applied


def _deal_of(connection: CrmConnection, record: CrmRecord) -> Opportunity | None:
    state = CrmRecordState.objects.filter(connection=connection, crm_id=record.crm_id).first()
    if state is not None:
        return Opportunity.objects.filter(pk=state.opportunity_id).first()
    if record.prm_id.isdigit():
        return Opportunity.objects.filter(
            tenant_id=connection.tenant_id, pk=int(record.prm_id)
        ).first()
    return None  # not one of ours: created in the CRM, not synced


def crm_pull_record(connection: CrmConnection, record: CrmRecord) -> bool:
    opportunity = _deal_of(connection, record)
    if opportunity is None:
        return False
    with transaction.atomic():
        lock_deal(connection.pk, opportunity.pk)
        state = CrmRecordState.objects.filter(
            connection=connection, opportunity=opportunity
        ).first() or CrmRecordState(
            tenant_id=connection.tenant_id,
            connection=connection,
            opportunity=opportunity,
            crm_id=record.crm_id,
        )
        if state.crm_modstamp is not None and record.modstamp <= state.crm_modstamp:
            return False  # a duplicate, or older than a change already applied
        if record.deleted:
            return _deleted(connection, opportunity, state, record)
        changed = _apply_record(connection, opportunity, state, record)
        state.crm_modstamp = record.modstamp
        state.synced_at = timezone.now()
        state.save()
        return changed


def _deleted(
    connection: CrmConnection, opportunity: Opportunity, state: CrmRecordState, record: CrmRecord
) -> bool:
    """The CRM record is gone: our deal stays, unlinked, and the status page says so."""
    if state.pk:
        state.delete()
    OpportunityExternalId.objects.filter(
        opportunity=opportunity, system=connection.system, external_id=record.crm_id
    ).delete()
    sync_error(
        connection,
        direction=SyncError.Direction.PULL,
        message=f"Deleted in {connection.get_system_display()}: the deal is kept here, unlinked.",
        opportunity_id=opportunity.pk,
        crm_id=record.crm_id,
    )
    return True


def _apply_record(
    connection: CrmConnection, opportunity: Opportunity, state: CrmRecordState, record: CrmRecord
) -> bool:
    fields = [m for m in mappings(connection) if m.owner in PULLED_OWNERS]
    stages = _stages(connection.tenant_id)
    ours = prm_values(opportunity, fields)
    base = dict(state.base)
    changed = False
    for mapped in fields:
        raw = record.fields.get(mapped.crm, "")
        theirs = from_crm(connection, mapped.prm, raw, stages)
        before = base.get(mapped.prm, "")
        if theirs is None:
            conflict_open(
                connection, opportunity.pk, mapped.prm, kind=SyncConflict.Kind.REFUSED,
                ours=ours.get(mapped.prm, ""), theirs=raw, base=before,
                reason=f"The CRM stage {raw!r} is not in the stage mapping.",
            )  # fmt: skip
            continue
        if theirs == before:
            continue
        mine: str = ours[mapped.prm] if mapped.prm in ours else str(before)
        if mapped.prm != "notes" and mine == theirs:
            base[mapped.prm] = theirs  # both sides made the same change
            continue
        if mapped.prm != "notes" and mapped.owner == FieldOwner.BOTH and mine != before:
            conflict_open(
                connection, opportunity.pk, mapped.prm, kind=SyncConflict.Kind.BOTH_CHANGED,
                ours=mine, theirs=theirs, base=before,
            )  # fmt: skip
            continue
        try:
            with transaction.atomic():
                apply_value(connection, opportunity.pk, mapped.prm, theirs)
        except ApplicationError as error:
            conflict_open(
                connection, opportunity.pk, mapped.prm, kind=SyncConflict.Kind.REFUSED,
                ours=mine, theirs=theirs, base=before, reason=error.message,
            )  # fmt: skip
            continue
        base[mapped.prm] = theirs
        changed = True
    state.base = base
    return changed


def apply_value(connection: CrmConnection, opportunity_id: int, field: str, value: str) -> None:
    """Write one field on our side through the services (history, audit, stage rules)."""
    actor = sync_actor(connection)
    tenant = connection.tenant
    current = Opportunity.objects.get(pk=opportunity_id)
    if field == "notes":
        if value:
            activity_add(
                tenant=tenant, actor=actor, opportunity_id=opportunity_id, kind="note",
                body=f"From {connection.get_system_display()}: {value}"[:5000],
                vendor_internal=True,
            )  # fmt: skip
        return
    if field == "stage":
        if str(current.stage_id) != value:
            stage = Stage.objects.get(tenant_id=connection.tenant_id, pk=int(value))
            opportunity_reach_stage(tenant, actor, opportunity_id, stage)
        return
    if field == "amount":
        changes: dict[str, object] = {"amount": value or None}
    elif field == "expected_close_date":
        changes = {"expected_close_date": _date(value)}
    else:
        changes = {field: value}
    opportunity_update(tenant=tenant, actor=actor, opportunity_id=opportunity_id, **changes)


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def crm_gave_up(*, tenant: Tenant | int, connection_id: int, opportunity_id: int | None) -> None:
    """The CRM stayed rate limiting or down through every retry: on the status page."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    connection = CrmConnection.objects.filter(tenant_id=tenant_id, pk=connection_id).first()
    if connection is not None:
        sync_error(
            connection,
            direction=SyncError.Direction.PUSH if opportunity_id else SyncError.Direction.PULL,
            message="The CRM kept answering 429 or 5xx; retries exhausted.",
            opportunity_id=opportunity_id,
        )


def crm_connections_due(*, tenant: Tenant | int) -> list[int]:
    return list(
        CrmConnection.objects.filter(tenant=tenant, is_active=True).values_list("pk", flat=True)
    )


def crm_deals_edited_here(*, tenant: Tenant | int, connection_id: int) -> list[int]:
    """Linked deals edited here since their last sync (field edits send no outbox event;
    the poll pushes them)."""
    return list(
        CrmRecordState.objects.filter(
            tenant=tenant,
            connection_id=connection_id,
            opportunity__updated_at__gt=F("synced_at"),
        ).values_list("opportunity_id", flat=True)[:500]
    )

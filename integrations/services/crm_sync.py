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
The same poll reads the CRM's activities (Salesforce Tasks on Opportunities, HubSpot notes
on deals) changed since its own cursor and adds each activity of a linked deal once to the
deal's activity log (`CrmActivityLink`, one per connection and CRM activity id).

Each deal's sync runs under a transaction-scoped advisory lock on (connection, deal).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db import connection as db
from django.db.models import F, Q
from django.utils import timezone

from accounts.errors import ApplicationError, ValidationFailed
from accounts.models import Membership, Role, Tenant, User
from accounts.services.external_ids import ExternalIdTaken, external_ids_write
from accounts.tenancy import tenant_context
from deals.models import DealRegistration
from integrations.crm.base import (
    CrmActivity,
    CrmConnector,
    CrmError,
    CrmRecord,
    CrmTransientError,
    UpsertOutcome,
)
from integrations.crm.credentials import credentials_decrypt, credentials_encrypt
from integrations.crm.hubspot import hubspot_connector
from integrations.crm.salesforce import salesforce_connector
from integrations.models import (
    CrmActivityLink,
    CrmConnection,
    CrmRecordState,
    FieldOwner,
    SyncConflict,
    SyncError,
)
from integrations.services.crm_mapping import (
    Mapped,
    from_crm,
    mappings,
    prm_values,
    to_crm,
)
from integrations.services.crm_users import (
    crm_user_describe,
    crm_users_by_member,
    crm_users_refresh,
    member_user_of,
)
from pipeline.models import Opportunity, OpportunityExternalId, Stage
from pipeline.services.activities import activity_add
from pipeline.services.external_ids import opportunity_reach_stage
from pipeline.services.opportunity_edits import opportunity_owner_set, opportunity_update

FIRST_POLL_WINDOW = timedelta(days=1)
PUSHED_OWNERS = {FieldOwner.PRM, FieldOwner.BOTH, FieldOwner.FIRST_SYNC}
PULLED_OWNERS = {FieldOwner.CRM, FieldOwner.BOTH}
UNMAPPED = "crm:"  # a CRM owner no member is mapped to, as a conflict's "theirs"


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


@dataclass
class PushPlan:
    """What one push read in its first short transaction: the connection, our values of the
    deal, and the sync state (crm id, base) at that moment."""

    connection: CrmConnection
    opportunity_id: int
    ours: dict[str, str]
    crm_id: str
    base: dict[str, str]
    stages: dict[int, Stage]
    read_at: datetime
    users: dict[str, str] = field(default_factory=dict)  # our user id → CRM user id


@contextmanager
def one_push_at_a_time(connection_id: int, opportunity_id: int) -> Iterator[None]:
    """A session-level advisory lock (no transaction is opened for it): pushes of one deal
    run one after the other, so a second push reads what the first recorded and sends
    nothing twice. Released at the end, or when the session ends."""
    key: list[str | int] = [f"crm-push:{connection_id}:{opportunity_id}", connection_id]
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, %s))", key)
    try:
        yield
    finally:
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, %s))", key)


def crm_push(*, tenant: Tenant | int, connection_id: int, opportunity_id: int) -> bool | str:
    with one_push_at_a_time(connection_id, opportunity_id):
        return _crm_push(tenant=tenant, connection_id=connection_id, opportunity_id=opportunity_id)


def _crm_push(*, tenant: Tenant | int, connection_id: int, opportunity_id: int) -> bool | str:
    """Send the deal's PRM-side changes; True if the CRM was called, RETRY when the CRM is
    rate limiting or down (the task tries again). Other CRM errors are recorded for the
    status page.

    Three steps, and no transaction is open during the CRM's HTTP calls: read what to send
    (one short transaction), call the CRM (none), record what was sent (another short
    transaction, under the deal's advisory lock, re-checking the base a pull may have
    moved meanwhile)."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    with tenant_context(tenant_id):
        plan = _push_plan(tenant_id, connection_id, opportunity_id)
    if plan is None:
        return False
    connection = plan.connection
    try:
        connector = connector_for(connection)
    except CrmError as error:
        with tenant_context(tenant_id):
            sync_error(
                connection, direction="push", message=str(error), opportunity_id=opportunity_id
            )
        return False
    try:
        outcome, sent, conflicts = _push_call(plan, connector)  # HTTP, outside any transaction
    except CrmTransientError:
        with tenant_context(tenant_id):
            _keep_credentials(connection, connector)
        return RETRY
    except CrmError as error:
        with tenant_context(tenant_id):
            _keep_credentials(connection, connector)
            sync_error(
                connection,
                direction=SyncError.Direction.PUSH,
                message=str(error),
                opportunity_id=opportunity_id,
                crm_id=plan.crm_id,
            )
        return False
    with tenant_context(tenant_id):
        _keep_credentials(connection, connector)
        _push_record(plan, outcome, sent, conflicts)
    return outcome is not None


def _push_plan(tenant_id: int, connection_id: int, opportunity_id: int) -> PushPlan | None:
    connection = CrmConnection.objects.filter(
        tenant_id=tenant_id, pk=connection_id, is_active=True
    ).first()
    opportunity = Opportunity.objects.filter(tenant_id=tenant_id, pk=opportunity_id).first()
    if connection is None or opportunity is None:
        return None
    state = CrmRecordState.objects.filter(connection=connection, opportunity=opportunity).first()
    if state is not None and state.unlinked_at is not None:
        return None  # deleted in the CRM: kept here, unlinked, not recreated there
    fields = mappings(connection)
    return PushPlan(
        connection=connection,
        opportunity_id=opportunity.pk,
        ours=prm_values(opportunity, fields),
        crm_id=state.crm_id if state else "",
        base={} if state is None else dict(state.base),
        stages=_stages(tenant_id),
        read_at=timezone.now(),
        users=crm_users_by_member(connection) if any(m.prm == "owner" for m in fields) else {},
    )


Conflict = tuple[str, str, str, str]  # field, ours, theirs, base


def _push_call(
    plan: PushPlan, connector: CrmConnector
) -> tuple[UpsertOutcome | None, dict[str, str], list[Conflict]]:
    """The CRM calls of a push: a read of the fields both own (when there are), then the
    upsert of what changed here. No database access."""
    connection = plan.connection
    fields = mappings(connection)
    first = not plan.crm_id
    base = plan.base
    theirs = _their_values(connection, connector, plan, fields) if not first else {}
    send: dict[str, object] = {}
    pushed: dict[str, str] = {}
    conflicts: list[Conflict] = []
    for mapped in fields:
        if not _pushes(mapped, first) or mapped.prm not in plan.ours:
            continue
        value = plan.ours[mapped.prm]
        if not first and value == base.get(mapped.prm, ""):
            continue
        if mapped.owner == FieldOwner.BOTH and not first:
            their = theirs.get(mapped.prm, base.get(mapped.prm, ""))
            if their not in (base.get(mapped.prm, ""), value):
                conflicts.append((mapped.prm, value, their, base.get(mapped.prm, "")))
                continue
        if mapped.prm == "owner":
            if value not in plan.users:
                continue  # our owner is no CRM user (mapped on the settings page): not sent
            send[mapped.crm] = plan.users[value]
        else:
            send[mapped.crm] = to_crm(connection, mapped.prm, value, plan.stages)
        pushed[mapped.prm] = value
    if not send and not first:
        return None, {}, conflicts
    outcome = connector.upsert_deal(prm_id=str(plan.opportunity_id), fields=send)  # type: ignore[arg-type]
    return outcome, pushed, conflicts


def _push_record(
    plan: PushPlan,
    outcome: UpsertOutcome | None,
    sent: dict[str, str],
    conflicts: list[Conflict],
) -> None:
    """Record a push (its own short transaction). A pull that moved a pushed field's base
    while the CRM was being called means both sides changed it: a conflict where both own
    the field, not a silent overwrite of what the pull recorded."""
    connection = plan.connection
    lock_deal(connection.pk, plan.opportunity_id)
    opportunity = Opportunity.objects.filter(pk=plan.opportunity_id).first()
    if opportunity is None:
        return  # deleted here meanwhile
    state = CrmRecordState.objects.filter(connection=connection, opportunity=opportunity).first()
    owners = {m.prm: m.owner for m in mappings(connection)}
    fresh_base = {} if state is None else dict(state.base)
    values = {}
    for prm_field, value in sent.items():
        moved = fresh_base.get(prm_field, "") != plan.base.get(prm_field, "")
        if moved and state is not None and fresh_base.get(prm_field, "") != value:
            if owners.get(prm_field) == FieldOwner.BOTH:
                conflicts.append(
                    (prm_field, value, fresh_base.get(prm_field, ""), plan.base.get(prm_field, ""))
                )
            continue
        values[prm_field] = value
    for prm_field, ours, theirs, base in conflicts:
        conflict_open(
            connection, opportunity.pk, prm_field, kind=SyncConflict.Kind.BOTH_CHANGED,
            ours=ours, theirs=theirs, base=base,
        )  # fmt: skip
    if outcome is None:
        if state is not None:
            state.synced_at = plan.read_at  # looked at: nothing of ours to send
            state.save(update_fields=["synced_at"])
        return
    _remember(connection, opportunity, state, crm_id=outcome.crm_id, values=values, at=plan.read_at)


def _pushes(mapped: Mapped, first: bool) -> bool:
    if mapped.owner == FieldOwner.FIRST_SYNC:
        return first
    return mapped.owner in PUSHED_OWNERS and mapped.prm != "notes"


def _their_values(
    connection: CrmConnection,
    connector: CrmConnector,
    plan: PushPlan,
    fields: list[Mapped],
) -> dict[str, str]:
    """The CRM's current values of the fields both own (one read, only when there are)."""
    both = [m for m in fields if m.owner == FieldOwner.BOTH]
    if not both:
        return {}
    record = connector.get_deal(prm_id=str(plan.opportunity_id))
    if record is None:
        return {}
    values = {}
    our_user = {crm_id: user_id for user_id, crm_id in plan.users.items()}
    for mapped in both:
        raw = record.fields.get(mapped.crm, "")
        if mapped.prm == "owner":
            if raw in our_user:
                values["owner"] = our_user[raw]
            continue
        value = from_crm(connection, mapped.prm, raw, plan.stages)
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
    at: datetime,
) -> None:
    if state is None:
        state = CrmRecordState(
            tenant_id=connection.tenant_id, connection=connection, opportunity=opportunity
        )
    if crm_id and state.crm_id != crm_id:
        state.crm_id = crm_id
        try:
            with transaction.atomic():
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
    # The moment our values were read: an edit made here during the CRM call is newer, so
    # the poll's "edited here since the last sync" pushes it.
    state.synced_at = at
    state.save()


# --- CRM → PRM ----------------------------------------------------------------------------------


POLL_LEASE = timedelta(minutes=5)


def crm_pull(*, tenant: Tenant | int, connection_id: int) -> int | str:
    """Apply the CRM's changes since the last poll; returns how many records changed us, or
    RETRY when the CRM is rate limiting or down.

    No transaction is open during the CRM's HTTP calls: a short transaction takes the
    connection's poll lease (one poller at a time; a lease a dead worker left ends after
    POLL_LEASE), the CRM is read outside any transaction, then each record is applied in
    its own short transaction (the deal's advisory lock, our values read again there, so an
    edit made here during the call is compared, not overwritten), and a last one moves
    `polled_until` (only past records that were applied)."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.pk
    now = timezone.now()
    with tenant_context(tenant_id):
        taken = (
            CrmConnection.objects.filter(tenant_id=tenant_id, pk=connection_id, is_active=True)
            .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
            .update(poll_lease_until=now + POLL_LEASE, last_run_at=now)
        )
        connection = CrmConnection.objects.filter(pk=connection_id).first() if taken else None
    if connection is None:
        return 0  # gone, paused, or another worker is polling it right now
    try:
        return _pull_leased(tenant_id, connection, now)
    finally:
        with tenant_context(tenant_id):
            CrmConnection.objects.filter(pk=connection.pk).update(poll_lease_until=None)


def _pull_leased(tenant_id: int, connection: CrmConnection, now: datetime) -> int | str:
    lookback = timedelta(seconds=connection.lookback_seconds)
    since = (connection.polled_until or now - FIRST_POLL_WINDOW) - lookback
    activities_since = (connection.activities_polled_until or now - FIRST_POLL_WINDOW) - lookback
    activities: list[CrmActivity] = []
    activities_error = ""
    try:
        connector = connector_for(connection)
        records = connector.changed_deals(since=since)  # HTTP, outside any transaction
        owners_synced = any(m.prm == "owner" for m in mappings(connection))
        users = connector.users() if owners_synced and records else None
        try:
            activities = connector.activities(since=activities_since)  # HTTP, no transaction
        except CrmTransientError:
            raise
        except CrmError as error:  # e.g. no right to read Tasks / notes: the deals still sync
            activities_error = f"Activities not read: {error}"
    except CrmTransientError:
        return RETRY
    except CrmError as error:
        with tenant_context(tenant_id):
            sync_error(connection, direction=SyncError.Direction.PULL, message=str(error))
        return 0
    with tenant_context(tenant_id):
        _keep_credentials(connection, connector)
        if users is not None:
            crm_users_refresh(connection, users)
        if activities_error:
            _sync_error_once(connection, activities_error)
    applied = 0
    for record in records:
        with tenant_context(tenant_id):
            applied += crm_pull_record(connection, record)
    # After the deals: a deal linked by this poll takes its activities in the same poll.
    for activity in activities:
        with tenant_context(tenant_id):
            applied += crm_pull_activity(connection, activity)
    newest = max((r.modstamp for r in records), default=None)
    newest_activity = max((a.modstamp for a in activities), default=None)
    with tenant_context(tenant_id):
        changes: dict[str, object] = {"last_success_at": now}
        if newest is not None and (
            connection.polled_until is None or newest > connection.polled_until
        ):
            changes["polled_until"] = newest
        if newest_activity is not None and (
            connection.activities_polled_until is None
            or newest_activity > connection.activities_polled_until
        ):
            changes["activities_polled_until"] = newest_activity
        CrmConnection.objects.filter(pk=connection.pk).update(**changes)
    return applied


def _sync_error_once(connection: CrmConnection, message: str) -> None:
    """A connection-wide pull error, shown once until retried (not once a minute)."""
    pending = SyncError.objects.filter(
        connection=connection, opportunity__isnull=True, retried_at__isnull=True,
        message=message[:500],
    )  # fmt: skip
    if not pending.exists():
        sync_error(connection, direction=SyncError.Direction.PULL, message=message)


def _linked_deal(connection: CrmConnection, deal_crm_id: str) -> int | None:
    """Our deal linked to this CRM deal: by the sync's record link, else by the deal's
    external id of this system (unlinked deals have neither)."""
    if not deal_crm_id:
        return None
    linked = (
        CrmRecordState.objects.filter(
            connection=connection, crm_id=deal_crm_id, unlinked_at__isnull=True
        )
        .values_list("opportunity_id", flat=True)
        .first()
    )
    if linked is not None:
        return linked
    return (
        OpportunityExternalId.objects.filter(
            tenant_id=connection.tenant_id, system=connection.system, external_id=deal_crm_id
        )
        .values_list("opportunity_id", flat=True)
        .first()
    )


def activity_text(connection: CrmConnection, activity: CrmActivity) -> str:
    """The note's text, `From Salesforce: <subject> — <body>` (either part alone when the
    other is empty), trimmed to what an activity holds; "" when the CRM activity is empty."""
    parts = [p.strip() for p in (activity.subject, activity.body) if p and p.strip()]
    if not parts:
        return ""
    return f"From {connection.get_system_display()}: {' — '.join(parts)}"[:5000].strip()


def crm_pull_activity(connection: CrmConnection, activity: CrmActivity) -> bool:
    """Add a CRM activity of a linked deal to the deal's activity log, once (its own short
    transaction, under the deal's advisory lock). Read again (the look-back window, a
    duplicate or out-of-order delivery) it adds nothing; edited in the CRM (a newer
    modstamp) it changes nothing already shown, only the link's modstamp; deleted there
    before we read it, it is never added. An activity of a deal we do not have is skipped."""
    if activity.deleted:
        return False
    opportunity_id = _linked_deal(connection, activity.deal_crm_id)
    if opportunity_id is None:
        return False
    try:
        with transaction.atomic():
            lock_deal(connection.pk, opportunity_id)
            link = CrmActivityLink.objects.filter(
                connection=connection, crm_id=activity.crm_id
            ).first()
            if link is not None:
                if activity.modstamp > link.modstamp:
                    link.modstamp = activity.modstamp
                    link.save(update_fields=["modstamp"])
                return False
            body = activity_text(connection, activity)
            added = None
            if body:
                now = timezone.now()
                added = activity_add(
                    tenant=connection.tenant, actor=sync_actor(connection),
                    opportunity_id=opportunity_id, kind="note", body=body,
                    occurred_at=min(activity.occurred_at or activity.modstamp, now),
                    vendor_internal=True,
                )  # fmt: skip
            CrmActivityLink.objects.create(
                tenant_id=connection.tenant_id,
                connection=connection,
                crm_id=activity.crm_id,
                opportunity_id=opportunity_id,
                activity=added,
                modstamp=activity.modstamp,
            )
    except IntegrityError:
        return False  # stored meanwhile (the unique link is the last word): nothing twice
    except ApplicationError as error:
        sync_error(
            connection, direction=SyncError.Direction.PULL, message=error.message,
            opportunity_id=opportunity_id, crm_id=activity.crm_id,
        )  # fmt: skip
        return False
    return added is not None


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
        opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
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
        if state.unlinked_at is not None and not record.deleted:
            return False  # restored in the CRM: stays unlinked until linked again here
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
    """The CRM record is gone: our deal stays, unlinked (its state is kept, marked, so a
    replayed deletion, a push or the sweep neither repeats the error nor recreates the CRM
    record), and the status page says so."""
    if state.unlinked_at is not None or (state.pk is None and not state.crm_id):
        return False  # already unlinked (a replay in the look-back window)
    state.crm_id = ""
    state.base = {}
    state.crm_modstamp = record.modstamp
    state.unlinked_at = timezone.now()
    state.save()
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
        before = base.get(mapped.prm, "")
        if mapped.prm == "owner":
            if not raw:
                continue  # no owner there: ours stays
            user_id = member_user_of(connection, raw)
            if user_id is None:
                if before != UNMAPPED + raw:
                    conflict_open(
                        connection, opportunity.pk, "owner", kind=SyncConflict.Kind.REFUSED,
                        ours=ours.get("owner", ""), theirs=UNMAPPED + raw, base=before,
                        reason=f"The {connection.get_system_display()} user "
                        f"{crm_user_describe(connection, raw)} is not mapped to an active "
                        "member here: map them in CRM sync settings, then take theirs.",
                    )  # fmt: skip
                continue
            theirs: str | None = str(user_id)
        else:
            theirs = from_crm(connection, mapped.prm, raw, stages)
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
    if field == "owner":
        if value.startswith(UNMAPPED):  # a conflict's "theirs": the CRM user, mapped since?
            user_id = member_user_of(connection, value.removeprefix(UNMAPPED))
            if user_id is None:
                raise ValidationFailed("This CRM user is still not mapped to a member here.")
            value = str(user_id)
        if value and str(current.owner_id) != value:
            opportunity_owner_set(
                tenant=tenant, actor=actor, opportunity_id=opportunity_id,
                owner=User.objects.get(pk=int(value)),
            )  # fmt: skip
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
            unlinked_at__isnull=True,
            opportunity__updated_at__gt=F("synced_at"),
        ).values_list("opportunity_id", flat=True)[:500]
    )


LOST_PUSH_GRACE = timedelta(minutes=2)
SWEEP_BATCH = 500


def crm_pushes_lost(
    *, tenant: Tenant | int, connection_id: int, grace: timedelta = LOST_PUSH_GRACE
) -> list[int]:
    """Deals whose latest change was never pushed though it should have been (the worker
    died after the commit, the broker was down): an approved registration's deal (approved,
    won or lost since the connection exists) the CRM was never sent, and a linked deal
    edited here after its last sync. Changes younger than `grace` are left to the push
    already queued. Re-pushing is harmless: the CRM upserts by our id."""
    connection = CrmConnection.objects.filter(
        tenant=tenant, pk=connection_id, is_active=True
    ).first()
    if connection is None:
        return []
    before = timezone.now() - grace
    known = CrmRecordState.objects.filter(connection=connection)
    synced = known.filter(crm_id__gt="", unlinked_at__isnull=True)
    never_sent = (
        DealRegistration.objects.filter(
            tenant=tenant,
            status__in=[
                DealRegistration.Status.APPROVED,
                DealRegistration.Status.WON,
                DealRegistration.Status.LOST,
            ],
            opportunity__isnull=False,
            decided_at__gte=connection.created_at,
            decided_at__lt=before,
        )
        .exclude(opportunity_id__in=known.values("opportunity_id"))
        .order_by("decided_at")
        .values_list("opportunity_id", flat=True)[:SWEEP_BATCH]
    )
    stale = synced.filter(
        opportunity__updated_at__gt=F("synced_at"), opportunity__updated_at__lt=before
    ).values_list("opportunity_id", flat=True)[:SWEEP_BATCH]
    return sorted({*never_sent, *stale})

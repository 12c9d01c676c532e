"""The ledger's lifecycle: accrued → approved (vendor people) → paid (in a payout batch).
Entries are never edited otherwise; a clawback is a new entry."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.errors import Conflict, NotFound, ValidationFailed
from accounts.models import Membership, Tenant
from accounts.permissions import require_vendor
from accounts.services.audit import audit_record, snapshot
from commissions.models import CommissionEntry, PayoutBatch


def _ids(values: Iterable[object], field: str) -> list[int]:
    ids = list(values) if isinstance(values, list | tuple) else None
    if not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ValidationFailed("Name at least one entry.", fields={field: ["A list of entry ids."]})
    return list(dict.fromkeys(ids))  # type: ignore[arg-type]


@transaction.atomic
def commission_approve(*, tenant: Tenant, actor: Membership, entry_id: int) -> CommissionEntry:
    require_vendor(actor)
    entry = (
        CommissionEntry.objects.for_tenant(tenant)
        .select_for_update(no_key=True)
        .filter(pk=entry_id)
        .first()
    )
    if entry is None:
        raise NotFound
    if entry.status != CommissionEntry.Status.ACCRUED:
        raise Conflict(f"This entry is already {entry.get_status_display().lower()}.")
    entry.approve(by=actor.user)
    entry.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="commission_approved",
        subject=entry,
        after=snapshot(entry, ["status", "amount"]),
    )
    return entry


def commission_approve_many(
    *, tenant: Tenant, actor: Membership, entry_ids: list[int]
) -> tuple[list[int], dict[int, str]]:
    """Approve each entry on its own; returns the approved ids and the refused ones' reasons."""
    approved: list[int] = []
    refused: dict[int, str] = {}
    for entry_id in _ids(entry_ids, "entry_ids"):
        try:
            commission_approve(tenant=tenant, actor=actor, entry_id=entry_id)
        except (Conflict, NotFound) as error:
            refused[entry_id] = error.message
        else:
            approved.append(entry_id)
    return approved, refused


@transaction.atomic
def payout_create(
    *,
    tenant: Tenant,
    actor: Membership,
    entry_ids: list[int],
    reference: str,
    paid_on: date | None = None,
) -> PayoutBatch:
    """Pay approved entries (clawbacks net against accruals) in one batch."""
    require_vendor(actor)
    ids = _ids(entry_ids, "entry_ids")
    reference = reference.strip() if isinstance(reference, str) else ""
    if not reference or len(reference) > 100:
        raise ValidationFailed(
            "Give the payment a reference.", fields={"reference": ["1 to 100 characters."]}
        )
    entries = list(
        CommissionEntry.objects.for_tenant(tenant)
        .select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if len(entries) != len(ids):
        missing = sorted(set(ids) - {entry.pk for entry in entries})
        raise ValidationFailed(
            "Some entries do not exist.", fields={"entry_ids": [f"Not found: {missing}."]}
        )
    unpayable = [entry.pk for entry in entries if entry.status != CommissionEntry.Status.APPROVED]
    if unpayable:
        raise Conflict(f"Only approved entries can be paid; not these: {unpayable}.")
    batch = PayoutBatch(
        tenant=tenant,
        reference=reference,
        paid_on=paid_on or timezone.localdate(),
        total=sum((entry.amount for entry in entries), Decimal(0)),
        currency=tenant.currency,
        created_by=actor.user,
    )
    try:
        with transaction.atomic():
            batch.save()
    except IntegrityError as error:
        raise ValidationFailed(
            f"A payout with the reference “{reference}” exists already.",
            fields={"reference": ["Already used."]},
        ) from error
    for entry in entries:
        entry.pay(batch=batch)
        entry.save()
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="payout_created",
        subject=batch,
        after={"reference": reference, "total": str(batch.total), "entries": len(entries)},
    )
    return batch

"""The audit log: services write one entry per change, with what changed: the fields'
values before and after (a creation records the new record, a deletion the old one)."""

from __future__ import annotations

from typing import Any

from django.db import models

from accounts.context import client_ip
from accounts.models import AuditEntry, Tenant, User


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """A JSON-friendly copy of some fields of a record, for `before` / `after`."""
    values: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        value = getattr(instance, getattr(field, "attname", name))
        values[name] = value if isinstance(value, int | float | bool | type(None)) else str(value)
    return values


EMPTY: tuple[Any, ...] = (None, "", 0, False, [], {})


def changed_fields(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Only what changed between two snapshots.

    Kept: fields recorded on both sides with different values, and fields recorded only
    after the change that hold a value (set by it, e.g. a protection date on approval).
    Dropped: equal values, and fields recorded only before (the change did not record
    them after, so nothing is known of them; a stage move snapshots more fields before
    than after). A side given alone (creation, deletion) is kept whole.
    """
    if before is None or after is None:
        return before, after
    names = [
        name
        for name in dict.fromkeys([*before, *after])
        if (name in before and name in after and before[name] != after[name])
        or (name not in before and name in after and after[name] not in EMPTY)
    ]
    return (
        {name: before[name] for name in names if name in before},
        {name: after[name] for name in names},
    )


def audit_record(
    *,
    tenant: Tenant,
    actor: User | None,
    verb: str,
    subject: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    before, after = changed_fields(before, after)
    return AuditEntry.objects.create(
        tenant=tenant,
        actor=actor,
        verb=verb,
        subject_type=subject._meta.label_lower,
        subject_id=str(subject.pk),
        subject_repr=str(subject)[:255],
        before=before,
        after=after,
        ip_address=client_ip.get(),
    )

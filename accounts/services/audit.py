"""The audit log: services write one entry per change, with the record before and after."""

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


def audit_record(
    *,
    tenant: Tenant,
    actor: User | None,
    verb: str,
    subject: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
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

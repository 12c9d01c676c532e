"""Reads of the accounts app: the audit log and its choice lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from accounts.models import AuditEntry, Tenant, User


@dataclass(frozen=True)
class AuditChange:
    field: str
    before: Any
    after: Any


def audit_verbs(*, tenant: Tenant) -> list[str]:
    """The verbs that occur in a tenant's audit log, for the filter's choices."""
    return list(
        AuditEntry.objects.for_tenant(tenant)
        .order_by("verb")
        .values_list("verb", flat=True)
        .distinct()
    )


def audit_actor_choices(*, tenant: Tenant) -> QuerySet[User]:
    """Everyone who has (or had) a membership of the tenant."""
    return User.objects.filter(memberships__tenant=tenant).order_by("full_name", "email").distinct()


def audit_changes(entry: AuditEntry) -> list[AuditChange]:
    """The fields an entry records, with their values before and after (None when absent)."""
    before, after = entry.before or {}, entry.after or {}
    names = list(dict.fromkeys([*before, *after]))
    return [AuditChange(name, before.get(name), after.get(name)) for name in names]

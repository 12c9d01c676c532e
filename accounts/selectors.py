"""Reads of the accounts app: the audit log (rows told in people's words) and its choices."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.template.defaultfilters import floatformat
from django.utils.text import capfirst

from accounts.audit_links import audit_subject_links
from accounts.models import AuditEntry, Tenant, User
from accounts.services.audit import changed_fields


@dataclass(frozen=True)
class AuditChange:
    field: str  # the name recorded
    label: str  # what people read: the field's verbose name
    before: str | None  # values as people read them (choice labels, names, Yes/No)
    after: str | None


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    verb_label: str
    subject_label: str  # the kind of record, e.g. "Deal registration"
    url: str | None  # the record's page, when it has one
    changes: list[AuditChange]


def audit_verbs(*, tenant: Tenant) -> list[str]:
    """The verbs that occur in a tenant's audit log, for the filter's choices."""
    return list(
        AuditEntry.objects.for_tenant(tenant)
        .order_by("verb")
        .values_list("verb", flat=True)
        .distinct()
    )


def verb_label(verb: str) -> str:
    return capfirst(verb.replace("_", " "))


def audit_actor_choices(*, tenant: Tenant) -> QuerySet[User]:
    """Everyone who has (or had) a membership of the tenant."""
    return User.objects.filter(memberships__tenant=tenant).order_by("full_name", "email").distinct()


def audit_changes(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    """(field, before, after) of the fields the entry changed, as recorded.

    Rows written before `audit_record` kept only changes are trimmed the same way, so
    an old stage move does not list every field "→ none". A creation lists the fields
    that were given a value.
    """
    before, after = changed_fields(entry.before, entry.after)
    if before is None and after is not None:
        after = {name: value for name, value in after.items() if value not in (None, "")}
    before, after = before or {}, after or {}
    names = list(dict.fromkeys([*before, *after]))
    return [(name, before.get(name), after.get(name)) for name in names]


def _model(subject_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(subject_type)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return field if isinstance(field, models.Field) else None


def _position(model: type[models.Model] | None, name: str) -> int:
    """Where a field comes in its record (its declaration order); unknown names last."""
    names = [field.name for field in model._meta.fields] if model is not None else []
    return names.index(name) if name in names else len(names)


def _related_names(rows: list[tuple[AuditEntry, list]]) -> dict[tuple, str]:
    """{(model, id): name} of every record a change points at: one query per model."""
    wanted: dict[type[models.Model], set[int]] = defaultdict(set)
    for entry, changes in rows:
        model = _model(entry.subject_type)
        for name, before, after in changes:
            field = _field(model, name)
            if field is not None and (field.many_to_one or field.one_to_one):
                for value in (before, after):
                    if isinstance(value, int) and not isinstance(value, bool):
                        wanted[field.related_model].add(value)  # type: ignore[union-attr,index]
    names: dict[tuple, str] = {}
    for model, ids in wanted.items():
        for record in model._default_manager.filter(pk__in=ids):
            names[(model, record.pk)] = str(record)
    return names


def _shown(field: models.Field | None, value: Any, names: dict[tuple, str]) -> str | None:
    """A recorded value as people read it."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field is None:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if field.is_relation:
        return names.get((field.related_model, value), f"#{value}")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DecimalField):
        return floatformat(value, "2g") or str(value)
    return str(value)


def audit_rows(*, tenant: Tenant, entries: list[AuditEntry]) -> list[AuditRow]:
    """The log's rows in people's words, each linked to its record: a constant number of
    queries (one per kind of record linked or named), whatever the number of rows."""
    recorded = [(entry, audit_changes(entry)) for entry in entries]
    names = _related_names(recorded)
    links = audit_subject_links(tenant=tenant, entries=entries)
    rows = []
    for entry, changes in recorded:
        model = _model(entry.subject_type)
        shown = []
        for name, before, after in sorted(changes, key=lambda c: _position(model, c[0])):
            field = _field(model, name)
            label = capfirst(str(field.verbose_name)) if field else capfirst(name.replace("_", " "))
            shown.append(
                AuditChange(name, label, _shown(field, before, names), _shown(field, after, names))
            )
        subject = capfirst(str(model._meta.verbose_name)) if model else entry.subject_type
        rows.append(
            AuditRow(
                entry=entry,
                verb_label=verb_label(entry.verb),
                subject_label=subject,
                url=links.get((entry.subject_type, entry.subject_id)),
                changes=shown,
            )
        )
    return rows

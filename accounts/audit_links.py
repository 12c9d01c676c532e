"""Where the audit log links each record it names (vendor portal pages).

Imports only go downward, so the accounts app cannot know the pages of the apps above it.
Each app registers, in its `AppConfig.ready()`, how to find the page of the records it
audits: a function `(tenant, subject_ids) -> {subject_id: url}`, called once per page
of the log for all entries of that type (at most one query, whatever the number of rows).

    register_audit_links("deals.dealregistration", link_to("vendor:registration_detail"))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db.models import Model
from django.urls import reverse

from accounts.models import AuditEntry, Tenant

SubjectLinks = Callable[[Tenant, list[str]], dict[str, str]]

_LINKS: dict[str, SubjectLinks] = {}


def register_audit_links(subject_type: str, links: SubjectLinks) -> None:
    """`subject_type` is the model's `app_label.modelname` (as `audit_record` stores it)."""
    _LINKS[subject_type] = links


def link_to(url_name: str) -> SubjectLinks:
    """The record's own page, `url_name` taking the record's id."""

    def links(tenant: Tenant, ids: list[str]) -> dict[str, str]:
        return {pk: reverse(url_name, args=[int(pk)]) for pk in ids if pk.isdigit()}

    return links


def link_to_list(url_name: str) -> SubjectLinks:
    """A page listing every record of the type (settings rows without a page of their own)."""

    def links(tenant: Tenant, ids: list[str]) -> dict[str, str]:
        return dict.fromkeys(ids, reverse(url_name))

    return links


def link_via(model: type[Model], parent_field: str, url_name: str) -> SubjectLinks:
    """The page of the record's parent (a co-sell request's deal): one query for all."""

    def links(tenant: Tenant, ids: list[str]) -> dict[str, str]:
        numeric = [int(pk) for pk in ids if pk.isdigit()]
        rows = model._default_manager.filter(tenant=tenant, pk__in=numeric)
        return {
            str(pk): reverse(url_name, args=[parent])
            for pk, parent in rows.values_list("pk", parent_field)
        }

    return links


def audit_subject_links(*, tenant: Tenant, entries: Iterable[AuditEntry]) -> dict[tuple, str]:
    """{(subject_type, subject_id): url} for the entries whose record has a page."""
    ids: dict[str, list[str]] = {}
    for entry in entries:
        ids.setdefault(entry.subject_type, []).append(entry.subject_id)
    found: dict[tuple, str] = {}
    for subject_type, subject_ids in ids.items():
        links = _LINKS.get(subject_type)
        if links is not None:
            for pk, url in links(tenant, sorted(set(subject_ids))).items():
                found[(subject_type, pk)] = url
    return found

"""How the registration API writes a registration: read as values (its product lines
aggregated into the same row), written by plain functions into the same JSON as
RegistrationOutput, which stays the documented contract (tests compare both writers).

A page of registrations costs one query for the rows and their product lines and one for
the findings of the page (plus one for the other registrations' product lines when a
vendor role sees a finding that points at a registration).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, QuerySet, Value
from django.db.models.functions import Concat

from accounts.models import Membership
from accounts.representation import Moment, day, moments, money
from deals.models import DealRegistration, Finding, ProductLine, RegistrationExternalId
from deals.selectors import OtherRecord, finding_others
from pipeline.serializers import external_ids_from_pairs

REGISTRATION_COLUMNS = (
    "id", "status", "partner_id", "owner_id", "customer_name", "customer_website",
    "customer_country", "contact_name", "contact_email", "contact_phone", "amount",
    "currency", "expected_close_date", "budget_confirmed", "decision_maker", "need",
    "timeline", "description", "created_at", "updated_at", "first_submitted_at",
    "submitted_at", "decided_at", "decision_code", "decision_message", "auto_approved",
    "override_reason", "duplicate_of_id", "protected_until", "extensions_granted",
    "opportunity_id",
)  # fmt: skip
STATUS_LABELS = dict(DealRegistration.Status.choices)


def product_line_arrays() -> dict[str, ArraySubquery]:
    """The row's product lines (by name) as two arrays, their codes and their names, and
    its external ids."""
    lines = ProductLine.objects.filter(registrations=OuterRef("pk")).order_by("name", "id")
    ids = RegistrationExternalId.objects.filter(registration=OuterRef("pk")).order_by("system")
    return {
        "line_codes": ArraySubquery(lines.values("code")),
        "line_names": ArraySubquery(lines.values("name")),
        # and its external ids as "system:id" (deals/apis/rows.py is the row's one query)
        "external_id_pairs": ArraySubquery(
            ids.values_list(Concat("system", Value(":"), "external_id"), flat=True)
        ),
    }


def registration_values(queryset: QuerySet[DealRegistration]) -> QuerySet[Any]:
    """The registrations as rows for registration_row (joins and prefetches dropped)."""
    return (
        queryset.select_related(None)
        .prefetch_related(None)
        .values(*REGISTRATION_COLUMNS, **product_line_arrays())
    )


def registrations_json(
    rows: Iterable[dict[str, Any]], *, membership: Membership
) -> list[dict[str, Any]]:
    rows = list(rows)
    findings = findings_by_registration([row["id"] for row in rows], membership=membership)
    vendor, moment = membership.is_vendor, moments()
    return [
        registration_row(row, findings=findings.get(row["id"], []), vendor=vendor, moment=moment)
        for row in rows
    ]


FINDING_COLUMNS = (
    "id", "registration_id", "kind", "score", "matched_keys", "product_lines",
    "first_registered_at", "other_registration_id", "other_opportunity_id",
)  # fmt: skip
FINDING_KIND_LABELS = dict(Finding.Kind.choices)


def findings_by_registration(
    ids: list[int], *, membership: Membership
) -> dict[int, list[dict[str, Any]]]:
    """The findings of some registrations, written out, in one query; for vendor roles
    with the other record of each (one more query when there are any)."""
    if not ids:
        return {}
    findings = Finding.objects.filter(registration_id__in=ids).order_by("-score", "id")
    rows = list(findings.values(*FINDING_COLUMNS))
    vendor = membership.is_vendor
    others = finding_others([row["id"] for row in rows]) if vendor and rows else {}
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["registration_id"]].append(
            finding_json(row, other=others.get(row["id"]), vendor=vendor)
        )
    return grouped


def registration_row(
    row: dict[str, Any], *, findings: list[dict[str, Any]], vendor: bool, moment: Moment
) -> dict[str, Any]:
    status = row["status"]
    return {
        "id": row["id"],
        "status": status,
        "status_label": str(STATUS_LABELS.get(status, status)),
        "partner_id": row["partner_id"],
        "owner_id": row["owner_id"],
        "customer": {
            "name": row["customer_name"],
            "website": row["customer_website"],
            "country": row["customer_country"],
            "contact_name": row["contact_name"],
            "contact_email": row["contact_email"],
            "contact_phone": row["contact_phone"],
        },
        "product_lines": [
            {"code": code, "name": name}
            for code, name in zip(row["line_codes"], row["line_names"], strict=True)
        ],
        "amount": money(row["amount"]),
        "currency": row["currency"],
        "expected_close_date": day(row["expected_close_date"]),
        "external_ids": external_ids_from_pairs(row.get("external_id_pairs")),
        "budget_confirmed": row["budget_confirmed"],
        "decision_maker": row["decision_maker"],
        "need": row["need"],
        "timeline": row["timeline"],
        "description": row["description"],
        "created_at": moment(row["created_at"]),
        "updated_at": moment(row["updated_at"]),
        "first_submitted_at": moment(row["first_submitted_at"]),
        "submitted_at": moment(row["submitted_at"]),
        "decided_at": moment(row["decided_at"]),
        "decision": (
            {"code": row["decision_code"], "message": row["decision_message"]}
            if row["decision_code"]
            else None
        ),
        "auto_approved": row["auto_approved"],
        "override_reason": row["override_reason"] or None,
        "duplicate_of_id": row["duplicate_of_id"] if vendor else None,
        "protected_until": day(row["protected_until"]),
        "extensions_granted": row["extensions_granted"],
        "opportunity_id": row["opportunity_id"],
        "findings": findings,
    }


def finding_json(row: dict[str, Any], *, other: OtherRecord | None, vendor: bool) -> dict[str, Any]:
    """FindingOutput: partner members never get the matched keys or the other record."""
    moment = moments()
    return {
        "kind": row["kind"],
        "kind_label": str(FINDING_KIND_LABELS.get(row["kind"], row["kind"])),
        "score": row["score"],
        "product_lines": list(row["product_lines"]),
        "first_registered_at": moment(row["first_registered_at"]),
        "matched_keys": list(row["matched_keys"]) if vendor else None,
        "other": other_json(other) if vendor and other is not None else None,
    }


def other_json(other: OtherRecord) -> dict[str, Any]:
    moment = moments()
    return {
        "type": other.type,
        "id": other.id,
        "partner_id": other.partner_id,
        "partner_name": str(other.partner_name),
        "status": other.status,
        "status_label": str(other.status_label),
        "customer_name": other.customer_name,
        "product_lines": [str(line) for line in other.product_lines],
        "amount": money(other.amount),  # type: ignore[arg-type]
        "currency": other.currency,
        "submitted_at": moment(other.submitted_at),
        "protected_until": day(other.protected_until),
        "owner_name": str(other.owner_name),
    }

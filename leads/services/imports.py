"""Bulk lead import: a vendor role uploads a CSV of leads (page or API).

The file itself is checked at once (size, encoding, columns, row count): a bad file is
refused and nothing is stored. A good one is stored as a `LeadImport` and the worker checks
every row with the one rule set of a lead (`lead_clean`, the same as the page and the API)
plus the CSV's own rules (no formula cells), screens each lead like a single one, and then
stores every lead in one transaction or, when any row is wrong, none; the import keeps the
errors per row (row, column, message). Stored leads are routed by batch tasks enqueued on
commit (`leads.tasks.lead_route_batch`), not one task per lead.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.errors import ValidationFailed
from accounts.exports import FORMULA_STARTS, PLAIN_NUMBER
from accounts.models import Membership, Tenant, User
from accounts.permissions import require_vendor
from accounts.queue import enqueue_on_commit
from accounts.services.audit import audit_record
from accounts.tenancy import tenant_context
from deals.selectors import active_product_line_codes
from deals.services.configuration import registration_settings_for
from leads.models import Lead, LeadImport
from leads.services.events import lead_events_created
from leads.services.intake import lead_build, lead_clean
from leads.services.screening import leads_screen

IMPORT_COLUMNS = (
    "company_name",
    "company_website",
    "country",
    "region",
    "contact_name",
    "contact_email",
    "contact_phone",
    "product_lines",
    "estimated_value",
    "currency",
    "source",
    "notes",
)
COLUMN_ORDER = {name: place for place, name in enumerate(IMPORT_COLUMNS)}
REQUIRED_COLUMNS = ("company_name", "country")
DEFAULTED = ("region", "estimated_value", "currency")  # empty: the default applies
IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_MAX_ROWS = 20_000
ERRORS_KEPT = 1000
CHECK_CHUNK = 500
ROUTE_BATCH = 200
# An import's batches run in at most this many lanes at once (each batch task sends its
# lane's next one when done), so a big import leaves worker threads to other routings.
ROUTE_LANES = 2
PROCESS_TASK = "leads.tasks.lead_import_process"
ROUTE_BATCH_TASK = "leads.tasks.lead_route_batch"
PHONE = re.compile(r"\+[\d\s().\-/x]*")
LINE_SEPARATORS = re.compile(r"[;|]")


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"file": [message]})


def _header(text: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text)), [])
    header = [name.strip().lower() for name in first]
    unknown = [name for name in header if name not in IMPORT_COLUMNS]
    if unknown:
        listed = ", ".join(f"“{name[:40]}”" for name in unknown[:5])
        raise _refuse(f"Unknown column {listed}. Columns: {', '.join(IMPORT_COLUMNS)}.")
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise _refuse(f"Column {', '.join(twice)} appears more than once.")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise _refuse(f"Missing required column {', '.join(missing)}.")
    return header


def _count_rows(text: str) -> int:
    reader = csv.reader(io.StringIO(text), strict=True)
    rows = 0
    try:
        next(reader, None)
        for cells in reader:
            rows += any(cell.strip() for cell in cells)
    except csv.Error as error:
        raise _refuse(f"Line {reader.line_num} cannot be read as CSV: {error}.") from None
    return rows


def import_file_check(raw: bytes) -> tuple[str, int]:
    """The file's text and its number of rows; ValidationFailed (field `file`) says what is
    wrong with a file that cannot be imported at all."""
    if len(raw) > IMPORT_MAX_BYTES:
        raise _refuse(f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _refuse(
            f"The file is not UTF-8 text (byte {error.start + 1} cannot be read): "
            "save it as “CSV UTF-8”."
        ) from None
    if "\x00" in text:
        raise _refuse("The file contains NUL characters: it is not a CSV text file.")
    if not text.strip():
        raise _refuse("The file is empty.")
    _header(text)
    rows = _count_rows(text)
    if rows == 0:
        raise _refuse("The file has a header but no rows.")
    if rows > IMPORT_MAX_ROWS:
        raise _refuse(f"At most {IMPORT_MAX_ROWS:,} rows in one file; this one has {rows:,}.")
    return text, rows


@transaction.atomic
def lead_import_create(
    *, tenant: Tenant, actor: Membership, file_name: str, raw: bytes
) -> LeadImport:
    """Store the upload and enqueue its processing on commit; a bad file stores nothing."""
    require_vendor(actor)
    text, rows = import_file_check(raw)
    name = (file_name or "leads.csv").replace("\\", "/").rsplit("/", 1)[-1][:255] or "leads.csv"
    lead_import = LeadImport.objects.create(
        tenant=tenant, file_name=name, content=text, row_count=rows, created_by=actor.user
    )
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="lead_import_uploaded",
        subject=lead_import,
        after={"file_name": name, "rows": rows},
    )
    enqueue_on_commit(PROCESS_TASK, tenant.pk, lead_import.pk)
    return lead_import


# --- Checking and storing (the worker) ---------------------------------------------------


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class Checked:
    leads: list[Lead] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _formula(column: str, raw: str) -> bool:
    for text in (raw, raw.lstrip()):
        if not text.startswith(FORMULA_STARTS) or PLAIN_NUMBER.fullmatch(text):
            continue
        if column == "contact_phone" and PHONE.fullmatch(text.strip()):
            continue
        return True
    return False


def row_data(values: dict[str | None, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A CSV row as the fields `lead_clean` takes, and the errors of the CSV's own rules."""
    data: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    if values.get(None):
        errors.append(("", "More cells than the header has columns."))
    for column, value in values.items():
        if column is None:
            continue
        raw = value or ""
        if _formula(column, raw):
            errors.append((column, f"Starts with “{raw.strip()[:1]}”: formulas are not accepted."))
            continue
        text = raw.strip()
        if column == "product_lines":
            data[column] = [c.strip() for c in LINE_SEPARATORS.split(text) if c.strip()]
        elif text or column not in DEFAULTED:
            data[column] = text
    return data, errors


def _check_rows(
    tenant: Tenant, created_by: User | None, rows: list[tuple[int, dict[str | None, Any]]]
) -> Checked:
    checked = Checked()
    codes = active_product_line_codes(tenant.pk)
    threshold = registration_settings_for(tenant).match_threshold
    for line, values in rows:
        data, own = row_data(values)
        errors = [RowError(line, column, message) for column, message in own]
        try:
            fields = lead_clean(tenant=tenant, data=data, product_line_codes=codes)
        except ValidationFailed as error:
            errors += [
                RowError(line, column, message)
                for column, messages in error.fields.items()
                for message in messages
            ]
        checked.errors += sorted(errors, key=lambda e: COLUMN_ORDER.get(e.column, -1))
        if not errors:
            lead = lead_build(
                tenant=tenant,
                created_by=created_by,
                fields=fields,
                threshold=threshold,
                screen=False,
            )
            checked.leads.append(lead)
    leads_screen(tenant=tenant, leads=checked.leads, threshold=threshold)
    return checked


def _rows(text: str) -> Iterator[tuple[int, dict[str | None, Any]]]:
    reader = csv.DictReader(io.StringIO(text), strict=True)
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
    for line, values in enumerate(reader, start=2):
        if any((v or "").strip() for k, v in values.items() if k is not None) or values.get(None):
            yield line, values


def _chunks(text: str) -> Iterator[list[tuple[int, dict[str | None, Any]]]]:
    chunk: list[tuple[int, dict[str | None, Any]]] = []
    for row in _rows(text):
        chunk.append(row)
        if len(chunk) == CHECK_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _begin(tenant: Tenant, import_id: int) -> LeadImport | None:
    with tenant_context(tenant):
        lead_import = (
            LeadImport.objects.for_tenant(tenant).select_for_update().filter(pk=import_id).first()
        )
        if lead_import is None or lead_import.status in LeadImport.FINISHED:
            return None
        if lead_import.status == LeadImport.Status.QUEUED:
            lead_import.start()
        lead_import.rows_checked = 0
        lead_import.save()
        return lead_import


def _progress(tenant: Tenant, import_id: int, checked: int) -> None:
    LeadImport.objects.for_tenant(tenant).filter(
        pk=import_id, status=LeadImport.Status.CHECKING
    ).update(rows_checked=checked)


def lead_import_process(*, tenant: Tenant, import_id: int) -> str | None:
    """The worker's part: check every row (progress committed per chunk of rows), then store
    every lead at once, or none. Runs again harmlessly (a finished import is left alone)."""
    lead_import = _begin(tenant, import_id)
    if lead_import is None:
        return None
    checked = Checked()
    done = 0
    for chunk in _chunks(lead_import.content):
        with tenant_context(tenant):
            part = _check_rows(tenant, lead_import.created_by, chunk)
            done += len(chunk)
            _progress(tenant, import_id, done)
        checked.errors += part.errors
        checked.leads += part.leads
    with tenant_context(tenant):
        return _finish(tenant, import_id, checked)


def _finish(tenant: Tenant, import_id: int, checked: Checked) -> str | None:
    lead_import = (
        LeadImport.objects.for_tenant(tenant).select_for_update().filter(pk=import_id).first()
    )
    if lead_import is None or lead_import.status != LeadImport.Status.CHECKING:
        return None
    if checked.errors or not checked.leads:
        errors = [e.__dict__ for e in checked.errors[:ERRORS_KEPT]]
        lead_import.reject(errors=errors, error_count=len(checked.errors))
        lead_import.rows_checked = lead_import.row_count
        lead_import.save()
        audit_record(
            tenant=tenant,
            actor=None,
            verb="lead_import_rejected",
            subject=lead_import,
            after={"errors": len(checked.errors)},
        )
        return lead_import.status
    _store(tenant, lead_import, checked.leads)
    return lead_import.status


def _store(tenant: Tenant, lead_import: LeadImport, leads: list[Lead]) -> None:
    now = timezone.now()
    for lead in leads:
        lead.lead_import = lead_import
        lead.created_at = lead.updated_at = now
    created = Lead.objects.bulk_create(leads, batch_size=1000)
    lead_events_created(tenant=tenant, leads=created)  # as lead_create's, in one insert
    lead_import.complete(created=len(created))
    lead_import.rows_checked = lead_import.row_count
    lead_import.save()
    audit_record(
        tenant=tenant,
        actor=lead_import.created_by,
        verb="lead_import_completed",
        subject=lead_import,
        after={"leads": len(created)},
    )
    ids = [lead.pk for lead in created]
    batches = [ids[start : start + ROUTE_BATCH] for start in range(0, len(ids), ROUTE_BATCH)]
    for lane in range(min(ROUTE_LANES, len(batches))):
        first, *rest = batches[lane::ROUTE_LANES]
        enqueue_on_commit(ROUTE_BATCH_TASK, tenant.pk, first, *([rest] if rest else []))


def imports_waiting(*, tenant: Tenant, older_than: timedelta) -> list[int]:
    """Imports still waiting for the worker a while after their upload (their task was
    lost: the broker was down at commit)."""
    cutoff = timezone.now() - older_than
    return list(
        LeadImport.objects.for_tenant(tenant)
        .filter(status=LeadImport.Status.QUEUED, created_at__lt=cutoff)
        .values_list("pk", flat=True)[:50]
    )

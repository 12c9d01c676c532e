"""Targets: what the tenant, a tier or a partner should close won in a period. Vendor
admins set them one at a time (page, API) or by CSV import, which stores every row or,
when any row is wrong, none."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.errors import ValidationFailed
from accounts.models import Membership, Tenant
from accounts.services.audit import audit_record, snapshot
from analytics.models import ForecastTarget, Scope
from analytics.services.forecast_inputs import (
    VENDOR_ADMIN,
    ScopeRef,
    clean_amount,
    clean_period,
    clean_scope,
    require_role,
    run_checks,
)
from partners.models import PartnerOrganization, PartnerTier

IMPORT_COLUMNS = ("period", "scope", "name", "amount")
IMPORT_MAX_ROWS = 2000
IMPORT_MAX_BYTES = 512 * 1024


@dataclass
class ImportRow:
    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    clean: tuple[str, ScopeRef, Decimal] | None = None


class TargetImportRejected(ValidationFailed):
    """The file has wrong rows: nothing was stored; `rows` says what is wrong where."""

    def __init__(self, message: str, rows: list[ImportRow]) -> None:
        super().__init__(message)
        self.rows = rows


def _store(tenant: Tenant, actor: Membership, period: str, ref: ScopeRef, amount: Decimal) -> Any:
    target, created = ForecastTarget.objects.update_or_create(
        tenant=tenant,
        period=period,
        scope=ref.scope,
        tier=ref.tier,
        partner=ref.partner,
        defaults={"amount": amount, "updated_by": actor.user, "updated_at": timezone.now()},
    )
    audit_record(
        tenant=tenant,
        actor=actor.user,
        verb="forecast_target_set",
        subject=target,
        after=snapshot(target, ["period", "scope", "tier", "partner", "amount"]),
    )
    return target


@transaction.atomic
def target_set(
    *,
    tenant: Tenant,
    actor: Membership,
    period: Any,
    scope: Any,
    amount: Any,
    tier_id: Any = None,
    partner_id: Any = None,
) -> ForecastTarget:
    require_role(actor, VENDOR_ADMIN, "setting targets")
    checks = {
        "period": lambda: clean_period(tenant, period).label,
        "scope": lambda: clean_scope(tenant, scope, tier_id=tier_id, partner_id=partner_id),
        "amount": lambda: clean_amount(amount),
    }
    cleaned, errors = run_checks(checks)
    if errors:
        raise ValidationFailed("Check the target.", fields=errors)
    return _store(tenant, actor, cleaned["period"], cleaned["scope"], cleaned["amount"])


def _names(tenant: Tenant) -> dict[str, dict[str, int]]:
    tiers = PartnerTier.objects.for_tenant(tenant).values_list("name", "id")
    partners = PartnerOrganization.objects.for_tenant(tenant).values_list("name", "id")
    return {
        Scope.TIER: {name.casefold(): pk for name, pk in tiers},
        Scope.PARTNER: {name.casefold(): pk for name, pk in partners},
    }


def _check_row(tenant: Tenant, row: ImportRow, names: dict[str, dict[str, int]]) -> None:
    values = row.values
    scope, name = values.get("scope", "").strip().lower(), values.get("name", "").strip()
    ref_id = names.get(scope, {}).get(name.casefold())
    checks = {
        "period": lambda: clean_period(tenant, values.get("period", "")).label,
        "scope": lambda: clean_scope(tenant, scope, tier_id=ref_id, partner_id=ref_id),
        "amount": lambda: clean_amount(values.get("amount", "")),
    }
    cleaned, errors = run_checks(checks)
    row.errors.extend(message for messages in errors.values() for message in messages)
    if scope in (Scope.TIER, Scope.PARTNER) and ref_id is None:
        row.errors[:] = [e for e in row.errors if e != "Not found."]
        row.errors.append(f"No {scope} is called “{name[:60]}”.")
    if not row.errors:
        row.clean = (cleaned["period"], cleaned["scope"], cleaned["amount"])


def targets_import_check(*, tenant: Tenant, text: str) -> list[ImportRow]:
    """Every row of the CSV with its errors (a row without errors is ready to store)."""
    if len(text.encode()) > IMPORT_MAX_BYTES:
        raise ValidationFailed("The file is larger than 512 KB.", fields={"file": ["Too large."]})
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if header != list(IMPORT_COLUMNS):
        message = f"The first line must be: {','.join(IMPORT_COLUMNS)}."
        raise ValidationFailed(message, fields={"file": [message]})
    reader.fieldnames = header
    names, rows, seen = _names(tenant), [], set()
    for line, values in enumerate(reader, start=2):
        if line - 1 > IMPORT_MAX_ROWS:
            raise ValidationFailed(
                f"At most {IMPORT_MAX_ROWS} rows.", fields={"file": ["Too long."]}
            )
        row = ImportRow(line, {k: (v or "")[:200] for k, v in values.items() if k})
        _check_row(tenant, row, names)
        if row.clean is not None:
            key = (row.clean[0], row.clean[1].scope, row.clean[1].label)
            if key in seen:
                row.errors.append("The same target appears twice in the file.")
            seen.add(key)
        rows.append(row)
    if not rows:
        raise ValidationFailed("The file has no rows.", fields={"file": ["No rows."]})
    return rows


@transaction.atomic
def targets_import(*, tenant: Tenant, actor: Membership, text: str) -> int:
    """Store every row, or none when any row is wrong (TargetImportRejected)."""
    require_role(actor, VENDOR_ADMIN, "importing targets")
    rows = targets_import_check(tenant=tenant, text=text)
    wrong = [row for row in rows if row.errors or row.clean is None]
    if wrong:
        raise TargetImportRejected(
            f"{len(wrong)} of {len(rows)} rows are wrong; nothing was stored.", rows
        )
    for row in rows:
        assert row.clean is not None  # noqa: S101 (checked just above)
        _store(tenant, actor, *row.clean)
    return len(rows)

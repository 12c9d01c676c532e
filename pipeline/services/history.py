"""The field history of opportunities: what the forecast needs to rebuild the past.

Every service that changes a deal's amount, expected close date, stage, status, effective
forecast category or owner takes `history_state(deal)` before the change and calls
`history_record(...)` after it, inside its own transaction; the rows are inserted in one
statement. On creation every field gets a row whose old value is "". The table is
append-only in the database (pipeline migration 0009): UPDATE is refused (except the
`SET NULL` of a deleted actor) and a DELETE only passes when the deal itself is deleted
in the same transaction.

Values are text (see `FieldChange`): amounts with two decimals, dates ISO, stage and owner
as ids, status and category as their codes, "" for none.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from accounts.models import Tenant, User
from pipeline.models import FieldChange, Opportunity, Stage

TRACKED: tuple[str, ...] = tuple(FieldChange.Field.values)
CENT = Decimal("0.01")


def amount_text(amount: Decimal | None) -> str:
    return "" if amount is None else str(Decimal(amount).quantize(CENT))


def date_text(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def history_state(opportunity: Opportunity) -> dict[str, str]:
    """The tracked fields of a deal as FieldChange stores them (its stage must be loaded)."""
    return {
        FieldChange.Field.AMOUNT: amount_text(opportunity.amount),
        FieldChange.Field.EXPECTED_CLOSE_DATE: date_text(opportunity.expected_close_date),
        FieldChange.Field.STAGE: str(opportunity.stage_id),
        FieldChange.Field.STATUS: str(opportunity.status),
        FieldChange.Field.FORECAST_CATEGORY: opportunity.forecast_category,
        FieldChange.Field.OWNER: str(opportunity.owner_id),
    }


def history_record(
    opportunity: Opportunity,
    *,
    before: dict[str, str] | None,
    actor: User | None,
    source: str,
    at: datetime | None = None,
) -> list[FieldChange]:
    """Insert one row per tracked field whose value differs from `before` (every field
    when `before` is None: the deal was just created). Returns the rows written."""
    after = history_state(opportunity)
    changed_at = at or (opportunity.created_at if before is None else timezone.now())
    rows = [
        FieldChange(
            tenant_id=opportunity.tenant_id,
            opportunity_id=opportunity.pk,
            field=field,
            old_value="" if before is None else before[field],
            new_value=after[field],
            actor=actor,
            source=source,
            changed_at=changed_at,
        )
        for field in TRACKED
        if before is None or before[field] != after[field]
    ]
    return FieldChange.objects.bulk_create(rows) if rows else []


STAGE_CATEGORY_CHANGES = """
INSERT INTO pipeline_fieldchange
    (tenant_id, opportunity_id, field, old_value, new_value, actor_id, source, changed_at)
SELECT o.tenant_id, o.id, 'forecast_category', %(old)s, %(new)s, %(actor)s, 'stage_setting',
       %(at)s
FROM pipeline_opportunity o
WHERE o.tenant_id = %(tenant)s AND o.stage_id = %(stage)s
  AND (o.status <> 'open' OR o.forecast_category_override = '')
"""


def history_record_stage_category(
    *, tenant: Tenant, stage: Stage, old: str, actor: User | None
) -> int:
    """A stage's forecast category changed: every deal that follows it (no override, or
    closed) gets a forecast_category row, in one INSERT … SELECT. Returns the row count."""
    if old == stage.forecast_category:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            STAGE_CATEGORY_CHANGES,
            {
                "tenant": tenant.pk,
                "stage": stage.pk,
                "old": old,
                "new": stage.forecast_category,
                "actor": actor.pk if actor else None,
                "at": timezone.now(),
            },
        )
        return cursor.rowcount

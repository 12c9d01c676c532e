"""The rules a deal's amount and expected close date follow, the same on every form,
serializer and service (registrations and opportunities alike).

- An amount given is above zero and below a trillion, in cents.
- An expected close date given (or changed) is today or later, and at most ten years
  ahead: a close date in 1900 or 9999 is a typing mistake, not a forecast.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.errors import ValidationFailed

MONEY_LIMIT = Decimal("1e12")
AMOUNT_RULE = "Above 0 and at most 999,999,999,999.99."
CLOSE_DATE_YEARS_AHEAD = 10
CLOSE_DATE_PAST = "Today or later."
CLOSE_DATE_FAR = f"Within {CLOSE_DATE_YEARS_AHEAD} years from today."


def money_clean(value: Any, field: str = "amount") -> Decimal:
    """An amount above zero and below a trillion, in cents; ValidationFailed otherwise."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise ValidationFailed(
            "The amount is not a number.", fields={field: ["A number."]}
        ) from error
    if not amount.is_finite() or amount <= 0 or amount >= MONEY_LIMIT:
        raise ValidationFailed(
            "The amount must be above 0 and at most 999,999,999,999.99.",
            fields={field: [AMOUNT_RULE]},
        )
    return amount.quantize(Decimal("0.01"))


def close_date_problem(value: date, today: date | None = None) -> str:
    """What is wrong with an expected close date ("" when it is fine)."""
    today = today or timezone.localdate()
    if value < today:
        return CLOSE_DATE_PAST
    try:
        latest = today.replace(year=today.year + CLOSE_DATE_YEARS_AHEAD)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + CLOSE_DATE_YEARS_AHEAD, day=28)
    return CLOSE_DATE_FAR if value > latest else ""


def close_date_clean(value: date | None, field: str = "expected_close_date") -> date | None:
    """The service-side check: ValidationFailed naming the field."""
    if value is not None and (problem := close_date_problem(value)):
        raise ValidationFailed(f"Expected close date: {problem}", fields={field: [problem]})
    return value


def validate_close_date(value: date | None) -> None:
    """Django validator (forms and DRF serializers run it on a given date)."""
    if value is not None and (problem := close_date_problem(value)):
        raise ValidationError(problem, code="close_date")


def validate_positive_amount(value: Decimal | None) -> None:
    """Django validator: an amount given must be above zero."""
    if value is not None and value <= 0:
        raise ValidationError(AMOUNT_RULE, code="amount")

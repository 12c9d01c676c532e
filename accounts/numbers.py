"""One way to show amounts, counts and rates on every page, export message and e-mail:
thousands separators, two decimals for money, and rates without trailing zeros."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

EMPTY = "—"


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _trimmed(value: Decimal) -> str:
    """1,234.5 for 1234.5000; 1,234 for 1234.00."""
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_money(value: object, currency: str = "") -> str:
    """1,234,567.89 USD."""
    amount = _decimal(value)
    if amount is None:
        return EMPTY
    text = f"{amount:,.2f}"
    return f"{text} {currency}" if currency else text


def format_number(value: object) -> str:
    """1,234 or 1,234.5: a count or a quantity, no trailing zeros."""
    number = _decimal(value)
    return EMPTY if number is None else _trimmed(number)


def format_percent(value: object) -> str:
    """10 % or 2.5 % for a rate stored in percent."""
    number = _decimal(value)
    return EMPTY if number is None else f"{_trimmed(number)} %"


def format_multiplier(value: object) -> str:
    """×0.5 or ×1 for a factor applied to a rate."""
    number = _decimal(value)
    return EMPTY if number is None else f"×{_trimmed(number)}"

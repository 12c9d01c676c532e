"""Template filters for amounts, counts and rates (built in: no {% load %} needed).

{{ entry.amount|money:entry.currency }}  →  1,234,567.89 USD
{{ deals|number }}                       →  1,234
{{ tier.rate|percent }}                  →  12.5 %
{{ version.unregistered_multiplier|multiplier }}  →  ×0.5
"""

from __future__ import annotations

from django import template

from accounts.numbers import format_money, format_multiplier, format_number, format_percent

register = template.Library()


@register.filter
def money(value: object, currency: str = "") -> str:
    return format_money(value, currency or "")


@register.filter
def number(value: object) -> str:
    return format_number(value)


@register.filter
def percent(value: object) -> str:
    return format_percent(value)


@register.filter
def multiplier(value: object) -> str:
    return format_multiplier(value)

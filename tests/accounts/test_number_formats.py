"""One way to show money, numbers and rates on every page: thousands separators, two
decimals for money, rates and factors without trailing zeros."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template


@pytest.mark.parametrize(
    ("source", "value", "shown"),
    [
        ("{{ v|money }}", Decimal("1234567.891"), "1,234,567.89"),
        ("{{ v|money:'USD' }}", Decimal("48000"), "48,000.00 USD"),
        ("{{ v|money:'EUR' }}", "-960.5", "-960.50 EUR"),
        ("{{ v|money }}", None, "—"),
        ("{{ v|number }}", 12345, "12,345"),
        ("{{ v|number }}", Decimal("1234.5000"), "1,234.5"),
        ("{{ v|percent }}", Decimal("10.0000"), "10 %"),
        ("{{ v|percent }}", Decimal("2.5000"), "2.5 %"),
        ("{{ v|multiplier }}", Decimal("0.5000"), "×0.5"),
        ("{{ v|multiplier }}", Decimal("1.0000"), "×1"),
        ("{{ v|multiplier }}", "", "—"),
    ],
)
def test_filters_are_built_in_and_format_the_same_everywhere(source, value, shown):
    assert Template(source).render(Context({"v": value})) == shown

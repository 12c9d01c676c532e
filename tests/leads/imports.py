"""CSV files of leads for the import tests and the bench."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.leads.conftest import lead_data

HEADER = (
    "company_name",
    "company_website",
    "country",
    "contact_name",
    "contact_email",
    "contact_phone",
    "product_lines",
    "estimated_value",
    "currency",
    "source",
    "notes",
)


def csv_of(rows: list[dict[str, Any]], header: tuple[str, ...] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return out.getvalue().encode()


def row(number: int, **overrides: Any) -> dict[str, Any]:
    """A good row of a distinct company (no two rows screen as the same customer)."""
    data = lead_data(
        company_name=f"Imported Company {number:05d}",
        company_website=f"https://imported{number:05d}.example",
        contact_email=f"buyer@imported{number:05d}.example",
        product_lines="cloud;security" if number % 2 else "cloud",
        estimated_value=str(1000 + number),
    )
    data.update(overrides)
    return data


def good_csv(count: int) -> bytes:
    return csv_of([row(n) for n in range(1, count + 1)])

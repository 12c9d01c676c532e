"""CSV exports of the portals: streamed row by row, and safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a
formula by Excel or LibreOffice (CSV injection); such a cell is prefixed with a single
quote, which the spreadsheet shows as text.

Rows are read while streaming, after the view has returned and the request's tenant
transaction has ended, so the stream reads them in a transaction of its own pinned to the
tenant (`tenant_context`): row-level security keeps holding.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

from accounts.models import Tenant
from accounts.tenancy import tenant_context

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """The text of one cell; one that a spreadsheet would run as a formula is quoted."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([csv_cell(cell) for cell in row])


def csv_stream_response(
    *,
    tenant: Tenant,
    filename: str,
    header: Iterable[Any],
    rows: Callable[[], Iterable[Iterable[Any]]],
) -> StreamingHttpResponse:
    """A streamed CSV download; `rows()` is called inside the tenant's own transaction."""

    def lines() -> Iterator[str]:
        with tenant_context(tenant):
            yield from csv_lines(header, rows())

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

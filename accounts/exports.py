"""CSV downloads: the one writer every export uses, streamed row by row and safe to open in
a spreadsheet.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and treats a
leading tab or carriage return the same way), so text a partner or customer typed — a deal
called `=HYPERLINK(...)` — could run on the vendor's machine when the file is opened. Such
a cell is written with a leading apostrophe, which spreadsheets show as text. Plain numbers
("-250.00", a clawback) are not formulas and stay numbers.

The response streams after the view has returned and the request's tenant transaction has
ended: either hand over rows already read (`csv_response`), or a function that reads them,
which `csv_stream_response` calls in a transaction of its own pinned to the tenant
(`tenant_context`), so row-level security keeps holding.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse

from accounts.models import Tenant
from accounts.tenancy import tenant_context

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def csv_cell(value: Any) -> str:
    """The cell as text a spreadsheet will not evaluate."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Echo:
    """A file whose write returns the line, so csv.writer output can be streamed."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([csv_cell(cell) for cell in row])


def _download(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(
    filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A CSV download of rows already read (a list)."""
    return _download(csv_lines(header, rows), filename)


def csv_stream_response(
    *,
    tenant: Tenant,
    filename: str,
    header: Sequence[Any],
    rows: Callable[[], Iterable[Iterable[Any]]],
) -> StreamingHttpResponse:
    """A streamed CSV download; `rows()` is called inside the tenant's own transaction."""

    def lines() -> Iterator[str]:
        with tenant_context(tenant):
            yield from csv_lines(header, rows())

    return _download(lines(), filename)

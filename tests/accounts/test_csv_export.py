"""The one CSV writer: cells a spreadsheet would evaluate are written as text."""

from __future__ import annotations

import csv
import io

import pytest

from accounts.exports import csv_cell, csv_response


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.test","Click")', '\'=HYPERLINK("http://evil.test","Click")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("-cmd", "'-cmd"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Acme = best", "Acme = best"),
        ("Northwind", "Northwind"),
        ("", ""),
        (None, ""),
        (42, "42"),
        ("-250.00", "-250.00"),
        ("-7", "-7"),
        ("2026-11-30", "2026-11-30"),
    ],
)
def test_cells_that_start_a_formula_are_neutralized(value, written):
    assert csv_cell(value) == written


def test_the_response_streams_neutralized_rows():
    response = csv_response("x.csv", ["Deal", "Amount"], [["=1+1", "-5.00"], ["@A1", "7"]])

    body = b"".join(response.streaming_content).decode()

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert list(csv.reader(io.StringIO(body))) == [
        ["Deal", "Amount"],
        ["'=1+1", "-5.00"],
        ["'@A1", "7"],
    ]

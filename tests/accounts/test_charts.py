"""The chart component: the page carries the data as JSON and the same figures as a
table, formatted the one way; a floating bar's table cell is its size."""

import json
from decimal import Decimal

from django.template.loader import render_to_string

from accounts.charts import Chart, Series


def sample() -> Chart:
    return Chart(
        id="changes",
        title="Pipeline changes",
        labels=["Start", "New", "<b>Lost</b>"],
        series=[
            Series("Amount", [Decimal("1000.5"), (Decimal("1000.5"), Decimal("1500.5")), None])
        ],
        currency="USD",
        links=["", "/vendor/deals/?x=1", ""],
        label_heading="Part",
    )


def test_spec_carries_plain_numbers_and_pairs():
    spec = sample().spec()
    assert spec["series"][0]["values"] == [1000.5, [1000.5, 1500.5], None]
    assert spec["labels"][2] == "<b>Lost</b>"


def test_rows_are_formatted_the_one_way():
    rows = sample().rows()
    assert [row["cells"] for row in rows] == [["1,000.50 USD"], ["500.00 USD"], ["—"]]
    assert rows[1]["link"] == "/vendor/deals/?x=1"
    percent = Chart(id="p", title="Rates", labels=["A"], series=[Series("Win", [12.5])])
    percent.unit = "percent"
    assert percent.rows()[0]["cells"] == ["12.5 %"]


def test_partial_renders_json_data_and_an_escaped_table():
    html = render_to_string("partials/chart.html", {"chart": sample()})
    assert 'data-chart="changes-data"' in html
    start = html.index('<script id="changes-data" type="application/json">') + len(
        '<script id="changes-data" type="application/json">'
    )
    data = json.loads(html[start : html.index("</script>", start)])
    assert data["labels"][2] == "<b>Lost</b>"  # json_script escapes < inside the script
    assert "<b>Lost</b>" not in html.replace(html[start : html.index("</script>", start)], "")
    assert "&lt;b&gt;Lost&lt;/b&gt;" in html
    assert '<a href="/vendor/deals/?x=1">New</a>' in html
    assert "<script>" not in html  # no inline code

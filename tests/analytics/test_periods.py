"""Fiscal periods: quarters follow the tenant's first fiscal month, months are calendar."""

from datetime import date

import pytest

from analytics.periods import fiscal_year_of, month_of, parse_period, quarter_of


@pytest.mark.parametrize(
    ("label", "start_month", "start", "end"),
    [
        ("2027-Q1", 1, date(2027, 1, 1), date(2027, 4, 1)),
        ("2027-Q4", 1, date(2027, 10, 1), date(2028, 1, 1)),
        ("2027-Q1", 2, date(2026, 2, 1), date(2026, 5, 1)),
        ("2027-Q4", 2, date(2026, 11, 1), date(2027, 2, 1)),
        ("2027-Q2", 7, date(2026, 10, 1), date(2027, 1, 1)),
        ("2027-03", 7, date(2027, 3, 1), date(2027, 4, 1)),
        ("2027-q3", 1, date(2027, 7, 1), date(2027, 10, 1)),
    ],
)
def test_parse_period(label, start_month, start, end):
    period = parse_period(label, start_month)
    assert (period.start, period.end) == (start, end)
    assert parse_period(period.label, start_month) == period


@pytest.mark.parametrize("start_month", range(1, 13))
def test_every_day_of_a_year_falls_in_one_quarter_that_holds_it(start_month):
    day = date(2026, 1, 1)
    while day.year == 2026:
        quarter = quarter_of(day, start_month)
        assert day in quarter
        assert parse_period(quarter.label, start_month) == quarter
        assert quarter.label.startswith(str(fiscal_year_of(day, start_month)))
        assert day in month_of(day)
        day = date.fromordinal(day.toordinal() + 1)


def test_shifting_and_months():
    q = parse_period("2027-Q4", 2)
    assert q.shifted(1).label == "2028-Q1"
    assert q.shifted(-4).label == "2026-Q4"
    assert [m.label for m in q.months()] == ["2026-11", "2026-12", "2027-01"]
    assert parse_period("2027-12").shifted(1).label == "2028-01"
    assert q.last_day == date(2027, 1, 31)


@pytest.mark.parametrize("label", ["", "2027", "2027-Q5", "2027-13", "27-Q1", "<b>x</b>", None])
def test_bad_labels_say_what_a_period_looks_like(label):
    with pytest.raises(ValueError, match="2027-Q1"):
        parse_period(label)


def test_default_stage_categories():
    from pipeline.defaults import DEFAULT_STAGES, default_forecast_category

    categories = {name: default_forecast_category(kind, p) for name, p, kind, *_ in DEFAULT_STAGES}
    assert categories == {
        "Identification": "pipeline",
        "Qualification": "pipeline",
        "Solution Development": "pipeline",
        "Proposal / Evaluation": "best_case",
        "Negotiation / Closing": "commit",
        "Closed Won": "closed",
        "Closed Lost": "omitted",
    }

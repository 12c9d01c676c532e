"""What a new tenant's pipeline starts with: the six stages of a channel sales lifecycle
(plus Closed Lost) and common lost-reason codes. Plain data, also used by migrations."""

from __future__ import annotations

from datetime import datetime, timedelta

# (name, probability %, kind, entry criteria, stale after days, guidance)
DEFAULT_STAGES: tuple[tuple[str, int, str, tuple[str, ...], int | None, str], ...] = (
    (
        "Identification",
        10,
        "open",
        (),
        30,
        "Who is the customer and what problem might we solve? Log the first contact.",
    ),
    (
        "Qualification",
        20,
        "open",
        ("budget_confirmed", "decision_maker", "need", "timeline"),
        21,
        "Confirm budget, decision maker, need and timeline before investing more time.",
    ),
    (
        "Solution Development",
        40,
        "open",
        ("amount", "next_step"),
        21,
        "Shape the solution with the customer; agree the next step and an estimated amount.",
    ),
    (
        "Proposal / Evaluation",
        60,
        "open",
        ("amount", "expected_close_date"),
        14,
        "The proposal is with the customer. Track the evaluation and the expected close date.",
    ),
    (
        "Negotiation / Closing",
        80,
        "open",
        ("amount", "expected_close_date", "decision_maker_name"),
        10,
        "Terms and pricing. Name the person who signs.",
    ),
    (
        "Closed Won",
        100,
        "won",
        ("amount", "expected_close_date"),
        None,
        "The customer signed. Commission is attributed automatically.",
    ),
    ("Closed Lost", 0, "lost", (), None, "Record why the deal was lost; it helps the next one."),
)

DEFAULT_LOST_REASONS: tuple[tuple[str, str], ...] = (
    ("price", "Price"),
    ("competitor", "Lost to a competitor"),
    ("no_budget", "No budget"),
    ("no_decision", "No decision / project stalled"),
    ("timing", "Timing"),
    ("other", "Other"),
)


def default_forecast_category(kind: str, probability: int) -> str:
    """The category a stage starts with: closed for won, omitted for lost, and for open
    stages by win probability (80 % and up commit, 60 % and up best case)."""
    if kind == "won":
        return "closed"
    if kind == "lost":
        return "omitted"
    if probability >= 80:
        return "commit"
    if probability >= 60:
        return "best_case"
    return "pipeline"


# Co-sell resource types a tenant starts with: (code, name, eligible stage names, minimum
# deal amount, hours one request takes). Stages are matched by name; a tenant whose stages
# have other names gets the type with no stage listed (any open stage), to be configured.
DEFAULT_COSELL_TYPES: tuple[tuple[str, str, tuple[str, ...], str | None, int], ...] = (
    (
        "pre_sales_engineer",
        "Pre-sales engineer",
        ("Solution Development", "Proposal / Evaluation", "Negotiation / Closing"),
        None,
        8,
    ),
    (
        "executive_sponsor",
        "Executive sponsor",
        ("Proposal / Evaluation", "Negotiation / Closing"),
        "100000",
        2,
    ),
    (
        "competitive_specialist",
        "Competitive specialist",
        ("Qualification", "Solution Development", "Proposal / Evaluation"),
        None,
        4,
    ),
    ("pricing_desk", "Pricing desk", ("Proposal / Evaluation", "Negotiation / Closing"), None, 2),
    (
        "solution_architect",
        "Solution architect",
        ("Solution Development", "Proposal / Evaluation"),
        "25000",
        8,
    ),
    (
        "marketing_support",
        "Marketing support",
        ("Identification", "Qualification", "Solution Development"),
        None,
        4,
    ),
)

# What the co-sell request's former `kind` became.
COSELL_KIND_TO_TYPE = {
    "technical_presales": "pre_sales_engineer",
    "executive_sponsor": "executive_sponsor",
    "pricing_approval": "pricing_desk",
    "proof_of_concept": "solution_architect",
}


def add_business_days(start: datetime, days: int) -> datetime:
    """The moment `days` working days (Monday to Friday) after `start`; a start on a
    weekend counts from the next Monday's same time."""
    moment = start
    while moment.weekday() >= 5:
        moment += timedelta(days=1)
    added = 0
    while added < days:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            added += 1
    return moment

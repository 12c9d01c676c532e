"""What a new tenant's pipeline starts with: the six stages of a channel sales lifecycle
(plus Closed Lost) and common lost-reason codes. Plain data, also used by migrations."""

from __future__ import annotations

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

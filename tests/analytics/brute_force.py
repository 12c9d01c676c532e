"""The effectiveness metrics recomputed in plain Python from generated history, one deal
at a time, to check the SQL of analytics/selectors/metrics_sql.py figure by figure."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from analytics.periods import Period
from analytics.selectors.metrics import (
    CLOSE_DATE_TOLERANCE_DAYS,
    DEFAULT_CYCLE_DAYS,
    rounded,
)
from tests.analytics.metrics_data import History

Key = tuple[str, str]


def qualified(row: Any) -> bool:
    return bool(
        row.budget_confirmed and row.decision_maker and row.need.strip() and row.timeline.strip()
    )


class BruteForce:
    def __init__(self, history: History, period: Period, now: datetime, keep: Callable) -> None:
        self.h, self.period, self.now, self.keep = history, period, now, keep
        self.start = datetime.combine(period.start, time.min, tzinfo=UTC)
        self.end = datetime.combine(period.end, time.min, tzinfo=UTC)
        self.registration_of = {r.opportunity_id: r for r in history.registrations}
        self.moves_of: dict[int, list] = defaultdict(list)
        for move in history.moves:
            self.moves_of[move.opportunity_id].append(move)
        self.changes_of: dict[int, list] = defaultdict(list)
        for change in history.changes:
            self.changes_of[change.opportunity_id].append(change)

    def keys(self, partner: Any, registration: Any) -> list[Key]:
        keys = [
            ("total", ""),
            ("partner", str(partner.pk)),
            ("tier", str(partner.tier_id)),
            ("region", partner.region),
        ]
        if registration is not None:
            keys += [("product_line", str(line)) for line in self.h.lines_of[registration.pk]]
        return keys

    def partner_deals(self) -> list:
        return [
            d for d in self.h.deals if d.partner_id and self.keep(d, self.registration_of.get(d.pk))
        ]

    def in_period(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    # --- per figure: {(dim, key): [fact, ...]} ---------------------------------------------

    def qualification(self) -> dict[Key, list[bool]]:
        facts: dict[Key, list[bool]] = defaultdict(list)
        for r in self.h.registrations:
            if self.in_period(r.first_submitted_at) and self.keep(r.opportunity, r):
                for key in self.keys(r.partner, r):
                    facts[key].append(qualified(r))
        return facts

    def visits(self) -> dict[Key, list[float]]:
        facts: dict[Key, list[float]] = defaultdict(list)
        for deal in self.partner_deals():
            moves = self.moves_of[deal.pk]
            for before, after in zip(moves, moves[1:], strict=False):
                if self.in_period(after.created_at) and before.to_stage.kind == "open":
                    days = (after.created_at - before.created_at).total_seconds() / 86400
                    keys = self.keys(deal.partner, self.registration_of.get(deal.pk))
                    keys += [("stage", str(before.to_stage_id))]
                    keys += [("partner_stage", f"{deal.partner_id}:{before.to_stage_id}")]
                    for key in keys:
                        facts[key].append(days)
        return facts

    def entries(self) -> dict[Key, list[bool]]:
        facts: dict[Key, list[bool]] = defaultdict(list)
        for deal in self.partner_deals():
            moves, seen = self.moves_of[deal.pk], set()
            for index, move in enumerate(moves):
                stage = move.to_stage
                if stage.kind != "open" or not self.in_period(move.created_at) or stage.pk in seen:
                    continue
                seen.add(stage.pk)
                converted = any(
                    later.to_stage.kind != "lost" and later.to_stage.position > stage.position
                    for later in moves[index + 1 :]
                )
                keys = self.keys(deal.partner, self.registration_of.get(deal.pk))
                keys += [
                    ("stage", str(stage.pk)),
                    ("partner_stage", f"{deal.partner_id}:{stage.pk}"),
                ]
                for key in keys:
                    facts[key].append(converted)
        return facts

    def first_close_date(self, deal: Any) -> date | None:
        for change in self.changes_of[deal.pk]:
            if change.old_value or change.new_value:
                return date.fromisoformat(change.old_value or change.new_value)
        registration = self.registration_of.get(deal.pk)
        return registration.expected_close_date if registration else None

    def closed(self) -> dict[Key, list]:
        facts: dict[Key, list] = defaultdict(list)
        for deal in self.partner_deals():
            if deal.status in ("won", "lost") and deal.closed_on in self.period:
                first = self.first_close_date(deal) if deal.status == "won" else None
                miss = None if first is None else abs((deal.closed_on - first).days)
                for key in self.keys(deal.partner, self.registration_of.get(deal.pk)):
                    facts[key].append((deal.status, deal.amount, miss))
        return facts

    def cycle(self) -> Decimal:
        cycles = [
            (d.closed_on - d.created_at.date()).days
            for d in self.h.deals
            if d.partner_id and d.status == "won"
        ]
        value = statistics.median(cycles) if cycles else DEFAULT_CYCLE_DAYS
        return Decimal(str(value)).quantize(Decimal("0.1"))

    def aged(self) -> dict[Key, list]:
        limit = self.now - timedelta(days=float(self.cycle()))
        facts: dict[Key, list] = defaultdict(list)
        for deal in self.partner_deals():
            if deal.status == "open" and deal.amount is not None:
                for key in self.keys(deal.partner, self.registration_of.get(deal.pk)):
                    facts[key].append((deal.amount, deal.created_at < limit))
        return facts

    def pushes(self) -> dict[Key, list[bool]]:
        facts: dict[Key, list[bool]] = defaultdict(list)
        for deal in self.partner_deals():
            if deal.created_at >= self.end or (
                deal.closed_on and deal.closed_on < self.period.start
            ):
                continue
            pushed = any(
                c.old_value
                and c.new_value
                and c.new_value[:7] > c.old_value[:7]
                and self.in_period(c.changed_at)
                for c in self.changes_of[deal.pk]
            )
            for key in self.keys(deal.partner, self.registration_of.get(deal.pk)):
                facts[key].append(pushed)
        return facts

    # --- the figures ----------------------------------------------------------------------

    def figures(self) -> dict[Key, dict[str, Decimal | None]]:
        """Every figure per (dimension, key), rounded as the pages show it."""
        return {
            key: {code: rounded(code, value) for code, value in values.items()}
            for key, values in self.exact().items()
        }

    def exact(self) -> dict[Key, dict[str, Any]]:
        """Every figure per (dimension, key), unrounded (medians are taken on these)."""
        result: dict[Key, dict[str, Any]] = defaultdict(dict)
        for key, facts in self.qualification().items():
            result[key]["qualification_rate"] = share(facts)
        for key, days in self.visits().items():
            result[key]["stage_days"] = statistics.median(days)
        for key, facts in self.entries().items():
            result[key]["conversion_rate"] = share(facts)
        for key, facts in self.closed().items():
            won = [amount for status, amount, _ in facts if status == "won"]
            misses = [miss for status, _, miss in facts if status == "won" and miss is not None]
            result[key]["win_rate"] = share([status == "won" for status, _, _ in facts])
            result[key]["average_deal_size"] = sum(won) / len(won) if won else None
            result[key]["close_date_accuracy"] = share(
                [miss <= CLOSE_DATE_TOLERANCE_DAYS for miss in misses]
            )
        for key, facts in self.aged().items():
            total = sum(amount for amount, _ in facts)
            old = sum(amount for amount, is_old in facts if is_old)
            result[key]["pipeline_age"] = Decimal(100) * old / total if total else None
        for key, facts in self.pushes().items():
            result[key]["push_rate"] = share(facts)
        return result


def share(facts: list[bool]) -> Decimal | None:
    if not facts:
        return None
    return Decimal(100) * sum(1 for fact in facts if fact) / len(facts)

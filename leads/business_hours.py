"""Business hours in a tenant's time zone and working days: when an acceptance window of
N business hours that opens at a moment ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: str = "UTC"
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    starts_at: int = 9  # hour of day
    ends_at: int = 17

    def add_hours(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` business hours after `start` (aware; returned in UTC's tz of
        `start`). No working day configured: plain hours."""
        if not self.working_days:
            return start + timedelta(hours=hours)
        zone = ZoneInfo(self.time_zone)
        moment = start.astimezone(zone)
        left = timedelta(hours=hours)
        for _ in range(3700):  # at most ten years of days; a window is far shorter
            day = moment.date()
            opens = datetime.combine(day, time(self.starts_at), zone)
            closes = datetime.combine(day, time(0), zone) + timedelta(hours=self.ends_at)
            if day.weekday() in self.working_days and moment < closes:
                moment = max(moment, opens)
                if moment + left <= closes:
                    return (moment + left).astimezone(start.tzinfo)
                left -= closes - moment
            moment = datetime.combine(day + timedelta(days=1), time(0), zone)
        raise ValueError("no business hours in reach")

    def hours_between(self, start: datetime, end: datetime) -> float:
        """Business hours from `start` to `end` (0 when end is not after start): the inverse
        of `add_hours`. The reports compute the same in SQL (leads/reports.py)."""
        if end <= start:
            return 0.0
        if not self.working_days:
            return (end - start).total_seconds() / 3600
        zone = ZoneInfo(self.time_zone)
        day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
        total = timedelta(0)
        while day <= last:
            if day.weekday() in self.working_days:
                midnight = datetime.combine(day, time(0), zone)
                opens = midnight + timedelta(hours=self.starts_at)
                closes = midnight + timedelta(hours=self.ends_at)
                total += max(min(end, closes) - max(start, opens), timedelta(0))
            day += timedelta(days=1)
        return total.total_seconds() / 3600

    def days_before(self, moment: datetime, days: int) -> datetime:
        """The same time of day `days` working days before `moment` (no working day
        configured: calendar days). A lead untouched since before it is stale."""
        if not self.working_days:
            return moment - timedelta(days=days)
        zone = ZoneInfo(self.time_zone)
        local = moment.astimezone(zone)
        day, counted = local.date(), 0
        while counted < days:
            day -= timedelta(days=1)
            counted += day.weekday() in self.working_days
        return datetime.combine(day, local.time(), zone).astimezone(moment.tzinfo)

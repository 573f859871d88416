"""The one scoring function of the schedule optimiser: weighted problem hours per day turned into a 0..1 score.

Per calendar day of the window we measure, in hours: double-booked time, WORK outside working hours or on a day
off, meeting time inside no-meeting windows, meeting time above the daily cap, meeting stretches above the
consecutive cap, missing break time between neighbouring events, and busy time above the daily load limit.
P = Σ_days Σ_problems weight × hours (weights in ``defaults.PENALTY_WEIGHTS``); score = 1 / (1 + P / D) with D the
number of days, so a clean schedule scores 1 and one weighted problem hour per day scores 0.5.
Zero-length events are reminders, not time: they neither cause nor suffer problems.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence

from geulpi_tasks.analyses import defaults
from geulpi_tasks.analyses.constraints import ScheduleConstraints
from geulpi_tasks.analyses.meetings import is_meeting
from geulpi_tasks.analyses.timeline import (
    ONE_DAY,
    Interval,
    days_of,
    hours,
    intersection_hours,
    merge_intervals,
    midnight,
    total_hours,
)
from geulpi_tasks.schemas import Category, EventInput

CONSECUTIVE_GAP = timedelta(minutes=defaults.CONSECUTIVE_GAP_MINUTES)


class Item:
    """One event's current place in the schedule being scored (the optimiser moves it)."""

    __slots__ = ("index", "event_id", "title", "start", "end", "work", "meeting")

    def __init__(self, index: int, event: EventInput):
        self.index = index
        self.event_id = event.event_id or f"event-{index}"
        self.title = event.title
        self.start: datetime = event.start
        self.end: datetime = event.end
        self.work = event.category == Category.WORK
        self.meeting = is_meeting(event)


@dataclass
class DayIssues:
    """Hours of each problem on one day; ``penalty`` weighs them into one number."""

    overlap: float = 0.0
    outside_hours: float = 0.0
    no_meeting: float = 0.0
    meeting_overload: float = 0.0
    consecutive_meetings: float = 0.0
    missing_break: float = 0.0
    overload: float = 0.0

    def penalty(self) -> float:
        w = defaults.PENALTY_WEIGHTS  # same field names as this class
        return sum(getattr(w, f.name) * getattr(self, f.name) for f in fields(self))

    def add(self, other: DayIssues) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_dict(self) -> dict[str, float]:
        names = {"overlap": "overlapHours", "outside_hours": "outsideWorkingHours",
                 "no_meeting": "noMeetingWindowHours",
                 "meeting_overload": "meetingOverloadHours", "consecutive_meetings": "consecutiveMeetingExcessHours",
                 "missing_break": "missingBreakHours", "overload": "dayOverloadHours"}
        return {names[f.name]: round(getattr(self, f.name), 2) for f in fields(self)}


def meeting_runs(intervals: Sequence[Interval]) -> list[Interval]:
    """Stretches of meetings separated by at most ``CONSECUTIVE_GAP_MINUTES`` (input sorted and disjoint)."""
    runs: list[list[datetime]] = []
    for start, end in intervals:
        if runs and start - runs[-1][1] <= CONSECUTIVE_GAP:
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end])
    return [(s, e) for s, e in runs]


def day_issues(day: date, items: Iterable[Item], constraints: ScheduleConstraints,
               low: datetime | None = None, high: datetime | None = None) -> DayIssues:
    """Problem hours of one day, from the items touching it, clipped to the day and to [low, high)."""
    day_start, day_end = midnight(day), midnight(day) + ONE_DAY
    if low is not None and low > day_start:
        day_start = low
    if high is not None and high < day_end:
        day_end = high
    pieces = sorted(((max(it.start, day_start), min(it.end, day_end), it) for it in items
                     if min(it.end, day_end) > max(it.start, day_start)), key=lambda p: (p[0], p[1]))
    issues = DayIssues()
    if not pieces:
        return issues
    busy = merge_intervals((s, e) for s, e, _ in pieces)
    busy_hours = total_hours(busy)
    issues.overlap = max(0.0, sum(hours(e - s) for s, e, _ in pieces) - busy_hours)
    work = merge_intervals((s, e) for s, e, it in pieces if it.work)
    if work:
        outside = total_hours(work)
        if not constraints.is_day_off(day):
            outside -= intersection_hours(work, [constraints.working_interval(day)])
        issues.outside_hours = max(0.0, outside)
    meetings = merge_intervals((s, e) for s, e, it in pieces if it.meeting)
    if meetings:
        windows = merge_intervals(constraints.no_meeting_intervals(day))
        issues.no_meeting = intersection_hours(meetings, windows) if windows else 0.0
        issues.meeting_overload = max(0.0, total_hours(meetings) - constraints.max_meeting_hours_per_day)
        issues.consecutive_meetings = sum(max(0.0, hours(e - s) - constraints.max_consecutive_meeting_hours)
                                          for s, e in meeting_runs(meetings))
    if constraints.min_break_minutes > 0:
        need = constraints.min_break
        running_end: datetime | None = None
        for start, end, _ in pieces:
            if running_end is not None and start >= running_end and start - running_end < need:
                issues.missing_break += hours(need - (start - running_end))
            running_end = end if running_end is None else max(running_end, end)
    issues.overload = max(0.0, busy_hours - defaults.DAILY_BUSY_LIMIT_HOURS)
    return issues


def score_from_penalty(penalty: float, days: int) -> float:
    """score = 1 / (1 + P / D)."""
    return 1.0 / (1.0 + max(0.0, penalty) / max(1, days))


@dataclass(frozen=True)
class ScheduleScore:
    score: float
    penalty: float
    issues: DayIssues
    days: int


def score_items(items: Sequence[Item], constraints: ScheduleConstraints, start: datetime,
                end: datetime) -> ScheduleScore:
    """Score a schedule (items at their current times) over the days of [start, end)."""
    by_day: dict[date, list[Item]] = {}
    window_days = days_of(start, end)
    wanted = set(window_days)
    for item in items:
        if item.end > item.start and item.end > start and item.start < end:
            for day in days_of(item.start, item.end):
                if day in wanted:
                    by_day.setdefault(day, []).append(item)
    total = DayIssues()
    for day in window_days:
        total.add(day_issues(day, by_day.get(day, []), constraints, start, end))
    penalty = total.penalty()
    return ScheduleScore(score_from_penalty(penalty, len(window_days)), penalty, total, len(window_days))


def score_schedule(events: Sequence[EventInput], constraints: ScheduleConstraints, start: datetime,
                   end: datetime) -> ScheduleScore:
    """Score events as given; the optimiser reports this before and after applying its suggestions."""
    return score_items([Item(i, e) for i, e in enumerate(events)], constraints, start, end)

"""Time arithmetic on calendars: interval unions, per-day splitting and time per category counted once.

Overlap rule used by every analysis: a stretch of time covered by k events is split equally among them
(each gets 1/k of it), so category totals always add up to the busy time and nothing is counted twice.
Events whose category is still missing count as OTHER (callers are expected to classify them first).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Iterable, Sequence

from geulpi_tasks.schemas import Category, EventInput

Interval = tuple[datetime, datetime]
ONE_DAY = timedelta(days=1)


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600.0


def midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def category_of(event: EventInput) -> str:
    return event.category.value if event.category is not None else Category.OTHER.value


def clip(start: datetime, end: datetime, low: datetime | None, high: datetime | None) -> Interval | None:
    """The part of [start, end) inside [low, high), or None when nothing (of positive length) is left."""
    if low is not None and start < low:
        start = low
    if high is not None and end > high:
        end = high
    return (start, end) if end > start else None


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted union of intervals; touching intervals merge, empty ones vanish."""
    merged: list[list[datetime]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def total_hours(intervals: Iterable[Interval]) -> float:
    return sum(hours(e - s) for s, e in intervals)


def intersection_hours(a: Sequence[Interval], b: Sequence[Interval]) -> float:
    """Hours shared by two sorted, disjoint interval lists (two-pointer walk)."""
    i = j = 0
    total = 0.0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if end > start:
            total += hours(end - start)
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def subtract_intervals(base: Interval, cuts: Sequence[Interval]) -> list[Interval]:
    """Parts of ``base`` not covered by the sorted, disjoint ``cuts``."""
    free: list[Interval] = []
    cursor, end = base
    for cut_start, cut_end in cuts:
        if cut_end <= cursor:
            continue
        if cut_start >= end:
            break
        if cut_start > cursor:
            free.append((cursor, cut_start))
        cursor = max(cursor, cut_end)
        if cursor >= end:
            break
    if cursor < end:
        free.append((cursor, end))
    return free


def days_of(start: datetime, end: datetime) -> list[date]:
    """Calendar days that [start, end) touches (an event ending at midnight does not touch the next day)."""
    if end <= start:
        return [start.date()]
    last = (end - timedelta(microseconds=1)).date()
    return [start.date() + timedelta(days=k) for k in range((last - start.date()).days + 1)]


def split_by_day(start: datetime, end: datetime) -> list[tuple[date, datetime, datetime]]:
    """[start, end) cut at each midnight, as (day, piece start, piece end)."""
    pieces = []
    for day in days_of(start, end):
        piece = clip(start, end, midnight(day), midnight(day) + ONE_DAY)
        if piece is not None:
            pieces.append((day, piece[0], piece[1]))
    return pieces


def clock_window(day: date, start_hour: int, end_hour: int) -> list[Interval]:
    """A daily clock window on ``day``; one that wraps midnight (22→6) gives its two parts on that day."""
    base = midnight(day)
    if start_hour < end_hour:
        return [(base + timedelta(hours=start_hour), base + timedelta(hours=end_hour))]
    return [(base, base + timedelta(hours=end_hour)), (base + timedelta(hours=start_hour), base + ONE_DAY)]


def segments(events: Sequence[EventInput], low: datetime | None = None,
             high: datetime | None = None) -> list[tuple[datetime, datetime, tuple[int, ...]]]:
    """Elementary pieces of the timeline with the indices of the events covering each: the basis of counting once."""
    points: list[tuple[datetime, int, int]] = []
    for index, event in enumerate(events):
        piece = clip(event.start, event.end, low, high)
        if piece is not None:
            points.append((piece[0], 1, index))
            points.append((piece[1], -1, index))
    points.sort(key=lambda p: p[0])
    active: set[int] = set()
    out: list[tuple[datetime, datetime, tuple[int, ...]]] = []
    k = 0
    previous: datetime | None = None
    while k < len(points):
        now = points[k][0]
        if active and previous is not None and now > previous:
            out.append((previous, now, tuple(sorted(active))))
        while k < len(points) and points[k][0] == now:
            _, step, index = points[k]
            if step > 0:
                active.add(index)
            else:
                active.discard(index)
            k += 1
        previous = now
    return out


def hours_by_category(events: Sequence[EventInput], low: datetime | None = None,
                      high: datetime | None = None) -> dict[str, float]:
    """Hours per category in [low, high); overlapped time is split equally among the events covering it."""
    totals: dict[str, float] = defaultdict(float)
    for start, end, active in segments(events, low, high):
        share = hours(end - start) / len(active)
        for index in active:
            totals[category_of(events[index])] += share
    return dict(totals)


def hours_by_day_and_category(events: Sequence[EventInput], low: datetime | None = None,
                              high: datetime | None = None) -> dict[date, dict[str, float]]:
    """Like ``hours_by_category`` but per calendar day (pieces are cut at midnight)."""
    totals: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for start, end, active in segments(events, low, high):
        for day, piece_start, piece_end in split_by_day(start, end):
            share = hours(piece_end - piece_start) / len(active)
            for index in active:
                totals[day][category_of(events[index])] += share
    return {day: dict(per) for day, per in totals.items()}


def overlap_hours(events: Sequence[EventInput], low: datetime | None = None, high: datetime | None = None) -> float:
    """Double-booked hours: the sum of event durations minus their union (0 when nothing overlaps)."""
    return sum(hours(end - start) * (len(active) - 1) for start, end, active in segments(events, low, high))


def hours_per_day(intervals: Iterable[Interval]) -> dict[date, float]:
    """Hours of a (disjoint) interval list per calendar day."""
    totals: dict[date, float] = defaultdict(float)
    for start, end in intervals:
        for day, piece_start, piece_end in split_by_day(start, end):
            totals[day] += hours(piece_end - piece_start)
    return dict(totals)


def date_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]

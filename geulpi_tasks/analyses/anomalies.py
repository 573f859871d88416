"""Events that do not fit the user's own calendar: unusual start time, unusual duration, unusual category for a slot.

Rules (thresholds in ``defaults``):
- unusual_time, high (WORK) / medium: starts in the late night (00:00–05:00) while fewer than
  ``LATE_NIGHT_ROUTINE_SHARE`` of its category start then (a night-shift worker's nights are routine);
- unusual_time, low: fewer than ``RARE_TIME_SHARE`` of the category's other events start within
  ``RARE_TIME_WINDOW_MINUTES`` of it (needs ``MIN_CATEGORY_EVENTS``);
- unusual_duration, medium: at least ``DURATION_RATIO``× longer or shorter than the median of the same title
  and apart from it by ``DURATION_MIN_DIFF_MINUTES`` and by ``DURATION_MAD_FACTOR`` median absolute deviations;
- unusual_category, low: its weekday-hour slot holds at least ``MIN_SLOT_EVENTS`` other events of which
  ``SLOT_DOMINANCE`` share one other category.
An event's severity is the highest of its findings.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from statistics import median
from typing import Any, Sequence

from geulpi_tasks.analyses import defaults
from geulpi_tasks.analyses.constraints import WEEKDAYS
from geulpi_tasks.analyses.timeline import category_of
from geulpi_tasks.schemas import Category, EventInput

_RANK = {"high": 3, "medium": 2, "low": 1}
_DAY_MINUTES = 24 * 60


def _minute(event: EventInput) -> int:
    return event.start.hour * 60 + event.start.minute


def _near_count(sorted_minutes: Sequence[int], minute: int, window: int) -> int:
    """Starts within ±window minutes of ``minute`` on the 24-hour circle (so 23:30 is near 00:15)."""
    low, high = minute - window, minute + window
    count = bisect_right(sorted_minutes, min(high, _DAY_MINUTES - 1)) - bisect_left(sorted_minutes, max(low, 0))
    if low < 0:
        count += len(sorted_minutes) - bisect_left(sorted_minutes, low + _DAY_MINUTES)
    if high >= _DAY_MINUTES:
        count += bisect_right(sorted_minutes, high - _DAY_MINUTES)
    return count


def _typical_duration(group_durations: list[float], actual: float,
                      cache: dict[tuple[int, float], tuple[float, float]], group: int) -> tuple[float, float]:
    """Median and median absolute deviation of the group's OTHER durations (leave this event out).

    Events with the same duration in a group share the answer, so it is computed once per distinct duration
    instead of once per event (a title repeated thousands of times would otherwise cost quadratic time).
    """
    key = (group, actual)
    if key not in cache:
        others = list(group_durations)
        others.remove(actual)
        usual = median(others)
        cache[key] = (usual, median(abs(d - usual) for d in others))
    return cache[key]


def detect_anomalies(events: Sequence[EventInput], groups: Sequence[int]) -> list[dict[str, Any]]:
    """One entry per unusual event with its reasons and severity, most severe first."""
    starts: dict[str, list[int]] = defaultdict(list)
    durations: dict[int, list[float]] = defaultdict(list)
    slots: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    late_start, late_end = (h * 60 for h in defaults.LATE_NIGHT_HOURS)
    for event, group in zip(events, groups, strict=True):
        starts[category_of(event)].append(_minute(event))
        durations[group].append(event.duration_minutes)
        slots[(event.start.weekday(), event.start.hour)][category_of(event)] += 1
    for minutes in starts.values():
        minutes.sort()
    late_share = {c: sum(1 for m in ms if late_start <= m < late_end) / len(ms) for c, ms in starts.items()}

    typical_cache: dict[tuple[int, float], tuple[float, float]] = {}
    found: list[dict[str, Any]] = []
    for event, group in zip(events, groups, strict=True):
        category, minute = category_of(event), _minute(event)
        findings: list[tuple[str, str, str]] = []
        same = starts[category]
        if late_start <= minute < late_end and late_share[category] < defaults.LATE_NIGHT_ROUTINE_SHARE:
            severity = "high" if category == Category.WORK.value else "medium"
            findings.append(("unusual_time", f"starts at {event.start:%H:%M}, in the middle of the night", severity))
        elif len(same) >= defaults.MIN_CATEGORY_EVENTS:
            near = _near_count(same, minute, defaults.RARE_TIME_WINDOW_MINUTES) - 1
            if near / (len(same) - 1) < defaults.RARE_TIME_SHARE:
                findings.append(("unusual_time", f"starts at {event.start:%H:%M}; only {near} of {len(same) - 1} "
                                                 f"other {category} events start within "
                                                 f"{defaults.RARE_TIME_WINDOW_MINUTES} minutes of that", "low"))
        if len(durations[group]) - 1 >= defaults.MIN_GROUP_FOR_DURATION:
            actual = event.duration_minutes
            usual, spread = _typical_duration(durations[group], actual, typical_cache, group)
            ratio_off = actual >= defaults.DURATION_RATIO * usual or actual * defaults.DURATION_RATIO <= usual
            needed = max(defaults.DURATION_MIN_DIFF_MINUTES, defaults.DURATION_MAD_FACTOR * spread)
            if ratio_off and abs(actual - usual) >= needed:
                findings.append(("unusual_duration", f"lasts {actual:.0f} min where '{event.title}' usually "
                                                     f"lasts {usual:.0f} min", "medium"))
        slot = (event.start.weekday(), event.start.hour)
        counts = slots[slot].copy()
        counts[category] -= 1
        total = sum(counts.values())
        if total >= defaults.MIN_SLOT_EVENTS:
            usual_category, count = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if usual_category != category and count / total >= defaults.SLOT_DOMINANCE:
                findings.append(("unusual_category", f"is {category} on {WEEKDAYS[slot[0]].capitalize()} around "
                                                     f"{slot[1]:02d}:00, a slot that is {usual_category} "
                                                     f"{100 * count / total:.0f}% of the time", "low"))
        if findings:
            severity = max((f[2] for f in findings), key=_RANK.__getitem__)
            found.append({"eventId": event.event_id, "title": event.title, "category": category,
                          "startTime": event.start.isoformat(), "endTime": event.end.isoformat(),
                          "types": sorted({f[0] for f in findings}), "reasons": [f[1] for f in findings],
                          "severity": severity})
    found.sort(key=lambda a: (-_RANK[a["severity"]], a["startTime"], a["eventId"] or ""))
    return found

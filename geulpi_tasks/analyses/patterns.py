"""Recurring patterns in a calendar: weekly events, daily routines, the typical workday and category blocks.

Confidence (0..1) = occurrence share × time consistency, where
- occurrence share = distinct dates on which it happened / eligible dates (weeks with that weekday for weekly
  patterns, days or weekdays for routines) between the first and the last event considered, and
- time consistency = 1 − mean |start − median start| / ``TIME_TOLERANCE_MINUTES``, clipped to 0..1.
A pattern on several weekdays reports the eligible-weighted mean of its per-weekday confidences. Patterns below
``min_confidence`` are dropped. Start times are first grouped into clusters (gaps over ``CLUSTER_GAP_MINUTES``
separate them), so "Gym at 7:00" and "Gym at 19:00" are two patterns.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from statistics import median
from typing import Annotated, Any, Iterable, Sequence

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

from geulpi_tasks.analyses import defaults
from geulpi_tasks.analyses.anomalies import detect_anomalies
from geulpi_tasks.analyses.constraints import WEEKDAYS, clock_label
from geulpi_tasks.analyses.parsing import (
    LOOKBACK_SCHEMA,
    EventsField,
    UserIdField,
    parse_lookback,
    parse_number,
    parse_request_model,
    required,
    window_ending_at_latest,
)
from geulpi_tasks.analyses.timeline import category_of, date_range
from geulpi_tasks.analyses.titles import group_titles
from geulpi_tasks.schemas import Category, EventInput, domain_check


@dataclass(frozen=True)
class PatternsRequest:
    """A parsed /detect-patterns request."""

    user_id: str
    events: tuple[EventInput, ...]
    lookback_days: int = defaults.DEFAULT_PATTERN_LOOKBACK_DAYS
    min_confidence: float = defaults.DEFAULT_MIN_CONFIDENCE


def _min_confidence(value: Any) -> float:
    if value is None:
        return defaults.DEFAULT_MIN_CONFIDENCE
    return parse_number(value, "minConfidence", low=0.0, high=1.0)


class PatternsRequestBody(BaseModel):
    """``POST /detect-patterns``: recurring events, routines, the typical workday and anomalies."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"required": ["userId", "events"]})

    userId: UserIdField = required()  # noqa: N815 - the wire's names
    events: EventsField = required()
    lookbackDays: Annotated[int, BeforeValidator(domain_check(  # noqa: N815
        lambda v: parse_lookback({"lookbackDays": v}, defaults.DEFAULT_PATTERN_LOOKBACK_DAYS))),
        LOOKBACK_SCHEMA] = defaults.DEFAULT_PATTERN_LOOKBACK_DAYS
    minConfidence: Annotated[float, BeforeValidator(domain_check(_min_confidence)),  # noqa: N815
                             WithJsonSchema({"type": ["number", "null"], "minimum": 0, "maximum": 1})
                             ] = defaults.DEFAULT_MIN_CONFIDENCE


def parse_patterns_request(payload: Any, *, max_events: int = defaults.MAX_EVENTS) -> PatternsRequest:
    """Validate ``{userId, events, lookbackDays?, minConfidence?}`` through ``PatternsRequestBody``; raises
    InvalidInput/InvalidValue naming the field."""
    body = parse_request_model(PatternsRequestBody, payload, max_events)
    return PatternsRequest(body.userId, body.events, body.lookbackDays, body.minConfidence)


@dataclass(frozen=True)
class _Occurrence:
    event: EventInput
    group: int
    day: date
    minute: int
    duration: float

    @property
    def weekday(self) -> int:
        return self.day.weekday()


class _Span:
    """The observed dates; eligibility counts come from here."""

    def __init__(self, first: date, last: date):
        self.first, self.last = first, last
        self.per_weekday = Counter(d.weekday() for d in date_range(first, last))

    def eligible(self, weekdays: Iterable[int]) -> int:
        return sum(self.per_weekday[w] for w in set(weekdays))


def _consistency(minutes: Sequence[float]) -> float:
    center = median(minutes)
    spread = sum(abs(m - center) for m in minutes) / len(minutes)
    return max(0.0, 1.0 - spread / defaults.TIME_TOLERANCE_MINUTES)


def _clusters(occurrences: Sequence[_Occurrence]) -> list[list[_Occurrence]]:
    ordered = sorted(occurrences, key=lambda o: (o.minute, o.day, o.event.event_id or ""))
    clusters: list[list[_Occurrence]] = []
    for occ in ordered:
        if clusters and occ.minute - clusters[-1][-1].minute <= defaults.CLUSTER_GAP_MINUTES:
            clusters[-1].append(occ)
        else:
            clusters.append([occ])
    return clusters


def _weekly(cluster: Sequence[_Occurrence], span: _Span, min_confidence: float) -> tuple[list[int], float, int, int]:
    """Weekdays on which the cluster recurs weekly, their weighted confidence, occurrences and eligible weeks."""
    days, weighted, frequency, eligible = [], 0.0, 0, 0
    for weekday in range(7):
        subset = [o for o in cluster if o.weekday == weekday]
        dates = {o.day for o in subset}
        if len(dates) < defaults.MIN_PATTERN_OCCURRENCES:
            continue
        possible = span.eligible([weekday])
        confidence = min(1.0, len(dates) / possible) * _consistency([o.minute for o in subset])
        if confidence >= min_confidence:
            days.append(weekday)
            weighted += confidence * possible
            frequency += len(dates)
            eligible += possible
    return days, (weighted / eligible if eligible else 0.0), frequency, eligible


def _describe(occurrences: Sequence[_Occurrence]) -> dict[str, Any]:
    start = int(median(o.minute for o in occurrences))
    duration = int(round(median(o.duration for o in occurrences)))
    categories = Counter(category_of(o.event) for o in occurrences)
    return {
        "title": _representative_title([o.event.title for o in occurrences]),
        "category": min(categories, key=lambda c: (-categories[c], c)),
        "startTime": clock_label(start),
        "endTime": clock_label(min(start + duration, 24 * 60)),
        "durationMinutes": duration,
    }


def _representative_title(titles: Sequence[str]) -> str:
    """The most common title; when every title differs ("Sync #1", "Sync #2"), their common stem if it is readable."""
    counts = Counter(titles)
    best = min(counts, key=lambda t: (-counts[t], t))
    if counts[best] == 1 and len(counts) > 1:
        stem = os.path.commonprefix(list(counts)).rstrip(" #-:_.0123456789")
        if len(stem) >= 3:
            return stem
    return best


def _out_of(frequency: int, eligible: int, days: Sequence[int]) -> str:
    return f"{frequency} of {eligible} {'weeks' if len(days) == 1 else 'possible days'}"


def _day_names(weekdays: Iterable[int]) -> list[str]:
    return [WEEKDAYS[w] for w in sorted(weekdays)]


def _title_patterns(occurrences: Sequence[_Occurrence], span: _Span,
                    min_confidence: float) -> tuple[list[dict[str, Any]], set[tuple[int, int]]]:
    """Weekly events and daily routines per title group, and the (group, weekday) pairs they explain."""
    by_group: dict[int, list[_Occurrence]] = defaultdict(list)
    for occ in occurrences:
        by_group[occ.group].append(occ)
    found: list[dict[str, Any]] = []
    reported: set[tuple[int, int]] = set()
    for group in sorted(by_group):
        for cluster in _clusters(by_group[group]):
            dates = {o.day for o in cluster}
            if len(dates) < defaults.MIN_PATTERN_OCCURRENCES:
                continue
            weekday_dates = {d for d in dates if d.weekday() < 5}
            scope = range(5) if len(weekday_dates) >= defaults.WEEKDAY_ROUTINE_SHARE * len(dates) else range(7)
            in_scope = {d for d in dates if d.weekday() in scope}
            possible = span.eligible(scope)
            confidence = min(1.0, len(in_scope) / possible) * _consistency([o.minute for o in cluster])
            info = _describe(cluster)
            if confidence >= min_confidence:
                label = "every weekday" if len(scope) == 5 else "every day"
                found.append({"type": "daily_routine", **info, "daysOfWeek": _day_names(scope),
                              "frequency": len(in_scope), "eligible": possible, "confidence": round(confidence, 3),
                              "description": f"'{info['title']}' {label} around {info['startTime']} "
                                             f"({len(in_scope)} of {possible} days)."})
                reported.update((group, w) for w in scope)
                continue
            days, confidence, frequency, eligible = _weekly(cluster, span, min_confidence)
            if days:
                info = _describe([o for o in cluster if o.weekday in days])
                names = ", ".join(WEEKDAYS[d].capitalize() for d in days)
                found.append({"type": "weekly_event", **info, "daysOfWeek": _day_names(days),
                              "frequency": frequency, "eligible": eligible, "confidence": round(confidence, 3),
                              "description": f"'{info['title']}' every {names} at {info['startTime']} "
                                             f"({_out_of(frequency, eligible, days)})."})
                reported.update((group, w) for w in days)
    return found, reported


def _workday_pattern(occurrences: Sequence[_Occurrence], span: _Span, min_confidence: float) -> dict[str, Any] | None:
    first: dict[date, int] = {}
    last: dict[date, int] = {}
    for occ in occurrences:
        if occ.event.category != Category.WORK:
            continue
        end_minute = min(24 * 60, occ.minute + int(occ.duration))
        first[occ.day] = min(first.get(occ.day, 24 * 60), occ.minute)
        last[occ.day] = max(last.get(occ.day, 0), end_minute)
    per_weekday = Counter(d.weekday() for d in first)
    workdays = [w for w in range(7) if span.per_weekday[w]
                and per_weekday[w] >= defaults.WORKDAY_PRESENCE_SHARE * span.per_weekday[w]]
    dates = [d for d in sorted(first) if d.weekday() in workdays]
    if len(dates) < defaults.MIN_PATTERN_OCCURRENCES:
        return None
    eligible = span.eligible(workdays)
    consistency = (_consistency([first[d] for d in dates]) + _consistency([last[d] for d in dates])) / 2
    confidence = min(1.0, len(dates) / eligible) * consistency
    if confidence < min_confidence:
        return None
    start, end = clock_label(int(median(first[d] for d in dates))), clock_label(int(median(last[d] for d in dates)))
    names = ", ".join(WEEKDAYS[d].capitalize() for d in workdays)
    return {"type": "workday", "daysOfWeek": _day_names(workdays), "startTime": start, "endTime": end,
            "frequency": len(dates), "eligible": eligible, "confidence": round(confidence, 3),
            "description": f"Your workday usually runs {start}–{end} on {names} ({len(dates)} of {eligible} days)."}


def _category_blocks(occurrences: Sequence[_Occurrence], span: _Span, min_confidence: float,
                     reported: set[tuple[int, int]], workday: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Weekly blocks of one category whatever the titles (e.g. HEALTH Mon/Wed 07:00), unless a title pattern or the
    workday pattern already tells the same story."""
    by_category: dict[str, list[_Occurrence]] = defaultdict(list)
    for occ in occurrences:
        by_category[category_of(occ.event)].append(occ)
    found = []
    for category in sorted(by_category):
        for cluster in _clusters(by_category[category]):
            days, confidence, frequency, eligible = _weekly(cluster, span, min_confidence)
            if not days:
                continue
            members = [o for o in cluster if o.weekday in days]
            covered = sum(1 for o in members if (o.group, o.weekday) in reported) / len(members)
            info = _describe(members)
            if covered >= defaults.COVERED_SHARE:
                continue
            if workday and category == Category.WORK.value and abs(
                    _minutes(info["startTime"]) - _minutes(workday["startTime"])) <= defaults.TIME_TOLERANCE_MINUTES:
                continue
            names = ", ".join(WEEKDAYS[d].capitalize() for d in days)
            found.append({"type": "category_block", "category": category, "daysOfWeek": _day_names(days),
                          "startTime": info["startTime"], "endTime": info["endTime"],
                          "durationMinutes": info["durationMinutes"], "frequency": frequency, "eligible": eligible,
                          "confidence": round(confidence, 3),
                          "description": f"{category} time every {names} around {info['startTime']} "
                                         f"({_out_of(frequency, eligible, days)})."})
    return found


def _minutes(label: str) -> int:
    hour, minute = label.split(":")
    return int(hour) * 60 + int(minute)


def analyze_patterns(request: PatternsRequest) -> dict[str, Any]:
    """Recurring patterns with frequency and confidence, plus anomalies with reasons and severity.

    Considers events starting in the ``lookback_days`` days ending on the day of the latest event. Fewer than
    ``MIN_EVENTS_FOR_PATTERNS`` such events → ``{"status": "insufficient_data", ...}``. Never raises for valid input.
    """
    window = window_ending_at_latest(request.events, request.lookback_days)
    kept = [e for e in request.events if window and window[0] <= e.start.date() <= window[1]]
    base: dict[str, Any] = {"userId": request.user_id, "lookbackDays": request.lookback_days,
                            "minConfidence": request.min_confidence, "eventCount": len(kept)}
    if window is None or len(kept) < defaults.MIN_EVENTS_FOR_PATTERNS:
        return {**base, "status": "insufficient_data", "minimumEvents": defaults.MIN_EVENTS_FOR_PATTERNS,
                "patterns": [], "anomalies": [],
                "message": f"Pattern detection needs at least {defaults.MIN_EVENTS_FOR_PATTERNS} events in the "
                           f"last {request.lookback_days} days; {len(kept)} found."}
    groups = group_titles([e.title for e in kept])
    occurrences = [_Occurrence(e, g, e.start.date(), e.start.hour * 60 + e.start.minute, e.duration_minutes)
                   for e, g in zip(kept, groups, strict=True)]
    span = _Span(min(o.day for o in occurrences), window[1])
    titled, reported = _title_patterns(occurrences, span, request.min_confidence)
    workday = _workday_pattern(occurrences, span, request.min_confidence)
    blocks = _category_blocks(occurrences, span, request.min_confidence, reported, workday)
    patterns = titled + ([workday] if workday else []) + blocks
    patterns.sort(key=lambda p: (-p["confidence"], p["type"], p["daysOfWeek"], p["startTime"]))
    return {**base, "status": "ok",
            "period": {"startDate": span.first.isoformat(), "endDate": span.last.isoformat()},
            "patterns": patterns, "anomalies": detect_anomalies(kept, groups)}

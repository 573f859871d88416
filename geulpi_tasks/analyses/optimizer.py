"""Schedule optimisation: suggest new times for flexible WORK events so the schedule breaks fewer rules.

Movable events: WORK events of positive length lying wholly inside the window, not fixed (``constraints.
fixedEventIds`` or ``"fixed": true`` on the event) and no longer than the working day. Other categories are never
moved: we cannot know the constraints of a gym class or a dinner with friends.
Search (greedy, deterministic): events that add to the penalty of ``schedule_score`` are ranked by how much
penalty removing them would clear; each in turn is offered the feasible slot on the 15-minute grid closest to its
original time of day, on its own day or up to ``SEARCH_RADIUS_DAYS`` away, and the slot with the largest penalty
reduction is applied before the next event is considered. A slot is feasible only if it keeps every rule for the
moved event: a working day inside working hours and the window, no overlap and the minimum break to every other
event, and for meetings no no-meeting window, the daily meeting cap and the consecutive-meeting cap.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Annotated, Any, Mapping

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainValidator, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from geulpi_tasks.analyses import defaults
from geulpi_tasks.analyses.constraints import (
    ScheduleConstraints,
    SchedulePreferences,
    in_working_hours,
    parse_constraints,
    parse_preferences,
)
from geulpi_tasks.analyses.parsing import (
    DATE_OR_DATETIME,
    UserIdField,
    events_checked,
    parse_bool,
    parse_day,
    parse_period,
    parse_request_model,
    required,
)
from geulpi_tasks.analyses.schedule_score import Item, day_issues, meeting_runs, score_items
from geulpi_tasks.analyses.timeline import (
    ONE_DAY,
    days_of,
    hours,
    merge_intervals,
    midnight,
    subtract_intervals,
    total_hours,
)
from geulpi_tasks.errors import InvalidInput, InvalidValue
from geulpi_tasks.schemas import EventInput, domain_check

_EPS = 1e-9
_GRID = timedelta(minutes=defaults.SLOT_GRID_MINUTES)


@dataclass(frozen=True)
class ScheduleRequest:
    """A parsed /optimize-schedule request; every event has a unique id, ``fixed_event_ids`` joins both sources."""

    user_id: str
    start: datetime
    end: datetime
    events: tuple[EventInput, ...]
    constraints: ScheduleConstraints
    preferences: SchedulePreferences
    fixed_event_ids: frozenset[str]


def _parse_window(body: Mapping[str, Any]) -> tuple[datetime, datetime]:
    has_target = body.get("targetDate") is not None
    has_range = body.get("startDate") is not None or body.get("endDate") is not None
    if has_target and has_range:
        raise InvalidValue("Send either 'targetDate' or 'startDate'/'endDate', not both.", field="targetDate")
    if has_target:
        day = parse_day(body["targetDate"], "targetDate")
        return midnight(day), midnight(day) + ONE_DAY
    if not has_range:
        raise InvalidInput("'targetDate' (or 'startDate' and 'endDate') is required.", field="targetDate")
    return parse_period(body)


def _unique_events(value: Any, info: ValidationInfo) -> tuple[tuple[EventInput, ...], frozenset[str]]:
    """The events (ids unique: suggestions refer to events by id) and the ids flagged ``fixed``."""
    events = events_checked(value, info)
    seen: set[str] = set()
    flagged: set[str] = set()
    for i, (event, raw) in enumerate(zip(events, value, strict=True)):
        if event.event_id in seen:
            raise PydanticCustomError("invalid_value", f"'events[{i}].eventId' repeats the id {event.event_id!r}; "
                                      "ids must be unique.", {"field": f"events[{i}].eventId"})
        event_id = str(event.event_id)
        seen.add(event_id)
        if domain_check(partial(parse_bool, key="fixed", default=False, path=f"events[{i}]."))(raw):
            flagged.add(event_id)
    return events, frozenset(flagged)


def _constraints(value: Any, info: ValidationInfo) -> ScheduleConstraints | None:
    parsed = info.data.get("events")
    if parsed is None:  # the events are the problem, reported first
        return None
    known = {str(e.event_id) for e in parsed[0]}
    return domain_check(lambda v: parse_constraints({"constraints": v}, known))(value)  # type: ignore[no-any-return]


# The window's parts, the constraints and the preferences as the OpenAPI document shows them; a null counts as absent.
_CLOCK: dict[str, Any] = {"type": "string", "pattern": "^\\s*[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?\\s*$",
                          "description": "HH:MM"}
_HOURS_IN_DAY: dict[str, Any] = {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 24}
_SCHEMA_PROPERTIES: dict[str, Any] = {
    "targetDate": {"type": ["string", "null"], "format": "date", "description": "One day; or startDate/endDate"},
    "constraints": {"type": ["object", "null"], "additionalProperties": False, "properties": {
        "workingHours": {"type": ["object", "null"], "required": ["start", "end"], "properties": {
            "start": {**_CLOCK, "examples": ["09:00"]}, "end": {**_CLOCK, "examples": ["18:00"]}}},
        "daysOff": {"type": ["array", "null"], "items": {"type": "string"},
                    "description": "Weekday names or YYYY-MM-DD dates (default SATURDAY, SUNDAY)"},
        "noMeetingWindows": {"type": ["array", "null"], "items": {
            "type": "object", "required": ["start", "end"],
            "properties": {"start": _CLOCK, "end": _CLOCK, "days": {"type": "array", "items": {"type": "string"}}}}},
        "maxMeetingHoursPerDay": _HOURS_IN_DAY, "maxConsecutiveMeetingHours": _HOURS_IN_DAY,
        "minBreakMinutes": {"type": ["number", "null"], "minimum": 0, "maximum": defaults.MAX_MIN_BREAK_MINUTES},
        "fixedEventIds": {"type": ["array", "null"], "items": {"type": ["string", "integer"]}}}},
    "preferences": {"type": ["object", "null"], "additionalProperties": False, "properties": {
        "maxSuggestions": {"type": ["integer", "null"], "minimum": 1, "maximum": defaults.MAX_SUGGESTIONS_LIMIT},
        "allowDayChange": {"type": ["boolean", "null"]}}},
}
_WINDOW_SCHEMA: list[Any] = [
    {"required": ["targetDate"], "properties": {
        "targetDate": {"type": "string"}, "startDate": {"type": "null"}, "endDate": {"type": "null"}}},
    {"required": ["startDate", "endDate"], "properties": {
        "startDate": {"type": "string"}, "endDate": {"type": "string"}, "targetDate": {"type": "null"}}},
]


def _schedule_schema(schema: dict[str, Any]) -> None:
    properties = dict(schema.get("properties", {}))
    properties.pop("window", None)
    for name in ("startDate", "endDate"):
        properties[name] = {**DATE_OR_DATETIME, "type": ["string", "null"]}
    schema["properties"] = {**properties, **_SCHEMA_PROPERTIES}
    schema["required"] = ["userId", "events"]
    schema["anyOf"] = _WINDOW_SCHEMA  # a single day or a period, never both


class ScheduleRequestBody(BaseModel):
    """``POST /optimize-schedule``: ``{userId, targetDate | startDate/endDate, events, constraints?, preferences?}``,
    checked in that order. The window is read from the three date fields together."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_schedule_schema)

    userId: UserIdField = required()  # noqa: N815 - the wire's names
    window: Annotated[tuple[datetime, datetime], BeforeValidator(domain_check(_parse_window))] = required()
    events: Annotated[Any, PlainValidator(_unique_events)] = required()
    constraints: Annotated[Any, PlainValidator(_constraints)] = required()
    preferences: Annotated[Any, BeforeValidator(domain_check(
        lambda v: parse_preferences({"preferences": v})))] = required()

    @model_validator(mode="before")
    @classmethod
    def _window_from_dates(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {**data, "window": {k: data.get(k) for k in ("targetDate", "startDate", "endDate")}}
        return data


def parse_schedule_request(payload: Any, *, max_events: int = defaults.MAX_EVENTS) -> ScheduleRequest:
    """Validate ``{userId, targetDate | startDate/endDate, events, preferences?, constraints?}`` through
    ``ScheduleRequestBody``.

    Raises InvalidInput (400) / InvalidValue (422) naming the field, e.g. ``constraints.workingHours.start``.
    Event ids must be unique because suggestions refer to events by id.
    """
    body = parse_request_model(ScheduleRequestBody, payload, max_events)
    events, flagged = body.events
    start, end = body.window
    return ScheduleRequest(body.userId, start, end, events, body.constraints, body.preferences,
                           body.constraints.fixed_event_ids | flagged)


class _Schedule:
    """Items indexed by the days they touch, with the penalty of every window day kept current."""

    def __init__(self, request: ScheduleRequest):
        self.c = request.constraints
        self.start, self.end = request.start, request.end
        self.items = [Item(i, e) for i, e in enumerate(request.events)]
        self.window_days = days_of(self.start, self.end)
        self.in_window = set(self.window_days)
        self.by_day: dict[date, set[int]] = defaultdict(set)
        for item in self.items:
            self._index(item)
        self.penalty = {day: self.day_penalty(day) for day in self.window_days}

    def _index(self, item: Item) -> None:
        if item.end > item.start:
            for day in days_of(item.start, item.end):
                self.by_day[day].add(item.index)

    def _unindex(self, item: Item) -> None:
        if item.end > item.start:
            for day in days_of(item.start, item.end):
                self.by_day[day].discard(item.index)

    def on_days(self, days: list[date], exclude: int | None = None) -> list[Item]:
        indices = set().union(*(self.by_day.get(d, set()) for d in days))
        indices.discard(exclude)
        return [self.items[i] for i in sorted(indices)]

    def day_penalty(self, day: date) -> float:
        return day_issues(day, self.on_days([day]), self.c, self.start, self.end).penalty()

    def window_days_of(self, start: datetime, end: datetime) -> list[date]:
        return [d for d in days_of(start, end) if d in self.in_window]

    def trial(self, item: Item, days: list[date], start: datetime | None = None, end: datetime | None = None) -> float:
        """Penalty of ``days`` with the item at [start, end) (or removed when start is None); state is restored."""
        original = (item.start, item.end)
        self._unindex(item)
        if start is not None and end is not None:
            item.start, item.end = start, end
            self._index(item)
        try:
            return sum(self.day_penalty(d) for d in days)
        finally:
            self._unindex(item)
            item.start, item.end = original
            self._index(item)

    def move(self, item: Item, start: datetime, end: datetime) -> None:
        days = set(self.window_days_of(item.start, item.end)) | set(self.window_days_of(start, end))
        self._unindex(item)
        item.start, item.end = start, end
        self._index(item)
        for day in days:
            self.penalty[day] = self.day_penalty(day)


def _removal_gain(schedule: _Schedule, item: Item) -> float:
    days = schedule.window_days_of(item.start, item.end)
    current = sum(schedule.penalty[d] for d in days)
    if current <= _EPS:
        return 0.0
    return current - schedule.trial(item, days)


def _meeting_pieces(items: list[Item], day: date) -> list[tuple[datetime, datetime]]:
    low, high = midnight(day), midnight(day) + ONE_DAY
    return merge_intervals((max(o.start, low), min(o.end, high)) for o in items if o.meeting)


def _best_slot(schedule: _Schedule, item: Item, day: date) -> tuple[datetime, datetime] | None:
    """The feasible grid slot on ``day`` closest to the item's original time of day, or None."""
    c = schedule.c
    if c.is_day_off(day):
        return None
    low, high = c.working_interval(day)
    low, high = max(low, schedule.start), min(high, schedule.end)
    duration = item.end - item.start
    if high - low < duration:
        return None
    others = schedule.on_days([day - ONE_DAY, day, day + ONE_DAY], exclude=item.index)
    gap = c.min_break
    cuts = [(o.start - gap, o.end + gap) for o in others]
    if item.meeting:
        cuts += c.no_meeting_intervals(day)
    base = midnight(day)
    preferred = base + (item.start - midnight(item.start.date()))
    starts = []
    for free_start, free_end in subtract_intervals((low, high), merge_intervals(cuts)):
        slot = base + _GRID * -(-(free_start - base) // _GRID)
        while slot + duration <= free_end:
            starts.append(slot)
            slot += _GRID
    starts.sort(key=lambda s: (abs(s - preferred), s))
    if not item.meeting:
        return (starts[0], starts[0] + duration) if starts else None
    meetings = _meeting_pieces(others, day)
    if total_hours(meetings) + hours(duration) > c.max_meeting_hours_per_day + _EPS:
        return None
    for start in starts:
        end = start + duration
        run = next(r for r in meeting_runs(merge_intervals([*meetings, (start, end)])) if r[0] <= start < r[1])
        if hours(run[1] - run[0]) <= c.max_consecutive_meeting_hours + _EPS:
            return start, end
    return None


def _best_move(schedule: _Schedule, item: Item, allow_day_change: bool) -> tuple[datetime, datetime, float] | None:
    origin_days = schedule.window_days_of(item.start, item.end)
    home = item.start.date()
    radius = defaults.SEARCH_RADIUS_DAYS if allow_day_change else 0
    best: tuple[tuple[float, timedelta, datetime], tuple[datetime, datetime, float]] | None = None
    for offset in range(-radius, radius + 1):
        day = home + timedelta(days=offset)
        if day not in schedule.in_window:
            continue
        slot = _best_slot(schedule, item, day)
        if slot is None:
            continue
        days = sorted(set(origin_days) | set(schedule.window_days_of(*slot)))
        gain = sum(schedule.penalty[d] for d in days) - schedule.trial(item, days, *slot)
        key = (-round(gain, 6), abs(slot[0] - item.start), slot[0])
        if gain > defaults.MIN_IMPROVEMENT_HOURS and (best is None or key < best[0]):
            best = (key, (slot[0], slot[1], gain))
    return best[1] if best else None


def _reasons(schedule: _Schedule, item: Item) -> tuple[list[str], list[str]]:
    """Codes and sentences for every rule the item breaks where it is now."""
    c = schedule.c
    day = item.start.date()
    days = days_of(item.start, item.end)
    others = schedule.on_days(days, exclude=item.index)
    codes: list[str] = []
    texts: list[str] = []
    if c.is_day_off(day):
        codes.append("day_off")
        texts.append(f"falls on a day off ({day:%A} {day.isoformat()})")
    elif not in_working_hours(c, item.start, item.end):
        codes.append("outside_working_hours")
        texts.append(f"runs outside working hours ({c.working_hours_label()})")
    clashing = [o for o in others if o.start < item.end and o.end > item.start]
    if clashing:
        codes.append("overlap")
        texts.append("overlaps " + ", ".join(f"'{o.title}'" for o in clashing[:2]))
    gap = c.min_break
    near = [o for o in others if o not in clashing and o.start < item.end + gap and o.end > item.start - gap]
    if c.min_break_minutes > 0 and near:
        codes.append("missing_break")
        texts.append(f"leaves less than a {c.min_break_minutes:g}-minute break next to '{near[0].title}'")
    if item.meeting:
        windows = [w for w in c.no_meeting_intervals(day) if w[0] < item.end and w[1] > item.start]
        if windows:
            codes.append("no_meeting_window")
            texts.append(f"falls in the no-meeting window {windows[0][0]:%H:%M}–{windows[0][1]:%H:%M}")
        meetings = _meeting_pieces([*others, item], day)
        if total_hours(meetings) > c.max_meeting_hours_per_day + _EPS:
            codes.append("meeting_overload")
            texts.append(f"{day:%A} has {total_hours(meetings):.1f} h of meetings "
                         f"(limit {c.max_meeting_hours_per_day:g} h)")
        run = next((r for r in meeting_runs(meetings) if r[0] <= max(item.start, midnight(day)) < r[1]), None)
        if run and hours(run[1] - run[0]) > c.max_consecutive_meeting_hours + _EPS:
            codes.append("consecutive_meetings")
            texts.append(f"is part of a {hours(run[1] - run[0]):.1f} h stretch of meetings "
                         f"(limit {c.max_consecutive_meeting_hours:g} h)")
    busy = total_hours(merge_intervals(
        (max(o.start, midnight(day)), min(o.end, midnight(day) + ONE_DAY)) for o in [*others, item]))
    if busy > defaults.DAILY_BUSY_LIMIT_HOURS + _EPS:
        codes.append("day_overload")
        texts.append(f"{day:%A} is booked for {busy:.1f} h (limit {defaults.DAILY_BUSY_LIMIT_HOURS:g} h)")
    return codes, texts


def _movable(schedule: _Schedule, item: Item, fixed: frozenset[str]) -> bool:
    working_span = timedelta(minutes=schedule.c.working_end - schedule.c.working_start)
    return (item.work and item.event_id not in fixed and item.end > item.start and item.start >= schedule.start
            and item.end <= schedule.end and item.end - item.start <= working_span)


def analyze_schedule(request: ScheduleRequest) -> dict[str, Any]:
    """Up to ``preferences.maxSuggestions`` moves sorted by impact (weighted problem hours removed), and the
    schedule score (see ``schedule_score``) before and after applying all of them. Never raises for valid requests."""
    schedule = _Schedule(request)
    c = request.constraints
    before = score_items(schedule.items, c, request.start, request.end)
    base: dict[str, Any] = {
        "userId": request.user_id,
        "period": {"startDate": request.start.isoformat(), "endDate": request.end.isoformat(),
                   "days": len(schedule.window_days)},
        "constraints": {"workingHours": c.working_hours_label(),
                        "maxMeetingHoursPerDay": c.max_meeting_hours_per_day,
                        "maxConsecutiveMeetingHours": c.max_consecutive_meeting_hours,
                        "minBreakMinutes": c.min_break_minutes},
    }
    in_window = [it for it in schedule.items if it.end > it.start and it.end > request.start
                 and it.start < request.end]
    if not in_window:
        return {**base, "status": "empty", "suggestions": [], "balanceScoreBefore": round(before.score, 3),
                "balanceScoreAfter": round(before.score, 3), "issuesBefore": before.issues.to_dict(),
                "issuesAfter": before.issues.to_dict(), "movableEventCount": 0, "fixedEventCount": 0}
    movable = [it for it in schedule.items if _movable(schedule, it, request.fixed_event_ids)]
    ranked = sorted(((gain, it) for it in movable if (gain := _removal_gain(schedule, it)) > _EPS),
                    key=lambda pair: (-pair[0], pair[1].start, pair[1].event_id))
    suggestions: list[dict[str, Any]] = []
    for _, item in ranked:
        if len(suggestions) >= request.preferences.max_suggestions:
            break
        if _removal_gain(schedule, item) <= defaults.MIN_IMPROVEMENT_HOURS:
            continue
        move = _best_move(schedule, item, request.preferences.allow_day_change)
        if move is None:
            continue
        codes, texts = _reasons(schedule, item)
        start, end, gain = move
        original = (item.start, item.end)
        schedule.move(item, start, end)
        where = f"{start:%a %Y-%m-%d %H:%M}–{end:%H:%M}"
        suggestions.append({
            "eventId": item.event_id,
            "title": item.title,
            "originalStart": original[0].isoformat(),
            "originalEnd": original[1].isoformat(),
            "suggestedStart": start.isoformat(),
            "suggestedEnd": end.isoformat(),
            "reasonCodes": codes,
            "reason": (f"'{item.title}' " + "; ".join(texts) if texts else f"'{item.title}' adds to the day's load")
                      + f". Move to {where}, the closest slot that keeps every constraint.",
            "impact": round(gain, 2),
        })
    after = score_items(schedule.items, c, request.start, request.end)
    suggestions.sort(key=lambda s: (-s["impact"], s["originalStart"], s["eventId"]))
    return {
        **base,
        "status": "ok",
        "suggestions": suggestions,
        "balanceScoreBefore": round(before.score, 3),
        "balanceScoreAfter": round(after.score, 3),
        "issuesBefore": before.issues.to_dict(),
        "issuesAfter": after.issues.to_dict(),
        "movableEventCount": len(movable),
        "fixedEventCount": sum(1 for it in in_window if it.event_id in request.fixed_event_ids),
    }


__all__ = ["ScheduleRequest", "analyze_schedule", "parse_schedule_request"]

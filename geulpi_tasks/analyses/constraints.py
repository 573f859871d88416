"""The user's scheduling rules (``constraints``) and optimiser options (``preferences``), parsed strictly.

Which events each rule binds: working hours and days off bind WORK events (a morning run or a Sunday brunch
breaks no rule); no-meeting windows, the daily meeting cap and the consecutive-meeting cap bind meetings (see
``meetings.is_meeting``); the minimum break applies between any two events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Mapping

from geulpi_tasks.analyses import defaults
from geulpi_tasks.analyses.parsing import optional_object, parse_bool, parse_int, parse_number
from geulpi_tasks.analyses.timeline import Interval, midnight
from geulpi_tasks.errors import InvalidInput, InvalidValue

WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_WEEKDAY_INDEX = {**{name: i for i, name in enumerate(WEEKDAYS)}, **{name[:3]: i for i, name in enumerate(WEEKDAYS)}}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

CONSTRAINT_KEYS = ("workingHours", "daysOff", "noMeetingWindows", "maxMeetingHoursPerDay",
                   "maxConsecutiveMeetingHours", "minBreakMinutes", "fixedEventIds")
PREFERENCE_KEYS = ("maxSuggestions", "allowDayChange")


@dataclass(frozen=True)
class ClockWindow:
    """A daily window in minutes since midnight; ``weekdays`` (0 = Monday) limits it to some days, None = every day."""

    start: int
    end: int
    weekdays: frozenset[int] | None = None

    def on(self, day: date) -> Interval | None:
        if self.weekdays is not None and day.weekday() not in self.weekdays:
            return None
        base = midnight(day)
        return base + timedelta(minutes=self.start), base + timedelta(minutes=self.end)


def _default_days_off() -> frozenset[int]:
    return frozenset(_WEEKDAY_INDEX[d] for d in defaults.DEFAULT_DAYS_OFF)


def _minutes(label: str) -> int:
    hour, minute = label.split(":")
    return int(hour) * 60 + int(minute)


_DEFAULT_START, _DEFAULT_END = (_minutes(label) for label in defaults.DEFAULT_WORKING_HOURS)


@dataclass(frozen=True)
class ScheduleConstraints:
    """The rules a schedule should keep; clock times are minutes since midnight, weekdays 0 = Monday."""

    working_start: int = _DEFAULT_START
    working_end: int = _DEFAULT_END
    weekdays_off: frozenset[int] = _default_days_off()
    dates_off: frozenset[date] = frozenset()
    no_meeting_windows: tuple[ClockWindow, ...] = ()
    max_meeting_hours_per_day: float = defaults.DEFAULT_MAX_MEETING_HOURS_PER_DAY
    max_consecutive_meeting_hours: float = defaults.DEFAULT_MAX_CONSECUTIVE_MEETING_HOURS
    min_break_minutes: float = defaults.DEFAULT_MIN_BREAK_MINUTES
    fixed_event_ids: frozenset[str] = frozenset()

    def is_day_off(self, day: date) -> bool:
        return day.weekday() in self.weekdays_off or day in self.dates_off

    def working_interval(self, day: date) -> Interval:
        base = midnight(day)
        return base + timedelta(minutes=self.working_start), base + timedelta(minutes=self.working_end)

    def no_meeting_intervals(self, day: date) -> list[Interval]:
        return sorted(w for w in (window.on(day) for window in self.no_meeting_windows) if w is not None)

    @property
    def min_break(self) -> timedelta:
        return timedelta(minutes=self.min_break_minutes)

    def working_hours_label(self) -> str:
        return f"{clock_label(self.working_start)}–{clock_label(self.working_end)}"


@dataclass(frozen=True)
class SchedulePreferences:
    """How many suggestions to return and whether a move may change the day."""

    max_suggestions: int = defaults.DEFAULT_MAX_SUGGESTIONS
    allow_day_change: bool = True


def clock_label(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_clock(value: Any, field: str, *, allow_midnight_end: bool = False) -> int:
    """"HH:MM" (or "HH:MM:SS") as minutes since midnight; "24:00" only where an end of day makes sense."""
    match = _CLOCK.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(f"'{field}' must be a time of day like \"09:30\".", field=field)
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute > 59 or hour > 24 or (hour == 24 and (minute or not allow_midnight_end)):
        raise InvalidValue(f"'{field}' is not a valid time of day: {value!r}.", field=field)
    return hour * 60 + minute


def _clock_range(value: Any, path: str) -> tuple[int, int]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"'{path}' must be an object with 'start' and 'end'.", field=path)
    start = parse_clock(value.get("start"), f"{path}.start")
    end = parse_clock(value.get("end"), f"{path}.end", allow_midnight_end=True)
    if end <= start:
        raise InvalidValue(f"'{path}.end' must be after '{path}.start' (windows over midnight are not supported).",
                           field=f"{path}.end")
    return start, end


def _weekday(value: Any, field: str) -> int:
    if not isinstance(value, str):
        raise InvalidInput(f"'{field}' must be a weekday name such as \"SATURDAY\".", field=field)
    index = _WEEKDAY_INDEX.get(value.strip().upper())
    if index is None:
        raise InvalidValue(f"'{field}' is not a weekday: {value!r}; use MONDAY … SUNDAY.", field=field)
    return index


def _days_off(value: Any) -> tuple[frozenset[int], frozenset[date]]:
    if not isinstance(value, list):
        raise InvalidInput("'constraints.daysOff' must be a list of weekday names or dates.",
                           field="constraints.daysOff")
    weekdays: set[int] = set()
    dates: set[date] = set()
    for i, item in enumerate(value):
        field = f"constraints.daysOff[{i}]"
        if isinstance(item, str) and _DATE.match(item.strip()):
            try:
                dates.add(date.fromisoformat(item.strip()))
            except ValueError as err:
                raise InvalidValue(f"'{field}' is not a calendar date: {item!r}.", field=field) from err
        elif isinstance(item, str):
            weekdays.add(_weekday(item, field))
        else:
            raise InvalidInput(f"'{field}' must be a weekday name or a YYYY-MM-DD date.", field=field)
    return frozenset(weekdays), frozenset(dates)


def _no_meeting_windows(value: Any) -> tuple[ClockWindow, ...]:
    path = "constraints.noMeetingWindows"
    if not isinstance(value, list):
        raise InvalidInput(f"'{path}' must be a list of {{start, end, days?}} objects.", field=path)
    windows = []
    for i, item in enumerate(value):
        start, end = _clock_range(item, f"{path}[{i}]")
        days = item.get("days")
        weekdays: frozenset[int] | None = None
        if days is not None:
            if not isinstance(days, list) or not days:
                raise InvalidInput(f"'{path}[{i}].days' must be a non-empty list of weekday names.",
                                   field=f"{path}[{i}].days")
            weekdays = frozenset(_weekday(d, f"{path}[{i}].days[{k}]") for k, d in enumerate(days))
        unknown = set(item) - {"start", "end", "days"}
        if unknown:
            name = sorted(unknown)[0]
            raise InvalidInput(f"'{path}[{i}].{name}' is not known; use start, end and days.",
                               field=f"{path}[{i}].{name}")
        windows.append(ClockWindow(start, end, weekdays))
    return tuple(windows)


def _fixed_ids(value: Any, known_ids: set[str]) -> frozenset[str]:
    path = "constraints.fixedEventIds"
    if not isinstance(value, list):
        raise InvalidInput(f"'{path}' must be a list of event ids.", field=path)
    ids = set()
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise InvalidInput(f"'{path}[{i}]' must be a string or an integer.", field=f"{path}[{i}]")
        if str(item) not in known_ids:
            raise InvalidValue(f"'{path}[{i}]' names no event of the request: {item!r}.", field=f"{path}[{i}]")
        ids.add(str(item))
    return frozenset(ids)


def parse_constraints(payload: Mapping[str, Any], known_ids: set[str]) -> ScheduleConstraints:
    """Raises InvalidInput (400) for unknown keys or malformed values and InvalidValue (422) for impossible ones."""
    raw = optional_object(payload, "constraints", CONSTRAINT_KEYS)
    work_start, work_end = _DEFAULT_START, _DEFAULT_END
    if raw.get("workingHours") is not None:
        work_start, work_end = _clock_range(raw["workingHours"], "constraints.workingHours")
    weekdays_off, dates_off = _default_days_off(), frozenset[date]()
    if raw.get("daysOff") is not None:
        weekdays_off, dates_off = _days_off(raw["daysOff"])
    max_meeting = defaults.DEFAULT_MAX_MEETING_HOURS_PER_DAY
    if raw.get("maxMeetingHoursPerDay") is not None:
        max_meeting = parse_number(raw["maxMeetingHoursPerDay"], "constraints.maxMeetingHoursPerDay",
                                   low=0, high=24, low_open=True)
    max_consecutive = defaults.DEFAULT_MAX_CONSECUTIVE_MEETING_HOURS
    if raw.get("maxConsecutiveMeetingHours") is not None:
        max_consecutive = parse_number(raw["maxConsecutiveMeetingHours"], "constraints.maxConsecutiveMeetingHours",
                                       low=0, high=24, low_open=True)
    min_break = defaults.DEFAULT_MIN_BREAK_MINUTES
    if raw.get("minBreakMinutes") is not None:
        min_break = parse_number(raw["minBreakMinutes"], "constraints.minBreakMinutes",
                                 low=0, high=defaults.MAX_MIN_BREAK_MINUTES)
    return ScheduleConstraints(
        working_start=work_start, working_end=work_end, weekdays_off=weekdays_off, dates_off=dates_off,
        no_meeting_windows=(_no_meeting_windows(raw["noMeetingWindows"])
                            if raw.get("noMeetingWindows") is not None else ()),
        max_meeting_hours_per_day=max_meeting, max_consecutive_meeting_hours=max_consecutive,
        min_break_minutes=min_break,
        fixed_event_ids=(_fixed_ids(raw["fixedEventIds"], known_ids)
                         if raw.get("fixedEventIds") is not None else frozenset()),
    )


def parse_preferences(payload: Mapping[str, Any]) -> SchedulePreferences:
    raw = optional_object(payload, "preferences", PREFERENCE_KEYS)
    max_suggestions = defaults.DEFAULT_MAX_SUGGESTIONS
    if raw.get("maxSuggestions") is not None:
        max_suggestions = parse_int(raw["maxSuggestions"], "preferences.maxSuggestions",
                                    low=1, high=defaults.MAX_SUGGESTIONS_LIMIT)
    return SchedulePreferences(max_suggestions, parse_bool(raw, "allowDayChange", True, path="preferences."))


def in_working_hours(constraints: ScheduleConstraints, start: datetime, end: datetime) -> bool:
    """True when [start, end) lies on one working day inside the working hours."""
    day = start.date()
    if constraints.is_day_off(day):
        return False
    low, high = constraints.working_interval(day)
    return low <= start and end <= high

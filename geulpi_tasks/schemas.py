"""Request and response shapes shared by the API, the tasks and the domain.

Parsing is strict and names the offending field, so every bad request becomes a 400/422 that says what to fix.
Events cross the Celery wire as plain JSON dicts (``event_to_wire``) and are parsed again inside the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Iterable, Mapping

from geulpi_tasks.errors import InvalidInput, InvalidValue


class Category(str, Enum):
    WORK = "WORK"
    PERSONAL = "PERSONAL"
    HEALTH = "HEALTH"
    SOCIAL = "SOCIAL"
    LEARNING = "LEARNING"
    OTHER = "OTHER"


CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)


class Priority(str, Enum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


MAX_TITLE = 500
MAX_DESCRIPTION = 5000
MAX_LOCATION = 500
MAX_ATTENDEES = 1000
MAX_DURATION = timedelta(days=366)
# The registry stores version numbers as 64-bit integers; a larger one cannot exist (and would overflow SQLite).
MAX_MODEL_VERSION = 2**63 - 1


@dataclass(frozen=True)
class EventInput:
    """One calendar event as the caller sent it. Times are wall-clock (naive) in the caller's zone."""

    title: str
    start: datetime
    end: datetime
    description: str = ""
    location: str = ""
    attendees: tuple[str, ...] = ()
    event_id: str | None = None
    user_id: str | None = None
    request_id: str | None = None
    category: Category | None = None

    @property
    def duration_minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60.0


def _optional_text(payload: Mapping[str, Any], key: str, limit: int, path: str) -> str:
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"'{path}{key}' must be a string.", field=f"{path}{key}")
    if len(value) > limit:
        raise InvalidInput(f"'{path}{key}' is longer than {limit} characters.", field=f"{path}{key}")
    return value


def _optional_id(payload: Mapping[str, Any], key: str, path: str) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidInput(f"'{path}{key}' must be a string or an integer.", field=f"{path}{key}")
    text = str(value)
    if not text or len(text) > 200:
        raise InvalidInput(f"'{path}{key}' must have 1 to 200 characters.", field=f"{path}{key}")
    return text


def parse_datetime(value: Any, field: str) -> datetime:
    """Parse an ISO 8601 timestamp; an offset, if given, is kept as the event's wall-clock time."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"'{field}' is required as an ISO 8601 date-time string.", field=field)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as err:
        raise InvalidInput(f"'{field}' is not an ISO 8601 date-time: {value!r}.", field=field) from err
    return parsed


def _attendees(payload: Mapping[str, Any], path: str) -> tuple[str, ...]:
    value = payload.get("attendees")
    if value is None:
        return ()
    field = f"{path}attendees"
    if not isinstance(value, list):
        raise InvalidInput(f"'{field}' must be a list.", field=field)
    if len(value) > MAX_ATTENDEES:
        raise InvalidInput(f"'{field}' has more than {MAX_ATTENDEES} entries.", field=field)
    out: list[str] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            out.append(item)
        elif (isinstance(item, Mapping) and all(isinstance(item.get(k), (str, type(None))) for k in ("email", "name"))
              and (item.get("email") or item.get("name"))):
            out.append(str(item.get("email") or item.get("name")))
        else:
            raise InvalidInput(f"'{field}[{i}]' must be a string or an object with 'email' or 'name'.",
                               field=f"{field}[{i}]")
    return tuple(out)


def parse_event(payload: Any, *, path: str = "", allow_category: bool = False) -> EventInput:
    """Validate one event dict. Raises InvalidInput (400) for a missing/mistyped field and InvalidValue (422)
    when the values contradict each other."""
    if not isinstance(payload, Mapping):
        where = path.rstrip(".") or "body"
        raise InvalidInput(f"'{where}' must be a JSON object.", field=where)
    raw_title = payload.get("title")
    if not isinstance(raw_title, str) or not raw_title.strip():
        raise InvalidInput(f"'{path}title' is required and must be a non-empty string.", field=f"{path}title")
    if len(raw_title) > MAX_TITLE:
        raise InvalidInput(f"'{path}title' is longer than {MAX_TITLE} characters.", field=f"{path}title")
    start = parse_datetime(payload.get("startTime"), f"{path}startTime")
    end = parse_datetime(payload.get("endTime"), f"{path}endTime")
    if (start.tzinfo is None) != (end.tzinfo is None):
        raise InvalidValue(f"'{path}startTime' and '{path}endTime' must both have a UTC offset or both have none.",
                           field=f"{path}endTime")
    if start.tzinfo is not None and end.tzinfo is not None:
        end = end.astimezone(start.tzinfo)
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    if end < start:
        raise InvalidValue(f"'{path}endTime' is before '{path}startTime'.", field=f"{path}endTime")
    if end - start > MAX_DURATION:
        raise InvalidValue(f"The event lasts more than {MAX_DURATION.days} days.", field=f"{path}endTime")
    category: Category | None = None
    if allow_category and payload.get("category") is not None:
        raw_cat = payload.get("category")
        if not isinstance(raw_cat, str) or raw_cat.upper() not in CATEGORIES:
            raise InvalidInput(f"'{path}category' must be one of {', '.join(CATEGORIES)}.", field=f"{path}category")
        category = Category(raw_cat.upper())
    return EventInput(
        title=raw_title.strip(),
        start=start,
        end=end,
        description=_optional_text(payload, "description", MAX_DESCRIPTION, path).strip(),
        location=_optional_text(payload, "location", MAX_LOCATION, path).strip(),
        attendees=_attendees(payload, path),
        event_id=_optional_id(payload, "eventId", path),
        user_id=_optional_id(payload, "userId", path),
        request_id=_optional_id(payload, "requestId", path),
        category=category,
    )


def parse_events(payload: Any, *, field: str = "events", max_count: int, allow_category: bool = False,
                 allow_empty: bool = False) -> list[EventInput]:
    """Validate a list of events; errors name the element (``events[3].endTime``)."""
    if not isinstance(payload, list):
        raise InvalidInput(f"'{field}' must be a list of events.", field=field)
    if not payload and not allow_empty:
        raise InvalidInput(f"'{field}' must hold at least one event.", field=field)
    if len(payload) > max_count:
        raise InvalidInput(f"'{field}' holds {len(payload)} events; the limit is {max_count}.", field=field,
                           code="batch_too_large", details={"limit": max_count, "received": len(payload)})
    return [parse_event(item, path=f"{field}[{i}].", allow_category=allow_category) for i, item in enumerate(payload)]


def event_to_wire(event: EventInput) -> dict[str, Any]:
    """The JSON form used on the Celery wire (and accepted back by ``parse_event``)."""
    wire: dict[str, Any] = {
        "title": event.title,
        "startTime": event.start.isoformat(),
        "endTime": event.end.isoformat(),
    }
    if event.description:
        wire["description"] = event.description
    if event.location:
        wire["location"] = event.location
    if event.attendees:
        wire["attendees"] = list(event.attendees)
    if event.event_id is not None:
        wire["eventId"] = event.event_id
    if event.user_id is not None:
        wire["userId"] = event.user_id
    if event.request_id is not None:
        wire["requestId"] = event.request_id
    if event.category is not None:
        wire["category"] = event.category.value
    return wire


def events_to_wire(events: Iterable[EventInput]) -> list[dict[str, Any]]:
    return [event_to_wire(e) for e in events]


def classify_options(*, explain: bool) -> dict[str, Any] | None:
    """The classify tasks' optional second argument (None when every option has its default, so a plain call's
    message is unchanged)."""
    return {"explain": True} if explain else None


def explain_asked(options: Any) -> bool:
    """Whether a classify task's options ask for explanations; anything but a dict with ``explain: true`` is no."""
    return isinstance(options, Mapping) and options.get("explain") is True

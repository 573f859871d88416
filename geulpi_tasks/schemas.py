"""Request and response shapes shared by the API, the tasks and the domain.

Parsing is strict and names the offending field, so every bad request becomes a 400/422 that says what to fix.
Events cross the Celery wire as plain JSON dicts (``event_to_wire``) and are parsed again inside the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated, Any, Callable, Iterable, Mapping, Sequence

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

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


# ---------------------------------------------------------------- the wire shape of an event, declared once
# ``Event`` (and ``CalendarEvent``, which adds the category the analyses accept) is the parser, the source of the
# error details and the OpenAPI schema of every event the API takes: classification, batches, the analyses, feedback
# and training data. Each field's validator runs the checks in full and raises ``_problem``: a 400 (invalid_input)
# for a malformed field, a 422 (invalid_value) for values that contradict each other. ``{p}`` in a message is
# replaced by the event's place in the body (``events[3].``), so messages and ``details.field`` name the same thing.
_PLACE = "{p}"
# Which field's problem is reported when several have one: the order the API has always checked them in.
_FIELD_ORDER = ("title", "startTime", "endTime", "category", "description", "location", "attendees", "eventId",
                "userId", "requestId")
# What a missing required field needed to be, as its own check words it.
_MISSING = {"title": " and must be a non-empty string", "startTime": " as an ISO 8601 date-time string",
            "endTime": " as an ISO 8601 date-time string"}
_OPTIONAL_ID_SCHEMA: dict[str, Any] = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 200},
                                                 {"type": "integer"}, {"type": "null"}]}


def _problem(message: str, *, contradiction: bool = False) -> PydanticCustomError:
    return PydanticCustomError("invalid_value" if contradiction else "invalid_input", message)


def _text(limit: int) -> Callable[[Any, ValidationInfo], str]:
    def check(value: Any, info: ValidationInfo) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise _problem(f"'{_PLACE}{info.field_name}' must be a string.")
        if len(value) > limit:
            raise _problem(f"'{_PLACE}{info.field_name}' is longer than {limit} characters.")
        return value.strip()
    return check


def _identifier(value: Any, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _problem(f"'{_PLACE}{info.field_name}' must be a string or an integer.")
    text = str(value)
    if not text or len(text) > 200:
        raise _problem(f"'{_PLACE}{info.field_name}' must have 1 to 200 characters.")
    return text


def _title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _problem(f"'{_PLACE}title' is required and must be a non-empty string.")
    if len(value) > MAX_TITLE:
        raise _problem(f"'{_PLACE}title' is longer than {MAX_TITLE} characters.")
    return value.strip()


def _moment(value: Any, info: ValidationInfo) -> datetime:
    name = f"{_PLACE}{info.field_name}"
    if not isinstance(value, str) or not value.strip():
        raise _problem(f"'{name}' is required as an ISO 8601 date-time string.")
    try:
        return _fromisoformat(value)
    except ValueError:
        raise _problem(f"'{name}' is not an ISO 8601 date-time: {value!r}.") from None


def _end_after_start(end: datetime, info: ValidationInfo) -> datetime:
    start = info.data.get("startTime")
    if start is None:  # startTime itself is the problem, and it is reported first
        return end
    if (start.tzinfo is None) != (end.tzinfo is None):
        raise _problem(f"'{_PLACE}startTime' and '{_PLACE}endTime' must both have a UTC offset or both have none.",
                       contradiction=True)
    start_wall, end_wall = _wall_clock(start, end)
    if end_wall < start_wall:
        raise _problem(f"'{_PLACE}endTime' is before '{_PLACE}startTime'.", contradiction=True)
    if end_wall - start_wall > MAX_DURATION:
        raise _problem(f"The event lasts more than {MAX_DURATION.days} days.", contradiction=True)
    return end


def _attendee_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _problem(f"'{_PLACE}attendees' must be a list.")
    if len(value) > MAX_ATTENDEES:
        raise _problem(f"'{_PLACE}attendees' has more than {MAX_ATTENDEES} entries.")
    out: list[str] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            out.append(item)
        elif (isinstance(item, Mapping) and all(isinstance(item.get(k), (str, type(None))) for k in ("email", "name"))
              and (item.get("email") or item.get("name"))):
            out.append(str(item.get("email") or item.get("name")))
        else:
            raise PydanticCustomError("invalid_input", "'{p}attendees[{i}]' must be a string or an object with "
                                      "'email' or 'name'.", {"i": i, "index": i})
    return tuple(out)


def _category(value: Any) -> Category | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.upper() not in CATEGORIES:
        raise _problem(f"'{_PLACE}category' must be one of {', '.join(CATEGORIES)}.")
    return Category(value.upper())


def _fixed(value: Any) -> bool | None:
    # Documented as boolean or null on every analysis; only /optimize-schedule reads it, the others refuse garbage
    # all the same rather than accept what the schema says they refuse.
    if value is not None and not isinstance(value, bool):
        raise _problem(f"'{_PLACE}fixed' must be true or false.")
    return value


_DATE_TIME_SCHEMA = {"type": "string", "format": "date-time"}


class Event(BaseModel):
    """One calendar event as the API takes it. Unknown keys are ignored; times are wall-clock in the caller's zone
    (an offset, if sent, must be on both and is dropped after aligning endTime to startTime's offset)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    title: Annotated[str, BeforeValidator(_title),
                     WithJsonSchema({"type": "string", "pattern": "\\S", "maxLength": MAX_TITLE})]
    startTime: Annotated[datetime, BeforeValidator(_moment),  # noqa: N815 - the wire's name
                         WithJsonSchema({**_DATE_TIME_SCHEMA, "examples": ["2024-01-20T09:00:00"]})]
    endTime: Annotated[datetime, BeforeValidator(_moment), AfterValidator(_end_after_start),  # noqa: N815
                       WithJsonSchema({**_DATE_TIME_SCHEMA, "examples": ["2024-01-20T09:30:00"]})]
    description: Annotated[str, BeforeValidator(_text(MAX_DESCRIPTION)),
                           WithJsonSchema({"type": ["string", "null"], "maxLength": MAX_DESCRIPTION})] = ""
    location: Annotated[str, BeforeValidator(_text(MAX_LOCATION)),
                        WithJsonSchema({"type": ["string", "null"], "maxLength": MAX_LOCATION})] = ""
    attendees: Annotated[tuple[str, ...], BeforeValidator(_attendee_list), WithJsonSchema({
        "type": ["array", "null"], "maxItems": MAX_ATTENDEES, "items": {"anyOf": [
            {"type": "string"},
            {"type": "object",
             "properties": {"email": {"type": ["string", "null"]}, "name": {"type": ["string", "null"]}},
             "anyOf": [{"required": ["email"], "properties": {"email": {"type": "string", "minLength": 1}}},
                       {"required": ["name"], "properties": {"name": {"type": "string", "minLength": 1}}}]}]}})] = ()
    eventId: Annotated[str | None, BeforeValidator(_identifier),  # noqa: N815
                       WithJsonSchema(_OPTIONAL_ID_SCHEMA)] = None
    userId: Annotated[str | None, BeforeValidator(_identifier), WithJsonSchema(_OPTIONAL_ID_SCHEMA)] = None  # noqa: N815
    requestId: Annotated[str | None, BeforeValidator(_identifier), WithJsonSchema({  # noqa: N815
        **_OPTIONAL_ID_SCHEMA, "description": "Sticky A/B assignment when there is no userId; names the event in "
                                              "/feedback"})] = None

    def to_input(self, category: Category | None = None) -> EventInput:
        start, end = _wall_clock(self.startTime, self.endTime)
        return EventInput(title=self.title, start=start, end=end, description=self.description,
                          location=self.location, attendees=self.attendees, event_id=self.eventId,
                          user_id=self.userId, request_id=self.requestId, category=category)


class CalendarEvent(Event):
    """An event of the calendar analyses: the category may be sent (case-insensitive); missing, the model fills it."""

    category: Annotated[Category | None, BeforeValidator(_category), WithJsonSchema({
        "type": ["string", "null"], "enum": [*CATEGORIES, None],
        "description": "Missing → classified by the model (see categorizedByModel)"})] = None
    fixed: Annotated[bool | None, BeforeValidator(_fixed), WithJsonSchema({"type": ["boolean", "null"],
                                          "description": "/optimize-schedule only: never move this event"})] = None

    def to_input(self, category: Category | None = None) -> EventInput:
        return super().to_input(category or self.category)


def _fromisoformat(value: str) -> datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def _wall_clock(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Both times as naive wall-clock time of the start's zone (the offset, if any, is dropped)."""
    if start.tzinfo is not None and end.tzinfo is not None:
        end = end.astimezone(start.tzinfo)
        return start.replace(tzinfo=None), end.replace(tzinfo=None)
    return start, end


def _dotted(parts: Sequence[Any]) -> str:
    """A location as the API names fields: ``events[3].endTime``, ``event.attendees``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def input_error(err: ValidationError, *, path: str = "", order: Sequence[str] = _FIELD_ORDER,
                rank: Callable[[Any], Any] | None = None) -> InvalidInput:
    """The InvalidInput (400) or InvalidValue (422) for a model's validation errors: the first problem in the order
    the fields are checked (``order``; nested events in theirs), its ``field`` the full path (``path`` + where it
    is, e.g. ``events[3].endTime``). A check that names its own field passes it as ``field`` in the error context.
    ``rank`` replaces the field order when a model checks in steps (its key: a problem as pydantic reports it)."""

    def by_field(problem: Any) -> tuple[int, ...]:
        keys = [str(part) for part in problem["loc"] if not isinstance(part, int)]
        orders = (order, *[_FIELD_ORDER] * max(0, len(keys) - 1))
        return tuple(o.index(k) if k in o else len(o) for o, k in zip(orders, keys))

    problem = min(err.errors(include_url=False), key=rank or by_field)
    loc, ctx = list(problem["loc"]), problem.get("ctx") or {}
    kind = problem["type"]
    if not loc and "field" not in ctx or kind in ("model_type", "model_attributes_type", "dict_type"):
        place = path + _dotted(loc) if loc else path.rstrip(".") or "body"
        return InvalidInput(f"'{place}' must be a JSON object.", field=place)
    field = path + (str(ctx["field"]) if "field" in ctx else _dotted(loc))
    if "index" in ctx:
        field += f"[{ctx['index']}]"
    inner = path + (_dotted(loc[:-1]) + "." if len(loc) > 1 else "")
    message = str(problem["msg"]).replace(_PLACE, inner)
    if kind == "invalid_value":
        return InvalidValue(message, field=field, code=ctx.get("code"), details=ctx.get("details"))
    if kind == "invalid_input":
        return InvalidInput(message, field=field, code=ctx.get("code"), details=ctx.get("details"))
    if kind == "missing":
        return InvalidInput(f"'{field}' is required{_MISSING.get(str(loc[-1]), '')}.", field=field)
    if kind == "extra_forbidden":
        return InvalidInput(f"Unknown field '{field}'.", field=field)
    return InvalidInput(f"'{field}': {problem['msg']}.", field=field)


def domain_check(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A check that raises InvalidInput/InvalidValue, as a pydantic validator: the error keeps its family, message,
    field, code and details, so ``input_error`` gives back the same error."""
    def validate(value: Any) -> Any:
        try:
            return check(value)
        except InvalidInput as err:
            extra = {k: v for k, v in err.details.items() if k != "field"}
            raise PydanticCustomError("invalid_value" if isinstance(err, InvalidValue) else "invalid_input",
                                      err.message, {"field": err.field or "body", "code": err.code,
                                                    **({"details": extra} if extra else {})}) from None
    return validate


def parse_datetime(value: Any, field: str) -> datetime:
    """Parse an ISO 8601 timestamp; an offset, if given, is kept as the event's wall-clock time."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"'{field}' is required as an ISO 8601 date-time string.", field=field)
    try:
        return _fromisoformat(value)
    except ValueError as err:
        raise InvalidInput(f"'{field}' is not an ISO 8601 date-time: {value!r}.", field=field) from err


def _plain_text(value: Any, limit: int) -> str | None:
    """``value`` as ``_text`` would return it, or None when only the full check can say (not a stripped string)."""
    if value is None:
        return ""
    if type(value) is str and len(value) <= limit and value == value.strip():
        return value
    return None


def _plain_id(value: Any) -> Any:
    """``value`` as ``_identifier`` would return it, or the sentinel ``_plain_id`` when only the full check can say."""
    if value is None or (type(value) is str and 0 < len(value) <= 200):
        return value
    return _plain_id


def _canonical_event(payload: Any) -> EventInput | None:
    """The EventInput ``Event`` would give for an event already in canonical form (what ``event_to_wire`` sends and
    what most callers send: stripped strings, naive ISO 8601 times, string attendees and ids); None for anything
    else, which then takes the full check (issue 13: pydantic and its field validators were ~10 ms per 1000 events,
    paid once in the API and again in the worker). It accepts only what the full check accepts unchanged, so the
    result, and every error, is the same either way."""
    if type(payload) is not dict:
        return None
    get = payload.get
    title, start_text, end_text = get("title"), get("startTime"), get("endTime")
    if (type(title) is not str or not title or len(title) > MAX_TITLE or title != title.strip()
            or type(start_text) is not str or type(end_text) is not str or start_text[-1:] in ("Z", "z")
            or end_text[-1:] in ("Z", "z")):
        return None
    try:
        start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
    except ValueError:
        return None
    if start.tzinfo is not None or end.tzinfo is not None or end < start or end - start > MAX_DURATION:
        return None
    description, location = _plain_text(get("description"), MAX_DESCRIPTION), _plain_text(get("location"), MAX_LOCATION)
    attendees = get("attendees")
    if attendees is None:
        attendees = ()
    elif (type(attendees) is list and len(attendees) <= MAX_ATTENDEES
          and all(type(a) is str for a in attendees)):
        attendees = tuple(attendees)
    else:
        return None
    event_id, user_id, request_id = _plain_id(get("eventId")), _plain_id(get("userId")), _plain_id(get("requestId"))
    if description is None or location is None or _plain_id in (event_id, user_id, request_id):
        return None
    return _checked_input({"title": title, "start": start, "end": end, "description": description,
                           "location": location, "attendees": attendees, "event_id": event_id, "user_id": user_id,
                           "request_id": request_id, "category": None})


def _checked_input(fields: dict[str, Any]) -> EventInput:
    """The EventInput of already checked fields, every one given, set in one step instead of through the frozen
    dataclass's ``object.__setattr__`` per field (issue 13: that was ~60 % of a canonical event's parse, paid in the
    API and again in the worker). Equal to ``EventInput(**fields)`` in every way."""
    event = object.__new__(EventInput)
    event.__dict__.update(fields)
    return event


def parse_event(payload: Any, *, path: str = "", allow_category: bool = False) -> EventInput:
    """Validate one event dict (through ``Event``, or ``CalendarEvent`` with ``allow_category``). Raises
    InvalidInput (400) for a missing/mistyped field and InvalidValue (422) when the values contradict each other."""
    if not allow_category:
        fast = _canonical_event(payload)
        if fast is not None:
            return fast
    model = CalendarEvent if allow_category else Event
    try:
        event = model.model_validate(payload)
    except ValidationError as err:
        raise input_error(err, path=path) from None
    return event.to_input()


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


# ---------------------------------------------------------------- classification: request batch and answers
class EventBatch(BaseModel):
    """``POST /v2/classify-events``: up to GEULPI_MAX_BATCH events (1000 by default), answered in input order."""

    events: Annotated[list[Event], Field(min_length=1, max_length=1000)]


class Classification(BaseModel):
    """One event's answer: category, priority, calibrated confidence, review flag, tags, and what served it."""

    eventId: str | None  # noqa: N815 - the wire's names
    eventType: Category  # noqa: N815
    priority: Priority
    confidence: Annotated[float, Field(ge=0, le=1)]
    needsReview: bool  # noqa: N815
    suggestedTags: Annotated[list[str], Field(max_length=5)]  # noqa: N815
    probabilities: dict[str, float]
    modelName: str  # noqa: N815
    modelVersion: str  # noqa: N815
    latencyMs: Annotated[float | None, Field(description="Model time inside the worker")] = None  # noqa: N815
    requestId: Annotated[str | None, Field(  # noqa: N815
        description="The caller's requestId, else the task id; use it in /feedback")] = None
    experimentId: Annotated[str | None, Field(  # noqa: N815
        description="Present while an A/B experiment serves this model")] = None
    variant: Annotated[str | None, Field(description="The caller's A/B variant (modelVersion served it)")] = None
    explanation: Annotated[dict[str, Any] | None, Field(
        description="With ?explain=true: top n-grams and features with their signed contributions, the runner-up "
                    "class and its margin")] = None


class ClassificationBatch(BaseModel):
    """The answers of a batch, in input order."""

    results: list[Classification]
    count: int
    modelName: str  # noqa: N815
    modelVersion: str  # noqa: N815
    latencyMs: float  # noqa: N815

"""Field parsers shared by the four analysis requests, so every request names its bad field the same way.

Top-level keys the analyses do not know are ignored (API wrappers may add their own); keys inside the nested
option objects (``constraints``, ``preferences``) are strict, because a typo there would silently change the answer.
Times are wall-clock: an offset, if given, is dropped, as ``schemas.parse_event`` does for events.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Iterable, Mapping

from pydantic import BaseModel, BeforeValidator, Field, PlainValidator, ValidationError, ValidationInfo, WithJsonSchema

from geulpi_tasks.analyses.defaults import MAX_EVENTS, MAX_PERIOD_DAYS
from geulpi_tasks.errors import InvalidInput, InvalidValue
from geulpi_tasks.schemas import CalendarEvent, EventInput, domain_check, input_error, parse_datetime, parse_events

MAX_ID_LENGTH = 200  # same bound as event and user ids in ``schemas``


def require_body(payload: Any) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise InvalidInput("The request body must be a JSON object.", field="body")
    return payload


def parse_user_id(payload: Mapping[str, Any]) -> str:
    value = payload.get("userId")
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise InvalidInput("'userId' is required as a non-empty string or integer.", field="userId")
    text = str(value).strip()
    if len(text) > MAX_ID_LENGTH:
        raise InvalidInput(f"'userId' must have at most {MAX_ID_LENGTH} characters.", field="userId")
    return text


def _is_date_only(value: Any) -> bool:
    return isinstance(value, str) and len(value.strip()) == 10 and "T" not in value.upper()


def parse_moment(value: Any, field: str, *, end_of_day: bool = False) -> datetime:
    """An ISO date or date-time as naive wall-clock time; a bare date used as an end means the end of that day."""
    parsed = parse_datetime(value, field).replace(tzinfo=None)
    if end_of_day and _is_date_only(value):
        parsed += timedelta(days=1)
    return parsed


def parse_day(value: Any, field: str) -> date:
    return parse_datetime(value, field).date()


def parse_period(payload: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """``startDate``/``endDate`` as a half-open window; both are required and the window must be 1 s to a year."""
    start = parse_moment(payload.get("startDate"), "startDate")
    end = parse_moment(payload.get("endDate"), "endDate", end_of_day=True)
    check_period(start, end)
    return start, end


def check_period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise InvalidValue("'endDate' must be after 'startDate'.", field="endDate")
    if end - start > timedelta(days=MAX_PERIOD_DAYS):
        raise InvalidValue(f"The period is longer than {MAX_PERIOD_DAYS} days; ask for a shorter one.",
                           field="endDate")


def parse_number(value: Any, field: str, *, low: float, high: float, low_open: bool = False) -> float:
    """A finite JSON number in [low, high] (or (low, high]); booleans are not numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"'{field}' must be a number.", field=field)
    number = float(value)
    if number < low or number > high or (low_open and number == low):
        bracket = "(" if low_open else "["
        raise InvalidValue(f"'{field}' must be in {bracket}{low:g}, {high:g}]; got {number:g}.", field=field)
    return number


def parse_int(value: Any, field: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InvalidInput(f"'{field}' must be an integer.", field=field)
    if not low <= value <= high:
        raise InvalidValue(f"'{field}' must be between {low} and {high}; got {value}.", field=field)
    return int(value)


def parse_bool(payload: Mapping[str, Any], key: str, default: bool, *, path: str = "") -> bool:
    value = payload.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise InvalidInput(f"'{path}{key}' must be true or false.", field=f"{path}{key}")
    return value


def parse_lookback(payload: Mapping[str, Any], default: int) -> int:
    value = payload.get("lookbackDays")
    if value is None:
        return default
    return parse_int(value, "lookbackDays", low=1, high=MAX_PERIOD_DAYS)


def optional_object(payload: Mapping[str, Any], key: str, known: Iterable[str]) -> Mapping[str, Any]:
    """A nested options object (absent → empty); unknown keys are rejected so typos do not pass silently."""
    value = payload.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"'{key}' must be a JSON object.", field=key)
    allowed = set(known)
    for name in value:
        if name not in allowed:
            raise InvalidInput(f"'{key}.{name}' is not a known option; use one of {', '.join(sorted(allowed))}.",
                               field=f"{key}.{name}")
    return value


def parse_request_events(payload: Mapping[str, Any], max_events: int) -> tuple[EventInput, ...]:
    """The ``events`` list (categories optional, empty allowed), each with a stable id.

    Events without ``eventId`` get ``event-<index>`` (suffixed if the caller already uses that id), so results can
    point at them and the ids survive when the caller replaces categories with ``dataclasses.replace``.
    """
    events = parse_events(payload.get("events"), max_count=max_events, allow_category=True, allow_empty=True)
    taken = {e.event_id for e in events if e.event_id is not None}
    out: list[EventInput] = []
    for index, event in enumerate(events):
        if event.event_id is None:
            candidate, suffix = f"event-{index}", 1
            while candidate in taken:
                suffix += 1
                candidate = f"event-{index}-{suffix}"
            taken.add(candidate)
            event = dataclasses.replace(event, event_id=candidate)
        out.append(event)
    return tuple(out)


def window_ending_at_latest(events: Iterable[EventInput], lookback_days: int) -> tuple[date, date] | None:
    """The ``lookback_days`` calendar days ending on the day of the latest event start (None without events).

    Anchoring on the data rather than on today keeps the analyses deterministic for the same input.
    """
    starts = [e.start for e in events]
    if not starts:
        return None
    last = max(starts).date()
    return last - timedelta(days=lookback_days - 1), last


# ---------------------------------------------------------------- the fields every analysis request shares
# Each request is a pydantic model (``BalanceRequestBody``, ...) whose fields run the checks above, in declaration
# order: the model is the parser, the source of the error details and the OpenAPI schema. A null optional field
# counts as absent, so the schemas allow null there.
def events_checked(value: Any, info: ValidationInfo) -> tuple[EventInput, ...]:
    max_events = (info.context or {}).get("max_events", MAX_EVENTS)
    return domain_check(lambda v: parse_request_events({"events": v}, max_events))(value)


UserIdField = Annotated[str, BeforeValidator(domain_check(lambda v: parse_user_id({"userId": v}))), WithJsonSchema(
    {"anyOf": [{"type": "string", "pattern": "\\S", "maxLength": MAX_ID_LENGTH}, {"type": "integer"}],
     "description": "1 to 200 characters"})]
EventsField = Annotated[Any, PlainValidator(events_checked, json_schema_input_type=list[CalendarEvent]), Field(
    description="Events without a category are classified by the production model first",
    json_schema_extra={"maxItems": MAX_EVENTS})]
DATE_OR_DATETIME: dict[str, Any] = {"type": "string", "examples": ["2024-05-06", "2024-05-06T09:00:00"],
                                    "description": "ISO 8601 date or date-time; a bare endDate includes that whole day"}


def required() -> Any:
    """A required field whose absence gets its own check's message (the schema lists it in ``required``)."""
    return Field(default=None, validate_default=True)


LOOKBACK_SCHEMA = WithJsonSchema({"type": ["integer", "null"], "minimum": 1, "maximum": MAX_PERIOD_DAYS})


def parse_request_model(model: type[BaseModel], payload: Any, max_events: int) -> Any:
    """``payload`` checked by ``model`` (fields in order); InvalidInput/InvalidValue name the field."""
    body = require_body(payload)
    try:
        return model.model_validate(body, context={"max_events": max_events})
    except ValidationError as err:
        raise input_error(err, order=tuple(model.model_fields)) from None

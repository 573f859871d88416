"""Event classification endpoints: validate, hand to the inference queue, answer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from api.http import dispatch, dispatch_single_classification, json_body, settings
from geulpi_tasks.errors import InvalidInput
from geulpi_tasks.schemas import classify_options, event_to_wire, events_to_wire, parse_event, parse_events
from workers.task_names import CLASSIFY_EVENTS

bp = Blueprint("classify", __name__)
SINGLE_CLASSIFICATION_PATHS = ("/v2/classify-event", "/classify-event")


@bp.post(SINGLE_CLASSIFICATION_PATHS[0])
@bp.post(SINGLE_CLASSIFICATION_PATHS[1])
def classify_event() -> Any:
    event = parse_event(json_body())
    return dispatch_single_classification(event_to_wire(event), _options(), user=event.user_id)


@bp.post("/v2/classify-events")
def classify_events() -> Any:
    body = json_body()
    raw = body.get("events") if isinstance(body, dict) else body
    events = parse_events(raw, max_count=settings().max_batch_size)
    return dispatch(CLASSIFY_EVENTS, _args(events_to_wire(events)), users=[e.user_id for e in events])


def _args(wire: Any) -> list[Any]:
    """The task's arguments: the events, then the options only when one is asked for (``?explain=true``)."""
    options = _options()
    return [wire] if options is None else [wire, options]


def _options() -> dict[str, Any] | None:
    raw = request.args.get("explain")
    flag = (raw or "").strip().lower()
    if raw is not None and flag not in {"true", "false", "1", "0", "yes", "no"}:
        raise InvalidInput("'explain' must be true or false.", field="explain")
    return classify_options(explain=flag in {"true", "1", "yes"})

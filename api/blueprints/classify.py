"""Event classification endpoints: validate, hand to the inference queue, answer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.http import dispatch, json_body, settings
from geulpi_tasks.schemas import event_to_wire, events_to_wire, parse_event, parse_events
from workers.task_names import CLASSIFY_EVENT, CLASSIFY_EVENTS

bp = Blueprint("classify", __name__)


@bp.post("/v2/classify-event")
@bp.post("/classify-event")
def classify_event() -> Any:
    event = parse_event(json_body())
    return dispatch(CLASSIFY_EVENT, [event_to_wire(event)], users=[event.user_id])


@bp.post("/v2/classify-events")
def classify_events() -> Any:
    body = json_body()
    raw = body.get("events") if isinstance(body, dict) else body
    events = parse_events(raw, max_count=settings().max_batch_size)
    return dispatch(CLASSIFY_EVENTS, [events_to_wire(events)], users=[e.user_id for e in events])

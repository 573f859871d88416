"""Event classification endpoints: validate, hand to the inference queue, answer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.http import accepted, gateway, json_body, settings, wants_async
from geulpi_tasks.schemas import event_to_wire, events_to_wire, parse_event, parse_events
from workers.task_names import CLASSIFY_EVENT, CLASSIFY_EVENTS

bp = Blueprint("classify", __name__)


@bp.post("/v2/classify-event")
@bp.post("/classify-event")
def classify_event() -> Any:
    event = parse_event(json_body())
    args = [event_to_wire(event)]
    if wants_async():
        return accepted(gateway().submit(CLASSIFY_EVENT, args))
    return gateway().run(CLASSIFY_EVENT, args, timeout=settings().sync_timeout_s)


@bp.post("/v2/classify-events")
def classify_events() -> Any:
    body = json_body()
    raw = body.get("events") if isinstance(body, dict) else body
    events = parse_events(raw, max_count=settings().max_batch_size)
    args = [events_to_wire(events)]
    if wants_async():
        return accepted(gateway().submit(CLASSIFY_EVENTS, args))
    return gateway().run(CLASSIFY_EVENTS, args, timeout=settings().sync_timeout_s)

"""Event classification endpoints: validate, hand to the inference queue, answer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from api.http import dispatch, dispatch_single_classification, json_body, settings
from api.operations import ACCEPTED, Answer, operation
from api.queries import ClassifyQuery
from geulpi_tasks.schemas import (
    Classification,
    ClassificationBatch,
    Event,
    EventBatch,
    classify_options,
    event_to_wire,
    events_to_wire,
    parse_event,
    parse_events,
)
from workers.task_names import CLASSIFY_EVENTS

bp = Blueprint("classify", __name__)
SINGLE_CLASSIFICATION_PATHS = ("/v2/classify-event", "/classify-event")

_ERRORS = (413, 422, 503, 504)


@bp.post(SINGLE_CLASSIFICATION_PATHS[0])
@bp.post(SINGLE_CLASSIFICATION_PATHS[1])
@operation("classifyEvent", "Classify one calendar event on the inference queue", body=Event, query=ClassifyQuery,
           answers={200: Answer("Classification", Classification), 202: ACCEPTED}, errors=_ERRORS,
           also_at={"/classify-event": ("classifyEventV1", "Same as /v2/classify-event (the original path)")})
def classify_event(query: ClassifyQuery) -> Any:
    event = parse_event(json_body())
    return dispatch_single_classification(event_to_wire(event), classify_options(explain=query.explain), query,
                                          user=event.user_id)


@bp.post("/v2/classify-events")
@operation("classifyEvents", "Classify up to 1000 events in one vectorised task; results keep input order",
           body=EventBatch, query=ClassifyQuery, errors=_ERRORS,
           answers={200: Answer("Classifications in input order", ClassificationBatch), 202: ACCEPTED})
def classify_events(query: ClassifyQuery) -> Any:
    body = json_body()
    raw = body.get("events") if isinstance(body, dict) else body
    events = parse_events(raw, max_count=settings().max_batch_size)
    return dispatch(CLASSIFY_EVENTS, _args(events_to_wire(events), query), query, users=[e.user_id for e in events])


def _args(wire: Any, query: ClassifyQuery) -> list[Any]:
    """The task's arguments: the events, then the options only when one is asked for (``?explain=true``)."""
    options = classify_options(explain=query.explain)
    return [wire] if options is None else [wire, options]

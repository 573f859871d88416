"""Inference tasks: parse JSON arguments, call the domain, return JSON. Nothing else lives here."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import signals

from geulpi_tasks.errors import GeulpiError, InvalidInput, error_to_wire
from geulpi_tasks.schemas import EventInput, explain_asked, parse_event, parse_events
from workers import process_state
from workers.celery_app import app, settings_of
from workers.domain_errors import domain_errors
from workers.private_results import PrivateResultRequest
from workers.task_events import SampledEventsRequest
from workers.task_names import CLASSIFY_COALESCED, CLASSIFY_EVENT, CLASSIFY_EVENTS, INFERENCE_PING

log = logging.getLogger(__name__)


class SampledPrivateRequest(PrivateResultRequest, SampledEventsRequest):
    """Events for a sampled share only, and without the result: the redaction runs first, then the sampling."""


@app.task(name=INFERENCE_PING)
def ping() -> str:
    return "pong"


# Frequent and sub-millisecond: task events for a sampled share only (workers/task_events.py), and never the
# result itself (workers/private_results.py).
@app.task(name=CLASSIFY_EVENT, bind=True, send_events=False, Request=SampledPrivateRequest)
@domain_errors
def classify_event(self: Any, event: dict[str, Any], options: dict[str, Any] | None = None) -> dict[str, Any]:
    parsed = parse_event(event)
    result = process_state.routed_classifier(settings_of(app)).classify_one(parsed, explain=explain_asked(options))
    # The caller's requestId, else this task's id: either names the event in POST /feedback.
    result["requestId"] = parsed.request_id or self.request.id
    return result


# Concurrent single classifications one API process sent as one message (api/coalescer.py): each event is answered
# exactly as classify_event would answer it alone (its own requestId, sticky variant, exposure and latency), in
# order; an event that fails gets {"error": {code, message, details, family}} in its place and costs no other.
@app.task(name=CLASSIFY_COALESCED, bind=True, send_events=False, Request=SampledPrivateRequest)
@domain_errors
def classify_coalesced(self: Any, events: list[dict[str, Any]], request_ids: list[str]) -> dict[str, Any]:
    if not isinstance(events, list) or not isinstance(request_ids, list) or len(events) != len(request_ids):
        raise InvalidInput("A coalesced classification needs as many request ids as events.", field="events")
    settings = settings_of(app)
    results: list[dict[str, Any]] = [{} for _ in events]
    parsed: list[EventInput] = []
    places: list[int] = []
    for i, event in enumerate(events):
        try:
            parsed.append(parse_event(event))
            places.append(i)
        except GeulpiError as err:
            results[i] = {"error": error_to_wire(err)}
    routed = process_state.routed_classifier(settings)
    answers = routed.classify_many(parsed) if parsed else []
    for i, one, answer in zip(places, parsed, answers):
        if isinstance(answer, Exception):
            results[i] = {"error": error_to_wire(answer) if isinstance(answer, GeulpiError) else _internal(answer)}
        else:
            answer["requestId"] = one.request_id or str(request_ids[i])
            results[i] = answer
    served = sum(1 for r in results if "error" not in r)
    version = next((r["modelVersion"] for r in results if "error" not in r), None)
    return {"results": results, "count": served, "modelName": settings.model_name, "modelVersion": version}


def _internal(err: Exception) -> dict[str, Any]:
    """An unexpected failure of one coalesced event (already logged with its traceback): a 500 for its caller."""
    return {"code": "internal_error", "message": "An unexpected error occurred; it has been logged.",
            "details": {}, "family": "error"}


@app.task(name=CLASSIFY_EVENTS, bind=True, Request=PrivateResultRequest)
@domain_errors
def classify_events(self: Any, events: list[dict[str, Any]], options: dict[str, Any] | None = None
                    ) -> dict[str, Any]:
    settings = settings_of(app)
    parsed = parse_events(events, max_count=settings.max_batch_size)
    started = time.perf_counter()
    results, model = process_state.routed_classifier(settings).classify_batch(parsed, explain=explain_asked(options))
    latency = round((time.perf_counter() - started) * 1000.0, 3)
    for i, (event, result) in enumerate(zip(parsed, results)):
        result["requestId"] = event.request_id or f"{self.request.id}:{i}"
    return {"results": results, "count": len(results), "modelName": model.name, "modelVersion": model.version,
            "latencyMs": latency}


def _load_model_in_this_process(**_: Any) -> None:
    if process_state.role != process_state.ProcessRole.INFERENCE:
        return
    provider = process_state.model_provider(settings_of(app))
    try:
        provider.refresh()
    except GeulpiError as err:  # no model yet or registry down: serve 503s and keep polling
        log.warning("inference start-up without a model: %s", err.message)
    provider.start_polling()


def _load_model_in_thread_pool(sender: Any = None, **_: Any) -> None:
    """A threads pool has no worker_process_init: the worker's own process serves, loaded once it is ready."""
    pool = getattr(sender, "pool", None)
    if pool is not None and type(pool).__module__ == "celery.concurrency.thread":
        _load_model_in_this_process()


signals.worker_process_init.connect(_load_model_in_this_process, weak=False)
signals.worker_ready.connect(_load_model_in_thread_pool, weak=False)

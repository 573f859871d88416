"""Traces and JSON logs around Celery: the trace context travels in each task message's headers.

- Publishing (API and workers): a PRODUCER span per published task, its context injected into the message headers
  with the publish time. The instrumentor's own publish hooks find the task in the local registry only, so a task
  sent by name (the API never imports the tasks) would leave its span open; ours work for both.
- Running (workers): opentelemetry-instrumentation-celery's span per task run, continuing the publisher's trace;
  before it, a span for the time the message waited in the queue; on it, the model version, A/B variant and batch
  size of a classification; after it, one JSON log line with task id, duration and model version (never event text).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import signals
from celery._state import get_current_task
from opentelemetry import trace
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from geulpi_tasks.observability.logs import add_log_context, configure_logging
from geulpi_tasks.observability.tracing import PUBLISHED_HEADER, TraceExport, configure_tracing, flush_traces, tracer
from workers import process_state
from workers.celery_app import app, settings_of

log = logging.getLogger("geulpi.tasks")

# Publish spans waiting for their after_publish (a publish that raised never gets one: the oldest are ended).
_MAX_OPEN_PUBLISHES = 10_000
_publishing: dict[str, Any] = {}
_publishing_lock = threading.Lock()
_started: dict[str, float] = {}
_instrumented = False
_in_beat = False


def _on_before_publish(sender: Any = None, headers: dict[str, Any] | None = None, routing_key: str | None = None,
                       **_: Any) -> None:
    if headers is None or not headers.get("id"):
        return
    name = str(sender)
    span = tracer().start_span(f"publish {name}", kind=SpanKind.PRODUCER, attributes={
        "messaging.system": "celery", "messaging.operation": "publish", "messaging.message.id": headers["id"],
        "messaging.destination.name": routing_key or "", "celery.task_name": name})
    inject(headers, context=trace.set_span_in_context(span))
    headers[PUBLISHED_HEADER] = time.time_ns()
    with _publishing_lock:
        while len(_publishing) >= _MAX_OPEN_PUBLISHES:
            _publishing.pop(next(iter(_publishing))).end()
        _publishing[str(headers["id"])] = span


def _on_after_publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    with _publishing_lock:
        span = _publishing.pop(str((headers or {}).get("id")), None)
    if span is not None:
        span.end()


def instrument_celery(provider: TracerProvider) -> None:
    """Trace task runs (the instrumentor) and publishes (ours, in place of the instrumentor's); once per process."""
    global _instrumented
    if _instrumented:
        return
    instrumentor = CeleryInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    signals.before_task_publish.disconnect(instrumentor._trace_before_publish)
    signals.after_task_publish.disconnect(instrumentor._trace_after_publish)
    signals.before_task_publish.connect(_on_before_publish, weak=False)
    signals.after_task_publish.connect(_on_after_publish, weak=False)
    _instrumented = True


def _service() -> str:
    if _in_beat:
        return "geulpi-beat"
    return f"geulpi-{process_state.role.value if process_state.role else 'worker'}"


def _task_context() -> dict[str, Any]:
    task = get_current_task()
    if task is None or task.request.id is None:
        return {}
    return {"taskId": task.request.id, "taskName": task.name}


def _setup_worker_logging(loglevel: Any = None, **_: Any) -> None:
    # Connected to setup_logging: Celery then leaves the root logger to us.
    configure_logging(_service(), level=loglevel or logging.INFO)
    add_log_context(_task_context)


def _setup_tracing(**_: Any) -> None:
    settings = settings_of(app)
    provider = configure_tracing(TraceExport(_service(), settings.otel_traces_exporter,
                                             settings.otel_exporter_otlp_endpoint))
    instrument_celery(provider)


def use_in_beat() -> None:
    """Beat's start: its log lines and the traces of the tasks it publishes are named geulpi-beat."""
    global _in_beat
    _in_beat = True
    _setup_tracing()


def _flush(**_: Any) -> None:
    flush_traces()


def _on_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if not task_id or task is None:
        return
    _started[task_id] = time.perf_counter()
    published = getattr(task.request, PUBLISHED_HEADER, None)
    if published is None:
        return
    now = time.time_ns()
    parent = extract(task.request.__dict__)
    span = tracer().start_span(f"queue wait {task.name}", context=parent, kind=SpanKind.CONSUMER,
                               start_time=min(int(published), now),
                               attributes={"messaging.message.id": task_id, "celery.task_name": task.name})
    span.end(end_time=now)


def _result_attributes(result: Any) -> dict[str, Any]:
    """What a classification's result says about how it was served: model version, A/B variant, batch size."""
    if not isinstance(result, dict):
        return {}
    items = result.get("results") if isinstance(result.get("results"), list) else None
    first = items[0] if items and isinstance(items[0], dict) else result
    attributes = {"geulpi.model.name": result.get("modelName"), "geulpi.model.version": result.get("modelVersion"),
                  "geulpi.ab.experiment_id": first.get("experimentId"), "geulpi.ab.variant": first.get("variant"),
                  "geulpi.batch.size": len(items) if items is not None else (1 if "eventType" in result else None)}
    return {k: str(v) if k != "geulpi.batch.size" else v for k, v in attributes.items() if v is not None}


def _on_postrun(task_id: str | None = None, task: Any = None, retval: Any = None, state: str | None = None,
                **_: Any) -> None:
    # Connected before the instrumentor's postrun, so the run span is still the current one here.
    started = _started.pop(task_id or "", None)
    attributes = _result_attributes(retval)
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(attributes)
    fields: dict[str, Any] = {"taskId": task_id, "taskName": getattr(task, "name", None), "state": state,
                              "durationMs": round((time.perf_counter() - started) * 1000.0, 3) if started else None}
    if "geulpi.model.version" in attributes:
        fields["modelVersion"] = attributes["geulpi.model.version"]
    if "geulpi.ab.variant" in attributes:
        fields["variant"] = attributes["geulpi.ab.variant"]
    if "geulpi.batch.size" in attributes:
        fields["batchSize"] = attributes["geulpi.batch.size"]
    log.info("task finished", extra={k: v for k, v in fields.items() if v is not None})


# Any Celery process that imports this module (workers through TASK_MODULES, Beat) logs JSON lines.
signals.setup_logging.connect(_setup_worker_logging, weak=False)
signals.worker_init.connect(_setup_tracing, weak=False)
signals.worker_process_init.connect(_setup_tracing, weak=False)
signals.worker_process_shutdown.connect(_flush, weak=False)
signals.worker_shutdown.connect(_flush, weak=False)
signals.task_prerun.connect(_on_prerun, weak=False)
signals.task_postrun.connect(_on_postrun, weak=False)

"""Celery signal handlers that feed monitoring without touching the tasks themselves.

- every task: runs per task name and final state, and run time (``geulpi_task_*``); its cost — CPU seconds of the
  thread that ran it, wall seconds and events handled, per task name and model version (monitoring/cost.py);
- the classify tasks, on success: ``ml_predictions_total``, model time per event and the prediction log entry
  (feature summary, class, confidence, latency, version);
- the classify tasks, on failure: ``status="error"`` predictions and log entries (a coalesced task's failed events
  too: they are answered with an error while the task itself succeeds).

``task_success`` runs after the result was stored, so callers never wait for this bookkeeping, and its Redis writes
go through the process's side writer (workers/side_writes.py), pipelined with other tasks' writes.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from celery import signals

from geulpi_tasks.monitoring.cost import ProcessCpuMeter
from geulpi_tasks.monitoring.metrics import configure_metrics_dir, instruments
from geulpi_tasks.monitoring.prediction_log import (
    STATUS_ERROR,
    STATUS_SUCCESS,
    PredictionRecord,
    record_predictions,
    summarize_event,
)
from workers.celery_app import app, settings_of
from workers.side_writes import flush_side_writes, side_writer
from workers.task_names import CLASSIFY_COALESCED, CLASSIFY_EVENT, CLASSIFY_EVENTS

log = logging.getLogger(__name__)

_CLASSIFY = (CLASSIFY_EVENT, CLASSIFY_EVENTS, CLASSIFY_COALESCED)
_started: dict[str, tuple[float, float]] = {}  # task id → (wall clock, this thread's CPU clock) at start
_cpu_meter: ProcessCpuMeter | None = None


def _meter() -> ProcessCpuMeter:
    global _cpu_meter
    if _cpu_meter is None:  # per process, created in the process that runs tasks (after a prefork fork)
        _cpu_meter = ProcessCpuMeter()
    return _cpu_meter


def _configure(**_: Any) -> None:
    configure_metrics_dir(settings_of(app).effective_metrics_dir)


def _on_prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        # prerun and postrun run on the thread that runs the task: thread_time is that task's CPU.
        _started[task_id] = (time.perf_counter(), time.thread_time())


def _cost_labels(retval: Any) -> tuple[str, float]:
    """(model version that answered, events handled) of a task's return value."""
    if not isinstance(retval, dict):
        return "none", 1.0
    version = str(retval.get("modelVersion") or "none")
    count = retval.get("count")
    return version, float(count) if isinstance(count, int) and count > 0 else 1.0


def _on_postrun(task_id: str | None = None, task: Any = None, state: str | None = None, retval: Any = None,
                **_: Any) -> None:
    started = _started.pop(task_id or "", None)
    if task is None:
        return
    tools = instruments()
    tools.task_runs.labels(task.name, state or "UNKNOWN").inc()
    if started is not None:
        wall = time.perf_counter() - started[0]
        cpu, idle = _meter().charge(time.thread_time() - started[1])
        tools.task_duration.labels(task.name).observe(wall)
        version, items = _cost_labels(retval)
        tools.task_cpu.labels(task.name, version).inc(cpu)
        if idle:
            tools.idle_cpu.inc(idle)
        tools.task_wall.labels(task.name, version).inc(wall)
        tools.task_items.labels(task.name, version).inc(items)


def _summary(event: Any) -> dict[str, Any] | None:
    try:
        return summarize_event(event)
    except (KeyError, TypeError, ValueError):  # the task validated it; a shape we cannot summarise is skipped
        return None


def _prediction_records(name: str, args: list[Any], result: dict[str, Any]) -> list[PredictionRecord]:
    now = time.time()
    if name == CLASSIFY_COALESCED:
        items = result.get("results") or []
        events = args[0] if args and isinstance(args[0], list) else [{}] * len(items)
        return [PredictionRecord(model_version="unknown", status=STATUS_ERROR) if "error" in item else
                PredictionRecord(model_version=str(item.get("modelVersion", "unknown")), status=STATUS_SUCCESS,
                                 latency_ms=item.get("latencyMs"), predicted_class=item.get("eventType"),
                                 confidence=item.get("confidence"), features=_summary(event), ts=now)
                for event, item in zip(events, items)]
    if name == CLASSIFY_EVENT:
        pairs = [(args[0] if args else {}, result)]
        per_event_ms = result.get("latencyMs")
    else:
        items = result.get("results") or []
        events = args[0] if args and isinstance(args[0], list) else [{}] * len(items)
        pairs = list(zip(events, items))
        per_event_ms = result["latencyMs"] / len(items) if items and result.get("latencyMs") is not None else None
    version = str(result.get("modelVersion", "unknown"))
    return [PredictionRecord(model_version=str(item.get("modelVersion", version)), status=STATUS_SUCCESS,
                              latency_ms=per_event_ms, predicted_class=item.get("eventType"),
                              confidence=item.get("confidence"), features=_summary(event), ts=now)
            for event, item in pairs]


def _on_success(sender: Any = None, result: Any = None, **_: Any) -> None:
    if sender is None or sender.name not in _CLASSIFY or not isinstance(result, dict):
        return
    settings = settings_of(app)
    model_name = str(result.get("modelName") or settings.model_name)
    args = list(sender.request.args or [])
    records = _prediction_records(sender.name, args, result)
    tools = instruments()
    # One increment per (version, status) of the task, by its count (issue 13: a per-event inc() on the
    # multiprocess counter was ~1.5 ms per 1000 events); the histogram keeps one observation per event.
    for (version, status), count in Counter((r.model_version, r.status) for r in records).items():
        tools.predictions.labels(model_name, version, status).inc(count)
    duration = tools.prediction_duration.labels(model_name, "model")
    for record in records:
        if record.latency_ms is not None:
            duration.observe(record.latency_ms / 1000.0)
    if settings.disable_redis:
        return
    side_writer(settings.redis_url).submit("prediction log", lambda client: record_predictions(
        client, settings.key_prefix, model_name, records, max_len=settings.prediction_log_max))


def _on_failure(sender: Any = None, args: Any = None, **_: Any) -> None:
    if sender is None or sender.name not in _CLASSIFY:
        return
    settings = settings_of(app)
    attempted = len(args[0]) if sender.name == CLASSIFY_EVENTS and args and isinstance(args[0], list) else 1
    instruments().predictions.labels(settings.model_name, "unknown", STATUS_ERROR).inc(attempted)
    if settings.disable_redis:
        return
    records = [PredictionRecord(model_version="unknown", status=STATUS_ERROR)] * attempted
    side_writer(settings.redis_url).submit("prediction log (errors)", lambda client: record_predictions(
        client, settings.key_prefix, settings.model_name, records, max_len=settings.prediction_log_max))


signals.worker_init.connect(_configure, weak=False)
signals.worker_process_init.connect(_configure, weak=False)
signals.task_prerun.connect(_on_prerun, weak=False)
signals.task_postrun.connect(_on_postrun, weak=False)
signals.task_success.connect(_on_success, weak=False)
signals.task_failure.connect(_on_failure, weak=False)
# Queued prediction-log and feedback-cache writes are sent before a process exits.
signals.worker_process_shutdown.connect(flush_side_writes, weak=False)
signals.worker_shutdown.connect(flush_side_writes, weak=False)

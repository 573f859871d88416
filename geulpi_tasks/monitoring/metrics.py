"""Prometheus metrics of every Geulpi process, aggregated with prometheus-client's multiprocess mode.

Counters and histograms are written by the process that observes them (inference worker children, API workers,
monitoring worker) into per-process files under one shared directory; the API's scrape merges them. Values that
are state rather than events — queue depth, drift scores, online accuracy — are read from Redis at scrape time by
``StateCollector``, so no stale per-process gauge can linger. Labels are low-cardinality only (no user ids).

Each process calls ``configure_metrics_dir`` at its entry before the first observation.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from geulpi_tasks.errors import REDIS_OUTAGE_ERRORS
from geulpi_tasks.monitoring.accuracy import CONFIDENT, accuracy_by_version, confident_disagreement
from geulpi_tasks.monitoring.drift_scan import all_drift

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# From 0.1 ms (one ONNX prediction takes ~0.4 ms) to 10 s (the sync timeout): resolves model time and round trip.
DURATION_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    5.0, 10.0)
TASK_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, 600.0, 3600.0)
# Kombu's Redis transport keeps a queue's priorities 3, 6 and 9 in sibling lists.
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)


# Containers sharing one metrics volume each number their processes from 1, so a bare pid would make two
# processes write the same file; the host name (a container's id) keeps the file names distinct.
_HOST_TAG = socket.gethostname().replace("_", "-") or "host"
_identifier_installed = False


_identifier: str | None = None


def _forget_identifier() -> None:
    global _identifier
    _identifier = None


# prometheus-client asks for the identifier on every increment and observation (to notice a fork): kept per
# process instead of a getpid() and a format each time (issue 13: a visible part of a 1000-event batch's metrics).
os.register_at_fork(after_in_child=_forget_identifier)


def process_identifier() -> str:
    """This process's part of its metrics file names: distinct across hosts/containers sharing the directory."""
    global _identifier
    if _identifier is None:
        _identifier = f"{_HOST_TAG}-{os.getpid()}"
    return _identifier


def configure_metrics_dir(path: Path, *, wipe: bool = False) -> Path:
    """Put this process in multiprocess mode on ``path`` (created; emptied first when ``wipe``)."""
    path.mkdir(parents=True, exist_ok=True)
    if wipe:
        for stale in path.glob("*.db"):
            stale.unlink()
    # prometheus-client reads the directory from the environment; children inherit it.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    global _identifier_installed
    # Not only when still single-process: prometheus-client switches itself to pid-named files at import when
    # PROMETHEUS_MULTIPROC_DIR is already in the environment (every child and container), which must be replaced too.
    if not _identifier_installed:
        values.ValueClass = values.MultiProcessValue(process_identifier)
        # Close the mmapped files before interpreter teardown rather than leaving them to the garbage collector.
        atexit.register(values.close_all_multiprocess_files)
        _identifier_installed = True
    return path


class Instruments:
    """The metric objects a process observes with. Build once per process, after ``configure_metrics_dir``."""

    def __init__(self) -> None:
        self.predictions = Counter("ml_predictions", "Predictions served, per model version and status.",
                                   ["model_name", "model_version", "status"], registry=None)
        self.prediction_duration = Histogram(
            "ml_prediction_duration_seconds",
            "Prediction time: stage=model inside the worker per event, stage=round_trip HTTP request to answer.",
            ["model_name", "stage"], buckets=DURATION_BUCKETS, registry=None)
        self.task_runs = Counter("geulpi_task_runs", "Celery tasks finished, per task name and final state.",
                                 ["task_name", "state"], registry=None)
        self.task_duration = Histogram("geulpi_task_duration_seconds", "Celery task run time, per task name.",
                                       ["task_name"], buckets=TASK_BUCKETS, registry=None)
        # What a task costs (monitoring/cost.py): CPU of the thread that ran it and wall time, from task start to
        # end (model, result store, signal handlers), per task kind and the model version that answered.
        self.task_cpu = Counter("geulpi_task_cpu_seconds", "CPU seconds of the thread running each task, per task "
                                "name and model version.", ["task_name", "model_version"], registry=None)
        self.task_wall = Counter("geulpi_task_wall_seconds", "Wall seconds from task start to end, per task name "
                                 "and model version.", ["task_name", "model_version"], registry=None)
        self.idle_cpu = Counter("geulpi_worker_idle_cpu_seconds", "Worker CPU seconds during idle pauses (no task "
                                "running): polls and heartbeats, charged to no task.", registry=None)
        self.task_items = Counter("geulpi_task_items", "Events a task handled (predictions for the classify tasks, "
                                  "else 1 per task), per task name and model version.",
                                  ["task_name", "model_version"], registry=None)


_instruments: Instruments | None = None


def instruments() -> Instruments:
    """This process's instruments (created on first use, so after the entry point configured the directory)."""
    global _instruments
    if _instruments is None:
        _instruments = Instruments()
    return _instruments


class StateCollector:
    """Scrape-time gauges from Redis: queue depth per queue, drift scores, online accuracy per version."""

    def __init__(self, redis: Any, *, key_prefix: str, queues: Sequence[str], model_names: Sequence[str],
                 accuracy_window_s: float, queue_depths: Callable[[Sequence[str]], list[float]] | None = None):
        self.redis = redis
        # Non-Redis brokers (RabbitMQ) know their own queue lengths; None reads Celery's Redis lists.
        self.queue_depths = queue_depths
        self.key_prefix = key_prefix
        self.queues = queues
        self.model_names = model_names
        self.accuracy_window_s = accuracy_window_s

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("geulpi_monitoring_redis_up", "1 when the scrape could read Redis state, else 0.")
        try:
            families = self._families()
        except REDIS_OUTAGE_ERRORS as err:
            log.warning("metrics scrape without Redis state: %s", err)
            up.add_metric([], 0.0)
            return [up]
        up.add_metric([], 1.0)
        return [*families, up]

    def _families(self) -> list[Metric]:
        depth = GaugeMetricFamily("geulpi_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"])
        for queue, length in zip(self.queues, self._depths()):
            depth.add_metric([queue], float(length))
        drift = GaugeMetricFamily("ml_drift_score", "Latest drift scan: share of drifted features (feature) and "
                                  "Jensen-Shannon distance of the predicted class mix (prediction).",
                                  labels=["model_name", "drift_type"])
        reports = all_drift(self.redis, self.key_prefix)
        for model_name, report in sorted(reports.items()):
            for drift_type, score in sorted(report["scores"].items()):
                if score is not None and drift_type in ("feature", "prediction"):
                    drift.add_metric([model_name, drift_type], float(score))
        accuracy = GaugeMetricFamily("ml_model_accuracy", "Online accuracy from user feedback over the recent "
                                     "window, per model version.", labels=["model_name", "model_version"])
        since = time.time() - self.accuracy_window_s
        for model_name in sorted(set(self.model_names) | set(reports)):
            for version, tally in sorted(accuracy_by_version(self.redis, self.key_prefix, model_name,
                                                             since=since).items()):
                accuracy.add_metric([model_name, version], tally["accuracy"])
        corrected = GaugeMetricFamily(
            "geulpi_feedback_confident_correction_share",
            f"Share of answers given with confidence >= {CONFIDENT} that users corrected, per answered class, over the "
            "recent window: a sign of drift or of a labelling rule the model missed.",
            labels=["model_name", "category"])
        for model_name in sorted(set(self.model_names) | set(reports)):
            for category, tally in confident_disagreement(self.redis, self.key_prefix, model_name,
                                                          since=since).items():
                corrected.add_metric([model_name, category], tally["share"])
        return [depth, drift, accuracy, corrected]

    def _depths(self) -> list[float]:
        if self.queue_depths is not None:
            return self.queue_depths(self.queues)
        pipe = self.redis.pipeline(transaction=False)
        for queue in self.queues:
            for pri in _PRIORITY_STEPS:
                pipe.llen(queue if pri == 0 else f"{queue}{_PRIORITY_SEP}{pri}")
        lengths = pipe.execute()
        steps = len(_PRIORITY_STEPS)
        return [float(sum(lengths[i * steps:(i + 1) * steps])) for i in range(len(self.queues))]


def broker_queue_depths(connection: Any, queues: Sequence[str]) -> list[float]:
    """Messages ready in each queue, asked of the broker itself (a passive declare; missing queue -> 0).

    A broker that does not answer yields NaN for every queue, so the scrape still serves everything else.
    """
    depths: list[float] = []
    try:
        with connection as conn:
            conn.ensure_connection(max_retries=1)
            for queue in queues:
                channel = conn.channel()
                try:
                    depths.append(float(channel.queue_declare(queue=queue, passive=True).message_count))
                except conn.channel_errors:  # the queue was never declared: nothing waits in it
                    depths.append(0.0)
                finally:
                    try:
                        channel.close()
                    except conn.channel_errors + conn.connection_errors:
                        pass
    except Exception as err:  # noqa: BLE001 - any broker fault must not fail the scrape
        log.warning("queue depth unavailable from the broker: %s", err)
        return [float("nan")] * len(queues)
    return depths


class _StartedFilesCollector(MultiProcessCollector):
    """Merges only files their process has finished creating.

    A process starting during a scrape creates its file empty before sizing it; prometheus-client's reader then
    fails on the 0-byte file (struct.error) and the whole scrape would be a 500.
    """

    def collect(self) -> Iterable[Metric]:
        files = []
        for path in Path(self._path).glob("*.db"):
            try:
                if path.stat().st_size >= 8:
                    files.append(str(path))
            except FileNotFoundError:  # removed between the listing and the stat
                continue
        return self.merge(files, accumulate=True)


def started_files_samples(metrics_dir: Path, names: Iterable[str]) -> Iterable[tuple[str, dict[str, str], float]]:
    """(metric name, labels, value) of the counters ``names`` merged over every process's files (``_total``
    samples only)."""
    wanted = set(names)
    if not metrics_dir.is_dir():
        return []
    registry = CollectorRegistry(auto_describe=False)
    collector = _StartedFilesCollector(registry, path=str(metrics_dir))
    out: list[tuple[str, dict[str, str], float]] = []
    for metric in collector.collect():
        if metric.name in wanted:
            out.extend((metric.name, dict(sample.labels), float(sample.value)) for sample in metric.samples
                       if sample.name == metric.name + "_total")
    return out


def render_metrics(metrics_dir: Path, state: StateCollector | None) -> bytes:
    """The Prometheus text exposition of every process's counters/histograms plus the Redis state gauges."""
    metrics_dir.mkdir(parents=True, exist_ok=True)
    registry = CollectorRegistry(auto_describe=False)
    _StartedFilesCollector(registry, path=str(metrics_dir))
    if state is not None:
        registry.register(state)  # type: ignore[arg-type]
    return generate_latest(registry)

"""What a prediction costs: CPU and wall seconds per task kind and model version, as the workers count them.

Workers add each task's CPU seconds and wall seconds to Prometheus counters (``geulpi_task_cpu_seconds_total``,
``geulpi_task_wall_seconds_total``, ``geulpi_task_items_total``; see ``workers/metrics_signals.py``). A task's CPU is
what the worker process spent since the previous task ended (``ProcessCpuMeter``): besides the task's own thread
(model, result write) that holds what serving it cost elsewhere in the process — the consumer loop receiving and
acknowledging its message, the side writer's prediction log — so the counters add up to the process's CPU. After
an idle pause (no task ended for ``IDLE_GAP_S``) the pause's CPU (registry polls, heartbeats) is not charged to the
next task but counted as idle (``geulpi_worker_idle_cpu_seconds_total``); that task is charged its own thread's CPU.
tests/integration/test_cost.py checks the counters against the worker process's CPU measured by psutil.

``cost_summary`` turns the counters into the dashboard's figures: CPU-ms per 1000 predictions, and events per
second per core at the current mix of single and batch calls (predictions / CPU seconds of the classify tasks).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from geulpi_tasks.monitoring.metrics import started_files_samples

CPU_METRIC = "geulpi_task_cpu_seconds"
WALL_METRIC = "geulpi_task_wall_seconds"
ITEMS_METRIC = "geulpi_task_items"
CLASSIFY_PREFIX = "geulpi.inference.classify_"
# A worker with no task ending for this long was idle: that pause's CPU is overhead, not any task's cost.
IDLE_GAP_S = 1.0


class ProcessCpuMeter:
    """Splits the process's CPU between the tasks it runs: each finished task is charged the process CPU since the
    previous one finished (never less than its own thread's CPU); CPU over an idle pause is returned apart.

    Thread-safe; one per process. Clocks are injectable for tests."""

    def __init__(self, *, idle_gap_s: float = IDLE_GAP_S, process_clock: Callable[[], float] = time.process_time,
                 wall_clock: Callable[[], float] = time.monotonic):
        self.idle_gap_s = idle_gap_s
        self._process_clock = process_clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._last_cpu = process_clock()
        self._last_wall = wall_clock()

    def charge(self, own_cpu: float) -> tuple[float, float]:
        """(CPU seconds to charge the task that just ended, idle CPU seconds to count apart)."""
        with self._lock:
            cpu, wall = self._process_clock(), self._wall_clock()
            spent = max(cpu - self._last_cpu, 0.0)
            idle_pause = wall - self._last_wall > self.idle_gap_s
            self._last_cpu, self._last_wall = cpu, wall
        own_cpu = max(own_cpu, 0.0)
        if idle_pause:
            charged = min(own_cpu, spent)
            return charged, spent - charged
        return max(spent, own_cpu), 0.0


def read_cost_counters(metrics_dir: Path) -> dict[tuple[str, str], dict[str, float]]:
    """(task name, model version) → {cpu_seconds, wall_seconds, items}, merged over every process's metric files."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    fields = {CPU_METRIC: "cpu_seconds", WALL_METRIC: "wall_seconds", ITEMS_METRIC: "items"}
    for name, labels, value in started_files_samples(metrics_dir, fields):
        key = (labels.get("task_name", "unknown"), labels.get("model_version", "none"))
        entry = out.setdefault(key, {"cpu_seconds": 0.0, "wall_seconds": 0.0, "items": 0.0})
        entry[fields[name]] += value
    return out


def _rate(numerator: float, denominator: float, scale: float = 1.0) -> float | None:
    return round(scale * numerator / denominator, 4) if denominator > 0 else None


def cost_summary(counters: dict[tuple[str, str], dict[str, float]], *, model_versions: Iterable[str] | None = None
                 ) -> dict[str, Any]:
    """Per task kind and version: items, CPU-ms and wall-ms per item; for the classify tasks together (optionally
    only ``model_versions``): CPU-ms per 1000 predictions and events/s per core. Counts are since the metrics
    directory was last emptied (system start)."""
    wanted = None if model_versions is None else set(model_versions)
    per_task = []
    cpu = items = 0.0
    per_version: dict[str, dict[str, float]] = {}
    for (task, version), entry in sorted(counters.items()):
        per_task.append({"task_name": task, "model_version": version, "items": int(entry["items"]),
                         "cpu_seconds": round(entry["cpu_seconds"], 6),
                         "cpu_ms_per_item": _rate(entry["cpu_seconds"], entry["items"], 1000.0),
                         "wall_ms_per_item": _rate(entry["wall_seconds"], entry["items"], 1000.0)})
        if task.startswith(CLASSIFY_PREFIX) and (wanted is None or version in wanted):
            cpu += entry["cpu_seconds"]
            items += entry["items"]
            tally = per_version.setdefault(version, {"cpu_seconds": 0.0, "items": 0.0})
            tally["cpu_seconds"] += entry["cpu_seconds"]
            tally["items"] += entry["items"]
    return {
        "predictions": int(items), "cpu_seconds": round(cpu, 6),
        "cpu_ms_per_1000_predictions": _rate(cpu, items, 1_000_000.0),
        "events_per_second_per_core": _rate(items, cpu),
        "per_version": {v: {"predictions": int(t["items"]),
                            "cpu_ms_per_1000_predictions": _rate(t["cpu_seconds"], t["items"], 1_000_000.0),
                            "events_per_second_per_core": _rate(t["items"], t["cpu_seconds"])}
                        for v, t in sorted(per_version.items())},
        "per_task": per_task,
        "since": "metrics directory start (system start)",
    }

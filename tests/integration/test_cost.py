"""What a prediction costs, counted by a real inference worker: over a known number of calls the CPU counters grow
by exactly the calls' predictions and by a plausible amount of CPU — within a factor of 2 of what the worker
process itself spent (psutil) — and the dashboard turns them into CPU-ms per 1000 predictions and events/s per
core."""

from __future__ import annotations

import time

import psutil
import pytest

from geulpi_tasks.monitoring.cost import ProcessCpuMeter, cost_summary, read_cost_counters
from workers.task_names import CLASSIFY_EVENT, CLASSIFY_EVENTS

pytestmark = pytest.mark.usefixtures("inference_worker")

SINGLE_CALLS = 150
BATCHES = 4
BATCH_SIZE = 250


def _event(i: int) -> dict:
    titles = ["Team standup", "요가 수업", "Dinner with Sam", "Dentist", "Spanish class", "Pay rent"]
    return {"title": f"{titles[i % len(titles)]} {i}", "startTime": "2024-01-22T09:00:00",
            "endTime": "2024-01-22T10:00:00"}


def _classify_counters(settings, version: str) -> dict[str, float]:
    counters = read_cost_counters(settings.effective_metrics_dir)
    out = {"cpu": 0.0, "items": 0.0, "wall": 0.0}
    for name in (CLASSIFY_EVENT, CLASSIFY_EVENTS):
        entry = counters.get((name, version), {})
        out["cpu"] += entry.get("cpu_seconds", 0.0)
        out["wall"] += entry.get("wall_seconds", 0.0)
        out["items"] += entry.get("items", 0.0)
    return out


def _wait_items(settings, version: str, target: float) -> None:
    """The counters are written after each answer was sent: wait for the last ones to land."""
    deadline = time.monotonic() + 20
    while _classify_counters(settings, version)["items"] < target:
        assert time.monotonic() < deadline, "the cost counters never counted every prediction"
        time.sleep(0.05)


def _process_cpu(pid: int) -> float:
    proc = psutil.Process(pid)
    procs = [proc, *proc.children(recursive=True)]
    return sum(p.cpu_times().user + p.cpu_times().system for p in procs)


def test_cost_counters_grow_by_the_calls_and_a_plausible_cpu(client, base_settings, production_model,
                                                             inference_worker):
    start = _classify_counters(base_settings, production_model)
    client.post("/v2/classify-event", json=_event(0))  # warm: the first call may load things
    _wait_items(base_settings, production_model, start["items"] + 1)
    before = _classify_counters(base_settings, production_model)
    cpu_before = _process_cpu(inference_worker.proc.pid)
    for i in range(SINGLE_CALLS):
        assert client.post("/v2/classify-event", json=_event(i)).status_code == 200
    for b in range(BATCHES):
        events = [_event(b * BATCH_SIZE + i) for i in range(BATCH_SIZE)]
        assert client.post("/v2/classify-events", json={"events": events}).status_code == 200
    expected = SINGLE_CALLS + BATCHES * BATCH_SIZE
    _wait_items(base_settings, production_model, before["items"] + expected)
    after = _classify_counters(base_settings, production_model)
    cpu_after = _process_cpu(inference_worker.proc.pid)
    assert after["items"] - before["items"] == expected
    counted = after["cpu"] - before["cpu"]
    measured = cpu_after - cpu_before
    print(f"cost: counted {counted:.3f} s CPU, worker process spent {measured:.3f} s for {expected} predictions")
    assert measured / 2 <= counted <= measured * 2
    assert after["wall"] - before["wall"] >= counted * 0.5  # a task's wall time is never far below its CPU

    dashboard = client.get("/monitoring/dashboard/event_classifier").json["cost"]
    version = dashboard["per_version"][production_model]
    assert version["predictions"] >= expected
    assert version["cpu_ms_per_1000_predictions"] > 0 and version["events_per_second_per_core"] > 0
    assert version["cpu_ms_per_1000_predictions"] == pytest.approx(
        1e6 / version["events_per_second_per_core"], rel=1e-3)


def test_cost_summary_divides_cpu_by_predictions():
    counters = {(CLASSIFY_EVENT, "3"): {"cpu_seconds": 0.5, "wall_seconds": 1.0, "items": 1000.0},
                (CLASSIFY_EVENTS, "3"): {"cpu_seconds": 0.5, "wall_seconds": 0.6, "items": 4000.0},
                ("geulpi.inference.analyze_balance", "none"): {"cpu_seconds": 2.0, "wall_seconds": 2.0,
                                                               "items": 10.0}}
    summary = cost_summary(counters)
    assert summary["predictions"] == 5000 and summary["cpu_ms_per_1000_predictions"] == 200.0
    assert summary["events_per_second_per_core"] == 5000.0
    balance = next(t for t in summary["per_task"] if t["task_name"].endswith("analyze_balance"))
    assert balance["cpu_ms_per_item"] == 200.0


def test_cpu_meter_charges_the_process_cpu_between_tasks_and_keeps_idle_pauses_apart():
    clock = {"cpu": 0.0, "wall": 0.0}
    meter = ProcessCpuMeter(idle_gap_s=1.0, process_clock=lambda: clock["cpu"], wall_clock=lambda: clock["wall"])
    clock.update(cpu=0.004, wall=0.01)
    assert meter.charge(0.001) == (0.004, 0.0)  # busy: the consumer's and side writer's share goes with the task
    clock.update(cpu=0.006, wall=0.02)
    assert meter.charge(0.003) == (0.003, 0.0)  # never less than the task's own thread
    clock.update(cpu=0.506, wall=60.0)
    charged, idle = meter.charge(0.002)  # after a minute idle: the polls' CPU is idle, not this task's
    assert charged == 0.002 and idle == pytest.approx(0.498)

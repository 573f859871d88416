"""Flower, started with the launcher's own command and basic auth, reads a live system: the inference, training and
monitoring workers with their queues, classification and training tasks with readable JSON arguments, and a
training job's progress (phase, trial i of n, best value) while it runs."""

from __future__ import annotations

import base64
import json
import re
import shlex
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from geulpi_tasks.settings import PROJECT_ROOT
from geulpi_tasks.tools.redis_server import free_port
from tests.conftest import WorkerProcess, child_env
from workers.launcher import process_env, process_table
from workers.task_names import CLASSIFY_EVENT, CLASSIFY_EVENTS, TRAIN_MODEL

SEARCH_TRIALS = 3


class FlowerProcess:
    """``celery -A workers.celery_cli flower`` exactly as scripts/start runs it, on a free port."""

    def __init__(self, settings: Any, log_path: Any):
        self.base = f"http://127.0.0.1:{settings.flower_port}"
        user, _, password = settings.flower_basic_auth.partition(":")
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self._log = open(log_path, "wb")
        self.log_path = log_path
        command = shlex.split(process_table(settings, sys.executable)["flower"])
        self.proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=process_env("flower", child_env(settings)),
                                     stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def get(self, path: str, *, auth: bool = True) -> tuple[int, Any]:
        request = urllib.request.Request(self.base + path, headers={"Authorization": self.auth} if auth else {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, None

    def wait_until(self, what: str, check: Any, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"flower exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                value = check()
            except (urllib.error.URLError, ConnectionError):
                value = None
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"flower: {what} not seen in {timeout} s:\n{self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture()
def flower_stack(base_settings, celery_client, inference_worker, tmp_path):  # type: ignore[no-untyped-def]
    """Flower plus a training and a monitoring worker; the session's inference worker is already running.

    The training job registers a priority_classifier version without promotion, so what is served does not change
    (a private registry would cost ~10 s of MLflow schema creation).
    """
    settings = base_settings.replace(flower_port=free_port(), flower_basic_auth=f"ops:{uuid.uuid4().hex}")
    flower = FlowerProcess(settings, tmp_path / "flower.log")
    workers = {"training": WorkerProcess("workers.training", base_settings.replace(trial_heartbeat_s=1.0),
                                         tmp_path / "training.log"),
               "monitoring": WorkerProcess("workers.monitoring", base_settings, tmp_path / "monitoring.log")}
    try:
        for worker in workers.values():
            worker.wait_ready(celery_client)
        yield flower, {"inference": inference_worker, **workers}
    finally:
        # Stopped together: each waits for its warm shutdown.
        with ThreadPoolExecutor() as pool:
            list(pool.map(lambda stoppable: stoppable.stop(), [*workers.values(), flower]))


def _task_info(flower: FlowerProcess, task_id: str) -> dict[str, Any] | None:
    status, body = flower.get(f"/api/task/info/{task_id}")
    return body if status == 200 else None


def _watch_task(flower: FlowerProcess, task_id: str, timeout: float) -> tuple[threading.Thread, list[dict[str, Any]]]:
    """Poll Flower's view of one task in the background until it finishes; every snapshot is kept."""
    snapshots: list[dict[str, Any]] = []

    def poll() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                info = _task_info(flower, task_id)
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # asked again; the last word counts
                info = None
            if info:
                snapshots.append(info)
                if info["state"] in {"SUCCESS", "FAILURE"}:
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    return thread, snapshots


def test_flower_shows_workers_queues_tasks_and_training_progress(flower_stack, client):
    flower, workers = flower_stack
    names = {queue: worker.name for queue, worker in workers.items()}

    # Basic auth guards the API; with the credentials it answers.
    flower.wait_until("API up", lambda: flower.get("/api/workers?status=true")[0] == 200, timeout=20)
    assert flower.get("/api/workers", auth=False)[0] == 401
    # Heartbeat events from all three workers: Flower's event stream is live before any task is sent.
    flower.wait_until("worker heartbeats", lambda: all(
        (flower.get("/api/workers?status=true")[1] or {}).get(name) for name in names.values()), timeout=15)

    # A small training job, watched in Flower while it runs; the other checks happen meanwhile.
    response = client.post("/models/train", json={
        "model_type": "priority_classifier", "optimize": True, "auto_promote": False,
        "n_optimization_trials": SEARCH_TRIALS, "n_samples": 300, "description": "flower progress test"})
    assert response.status_code == 202, response.json
    job_id = response.json["jobId"]
    watcher, snapshots = _watch_task(flower, job_id, timeout=50)

    # Queues come from an inspect broadcast (1 s timeout in Flower): asked again if a busy worker missed it.
    listing = flower.wait_until("workers' queues", lambda: (
        (body := flower.get("/api/workers?refresh=true")[1] or {}) and all(
            body.get(name, {}).get("active_queues") for name in names.values()) and body), timeout=15)
    for queue, name in names.items():
        assert [q["name"] for q in listing[name]["active_queues"]] == [queue], (name, listing[name])

    # Classification tasks: readable names and JSON arguments.
    single = client.post("/v2/classify-event", json={"title": "Team standup meeting", "startTime":
                                                     "2024-01-22T09:00:00", "endTime": "2024-01-22T09:30:00"})
    assert single.status_code == 200, single.json
    events = [{"title": f"주간 회의 {i}", "eventId": f"f{i}", "startTime": "2024-01-23T10:00:00",
               "endTime": "2024-01-23T11:00:00"} for i in range(40)]
    batch = client.post("/v2/classify-events", json={"events": events})
    assert batch.status_code == 200, batch.json

    classified = flower.wait_until("classify task", lambda: (
        (info := _task_info(flower, single.json["requestId"])) and info["state"] == "SUCCESS" and info), timeout=10)
    assert classified["name"] == CLASSIFY_EVENT and classified["worker"] == names["inference"]
    # Event text shows as its length and a keyed hash; the result as its size only.
    shown = json.loads(classified["args"])[0]
    assert re.fullmatch(r"<20 chars #[0-9a-f]{10}>", shown["title"]), shown
    assert shown["startTime"] == "2024-01-22T09:00:00"
    assert "standup" not in json.dumps(classified).lower() and "meeting" not in json.dumps(classified).lower()
    assert json.loads(classified["result"])["redacted"] is True
    assert json.loads(classified["kwargs"]) == {}
    listed = flower.wait_until("batch task listed", lambda: {
        task_id: task for task_id, task in (flower.get(f"/api/tasks?taskname={CLASSIFY_EVENTS}")[1] or {}).items()
        if task["state"] == "SUCCESS"}, timeout=10)
    (batch_task,) = listed.values()
    batch_args = json.loads(batch_task["args"])  # 40 events shown as the first 10 and a count, not a wall of text
    assert len(batch_task["args"]) <= 1024 and batch_args[0][-1] == "... 40 items in all"
    assert batch_args[0][0]["title"].startswith("<7 chars #") and "회의" not in batch_task["args"]
    # The same text gets the same token: two tasks carrying one title can still be recognised.
    repeat = client.post("/v2/classify-event?async=true", json={
        "title": "Team standup meeting", "startTime": "2024-01-23T09:00:00", "endTime": "2024-01-23T09:30:00"})
    # Flower lists a task from its first event; the arguments come with task-sent or task-received, which can reach
    # it after task-started on a busy machine: wait for the finished task, as for the first one.
    again = flower.wait_until("repeat task", lambda: (
        (info := _task_info(flower, repeat.json["taskId"])) and info["state"] == "SUCCESS" and info.get("args")
        and info), timeout=10)
    assert json.loads(again["args"])[0]["title"] == shown["title"]

    watcher.join(timeout=55)
    assert snapshots, "Flower never listed the training job"
    final = snapshots[-1]
    assert final["state"] == "SUCCESS", final
    assert final["name"] == TRAIN_MODEL and final["worker"] == names["training"]
    assert json.loads(final["args"])[0]["n_optimization_trials"] == SEARCH_TRIALS
    assert "version" in final["result"]  # Flower's result is now the job's own result
    assert client.get(f"/tasks/{job_id}").json["state"] == "SUCCESS"
    status, training_tasks = flower.get(f"/api/tasks?taskname={TRAIN_MODEL}")
    assert status == 200 and training_tasks[job_id]["state"] == "SUCCESS"
    assert json.loads(training_tasks[job_id]["args"])[0]["model_type"] == "priority_classifier"

    # While it ran, Flower showed state PROGRESS with phase, trial i of n and the best value so far.
    progress = [json.loads(s["result"]) for s in snapshots if s["state"] == "PROGRESS"]
    assert progress, sorted({s["state"] for s in snapshots})
    assert all({"phase", "trial", "n_trials", "best_value"} <= set(p) for p in progress), progress[:3]
    search = [p for p in progress if p["phase"] == "search"]
    assert search, [p["phase"] for p in progress]
    assert all(p["n_trials"] == SEARCH_TRIALS and 0 <= p["trial"] <= SEARCH_TRIALS for p in search), search
    assert any(isinstance(p["best_value"], float) for p in search), search

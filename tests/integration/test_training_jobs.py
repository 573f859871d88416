"""Training jobs through the API and real training workers: progress while running, a registered (and gated)
version with held-out metrics, 4xx for bad requests, and a worker killed mid-training whose redelivered job
registers exactly one version."""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from geulpi_tasks.registry.store import client_for
from tests.conftest import WorkerProcess
from workers.task_names import NIGHTLY_RETRAIN, TRAIN_MODEL

JOB_TAG = "geulpi.job_id"


def _versions_of_job(tracking_uri: str, name: str, job_id: str) -> list:
    client = client_for(tracking_uri)
    return [mv for mv in client.search_model_versions(f"name = '{name}'") if (mv.tags or {}).get(JOB_TAG) == job_id]


def _watch(client, location: str, timeout: float) -> tuple[dict, list[dict]]:
    """Poll /tasks/<id> until done; returns the final body and every progress payload seen."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(location).json
        if body.get("progress"):
            seen.append(body["progress"])
        if body["ready"]:
            return body, seen
        time.sleep(0.1)
    raise AssertionError(f"{location} not finished in {timeout} s; progress seen: {seen[-3:]}")


@pytest.mark.parametrize("body, status, field", [
    ({"model_type": "spam_filter"}, 400, "model_type"),
    ({"model_type": "event_classifier", "n_optimization_trials": 10_000}, 400, "n_optimization_trials"),
    ({"model_type": "event_classifier", "automl": True, "time_budget_minutes": -3}, 400, "time_budget_minutes"),
    ({"model_type": "event_classifier", "parallelism": 99}, 400, "parallelism"),
    ({"model_type": "event_classifier", "n_optimization_trials": 2, "parallelism": 4}, 422, "parallelism"),
    ([1, 2], 400, "body"),
])
def test_bad_training_requests_are_4xx_naming_the_field(client, body, status, field):
    response = client.post("/models/train", json=body)
    assert response.status_code == status, response.json
    assert response.json["error"]["details"]["field"] == field


def test_training_job_shows_progress_registers_version_and_applies_gates(client, base_settings, celery_client,
                                                                         tmp_path_factory):
    # Gates configured for this worker: the small test data set cannot reach the production defaults honestly.
    settings = base_settings.replace(gate_min_accuracy=0.6, gate_min_macro_precision=0.5, gate_min_macro_recall=0.5,
                                     trial_heartbeat_s=1.0)
    worker = WorkerProcess("workers.training", settings, tmp_path_factory.mktemp("logs") / "training-job.log")
    try:
        worker.wait_ready(celery_client)
        response = client.post("/models/train", json={
            "model_type": "priority_classifier", "optimize": True, "auto_promote": True, "n_optimization_trials": 3,
            "n_samples": 1200, "description": "test priority model", "prune_trees": True,
            "families": ["random_forest"]})  # a forest, so tree pruning has trees to drop
        assert response.status_code == 202
        job_id = response.json["jobId"]
        assert response.headers["Location"] == f"/tasks/{job_id}"
        body, seen = _watch(client, response.headers["Location"], timeout=150)
    finally:
        worker.stop()
    assert body["state"] == "SUCCESS", body
    seen = [p for p in seen if "phase" in p]  # STARTED carries {pid, hostname}
    phases = [p["phase"] for p in seen]
    assert "search" in phases, phases
    search_updates = [p for p in seen if p["phase"] == "search"]
    assert all(p["n_trials"] == 3 and 1 <= p["trial"] <= 3 for p in search_updates)
    assert all(isinstance(p["best_value"], float) for p in search_updates)

    result = body["result"]
    metrics = result["metrics"]
    for key in ("accuracy", "macro_f1", "macro_precision", "macro_recall", "log_loss", "ece", "latency_p50_us",
                "sklearn_latency_p50_us", "batch_throughput_eps", "model_size_bytes"):
        assert isinstance(metrics[key], float) and metrics[key] >= 0, key
    assert set(metrics["per_class"]) == {"HIGH", "MEDIUM", "LOW"}
    assert result["compression"]["after"]["trees"] <= result["compression"]["before"]["trees"]
    assert result["search"]["trial_counts"].get("COMPLETE", 0) + result["search"]["trial_counts"].get("PRUNED", 0) == 3

    tracking = base_settings.effective_tracking_uri
    versions = _versions_of_job(tracking, "priority_classifier", job_id)
    assert [str(mv.version) for mv in versions] == [result["version"]]
    run = client_for(tracking).get_run(versions[0].run_id)
    assert run.data.metrics["accuracy"] == pytest.approx(metrics["accuracy"])
    assert run.data.params["feature_schema_version"]
    artifacts = {a.path for a in client_for(tracking).list_artifacts(run.info.run_id)}
    assert {"data_fingerprint.json", "feature_schema.json", "metrics.json"} <= artifacts
    assert versions[0].tags["semver"] == result["semver"]

    promotion = result["promotion"]
    passes = (metrics["accuracy"] >= 0.6 and metrics["macro_precision"] >= 0.5 and metrics["macro_recall"] >= 0.5)
    assert promotion["promoted"] is passes, promotion
    assert result["status"] == ("promoted_to_production" if passes else "staging")


def test_killed_worker_job_is_redelivered_and_registers_exactly_one_version(base_settings, celery_client,
                                                                            tmp_path_factory):
    # Short job limit → short broker visibility timeout (2 × 4 s), so the unacknowledged job comes back quickly.
    # A running job older than that is restored too; the job id keeps that duplicate from training again.
    settings = base_settings.replace(max_training_job_s=4, trial_heartbeat_s=1.0)
    queue = f"training-kill-{uuid.uuid4().hex[:6]}"  # no other training worker can take this job
    logs = tmp_path_factory.mktemp("logs")
    first = WorkerProcess("workers.training", settings, logs / "killed.log", "-Q", queue)
    first.wait_ready(celery_client)
    job_id = str(uuid.uuid4())
    request = {"model_type": "event_classifier", "n_optimization_trials": 3, "n_samples": 700,
               "auto_promote": False, "description": "killed mid-training"}
    celery_client.send_task(TRAIN_MODEL, args=[request], task_id=job_id, queue=queue)
    result = celery_client.AsyncResult(job_id)
    deadline = time.monotonic() + 120
    while not (result.state == "PROGRESS" and (result.info or {}).get("phase") == "search"):
        assert time.monotonic() < deadline, f"job never reached the search phase: {result.state}"
        assert first.proc.poll() is None
        time.sleep(0.1)
    os.killpg(first.proc.pid, signal.SIGKILL)  # the whole worker dies: nobody acknowledges or rejects the job
    first.proc.wait()
    first.stop()
    tracking = base_settings.effective_tracking_uri
    assert _versions_of_job(tracking, "event_classifier", job_id) == []

    second = WorkerProcess("workers.training", settings, logs / "second.log", "-Q", queue)
    try:
        second.wait_ready(celery_client)
        final = result.get(timeout=180, propagate=True)
    finally:
        second.stop()
    assert final["attempt"] >= 2
    versions = _versions_of_job(tracking, "event_classifier", job_id)
    assert [str(mv.version) for mv in versions] == [final["version"]]
    assert final["search"]["trial_counts"].get("COMPLETE", 0) + final["search"]["trial_counts"].get("PRUNED", 0) >= 3


def test_nightly_retrain_stages_a_candidate_and_promotes_only_through_the_gates(base_settings, celery_client,
                                                                                tmp_path):
    # Its own registry, so promoting a nightly candidate cannot change what the session's workers serve.
    tracking = f"sqlite:///{tmp_path / 'nightly.db'}"
    settings = base_settings.replace(mlflow_tracking_uri=tracking, training_samples=1500, retrain_trials=2,
                                     gate_min_accuracy=0.6, gate_min_macro_precision=0.5,
                                     gate_min_macro_recall=0.5, trial_heartbeat_s=1.0)
    queue = f"training-nightly-{uuid.uuid4().hex[:6]}"
    worker = WorkerProcess("workers.training", settings, tmp_path / "nightly.log", "-Q", queue)
    try:
        worker.wait_ready(celery_client)
        job = celery_client.send_task(NIGHTLY_RETRAIN, queue=queue)
        final = job.get(timeout=180, propagate=True)
    finally:
        worker.stop()
    versions = _versions_of_job(tracking, "event_classifier", job.id)
    assert [str(mv.version) for mv in versions] == [final["version"]]
    run = client_for(tracking).get_run(versions[0].run_id)
    assert run.data.tags["geulpi.trigger"] == "nightly"
    metrics = final["metrics"]
    passes = metrics["accuracy"] >= 0.6 and metrics["macro_precision"] >= 0.5 and metrics["macro_recall"] >= 0.5
    assert final["promotion"]["promoted"] is passes
    expected_stage = "Production" if passes else "Staging"
    assert client_for(tracking).get_model_version("event_classifier", final["version"]).tags["stage"] == expected_stage

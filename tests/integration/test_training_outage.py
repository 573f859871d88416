"""A training job that meets a Redis outage mid-run finishes after Redis returns, registering exactly one version."""

import threading
import time

from geulpi_tasks.registry.store import client_for
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server
from geulpi_tasks.training.job import JOB_TAG, run_training_job_through_outages


def test_job_restarts_from_durable_state_after_a_redis_outage(tmp_path):
    port = free_port()
    redis_dir = tmp_path / "redis"
    procs = [start_redis_server(port, redis_dir, appendonly=True)]
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    phases: list[str] = []
    outage: dict[str, float] = {}

    def restart_later() -> None:
        time.sleep(3.0)
        procs.append(start_redis_server(port, redis_dir, appendonly=True))
        outage["back"] = time.monotonic()

    def progress(meta: dict) -> None:
        phases.append(meta["phase"])
        if meta["phase"] == "text_model" and "stopped" not in outage:  # Redis goes away mid-job, once
            stop_redis_server(procs[0])
            outage["stopped"] = time.monotonic()
            threading.Thread(target=restart_later, daemon=True).start()

    try:
        result = run_training_job_through_outages(
            {"model_type": "event_classifier", "optimize": True, "n_optimization_trials": 2, "n_samples": 1500,
             "auto_promote": False, "description": "meets an outage"},
            redis_url=f"redis://127.0.0.1:{port}/0", max_wait_s=30, job_id="outage-job-1",
            tracking_uri=tracking_uri, artifact_root=tmp_path / "artifacts", key_prefix="geulpi-outage",
            progress=progress, seed=3, heartbeat_s=1.0)
    finally:
        for proc in procs:
            stop_redis_server(proc)
    assert "back" in outage and result["status"] == "registered" and result["attempt"] == 2
    assert phases.count("text_model") == 2  # the first attempt stopped there, the second ran through
    versions = [mv for mv in client_for(tracking_uri).search_model_versions("name = 'event_classifier'")
                if (mv.tags or {}).get(JOB_TAG) == "outage-job-1"]
    assert [str(mv.version) for mv in versions] == [result["version"]]

"""A training job that meets a Redis outage mid-run finishes after Redis returns, registering exactly one version."""

import logging
import threading

from geulpi_tasks.registry.store import client_for
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server
from geulpi_tasks.training.outage import run_training_job_through_outages
from geulpi_tasks.training.register import JOB_TAG


def test_job_restarts_from_durable_state_after_a_redis_outage(tmp_path):
    port = free_port()
    redis_dir = tmp_path / "redis"
    procs = [start_redis_server(port, redis_dir, appendonly=True)]
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    phases: list[str] = []
    outage: dict[str, bool] = {}
    met = threading.Event()

    class MetOutage(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "met a Redis outage" in record.getMessage():
                met.set()

    def restart_once_the_job_met_it() -> None:
        # A barrier, not a timer: Redis returns only after the first attempt has failed on it, however slow the
        # machine is, so the job always meets the outage and always needs a second attempt.
        if met.wait(timeout=300):
            procs.append(start_redis_server(port, redis_dir, appendonly=True))
            outage["back"] = True

    def progress(meta: dict) -> None:
        phases.append(meta["phase"])
        if meta["phase"] == "text_model" and "stopped" not in outage:  # Redis goes away mid-job, once
            stop_redis_server(procs[0])
            outage["stopped"] = True
            threading.Thread(target=restart_once_the_job_met_it, daemon=True).start()

    handler = MetOutage(level=logging.WARNING)
    outage_log = logging.getLogger("geulpi_tasks.training.outage")
    outage_log.addHandler(handler)

    try:
        result = run_training_job_through_outages(
            {"model_type": "event_classifier", "optimize": True, "n_optimization_trials": 2, "n_samples": 1500,
             "auto_promote": False, "description": "meets an outage"},
            redis_url=f"redis://127.0.0.1:{port}/0", max_wait_s=300, job_id="outage-job-1",
            tracking_uri=tracking_uri, artifact_root=tmp_path / "artifacts", key_prefix="geulpi-outage",
            progress=progress, seed=3, heartbeat_s=1.0)
    finally:
        outage_log.removeHandler(handler)
        met.set()
        for proc in procs:
            stop_redis_server(proc)
    assert "back" in outage and result["status"] == "registered" and result["attempt"] == 2
    assert phases.count("text_model") == 2  # the first attempt stopped there, the second ran through
    versions = [mv for mv in client_for(tracking_uri).search_model_versions("name = 'event_classifier'")
                if (mv.tags or {}).get(JOB_TAG) == "outage-job-1"]
    assert [str(mv.version) for mv in versions] == [result["version"]]

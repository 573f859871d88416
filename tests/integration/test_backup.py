"""Backup and restore of a running system (its own Redis and registry): two versions, one in production, a running
A/B experiment with exposures, feedback and a custom alert rule; everything wiped, then restored from the archive.
The same production version is served, the experiment's results are identical, feedback and rules are back."""

from __future__ import annotations

import shutil
import uuid

import mlflow
import redis

from api import create_app
from geulpi_tasks import approval
from geulpi_tasks.cli import main as cli_main
from geulpi_tasks.experiments import lifecycle
from geulpi_tasks.experiments.store import record_exposure, record_feedback_outcome
from geulpi_tasks.feedback import list_feedback, save_feedback
from geulpi_tasks.monitoring.alerts import parse_alert
from geulpi_tasks.monitoring.monitor import Monitor
from geulpi_tasks.registry.gates import PromotionGates
from geulpi_tasks.registry.lifecycle import promote_version
from geulpi_tasks.registry.store import find_version_by_alias
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server
from geulpi_tasks.training.bootstrap import ensure_production_model
from tests.conftest import TEST_SAMPLES, TEST_TREES, WorkerProcess, keyed_client
from workers.celery_app import create_celery

EVENT = {"title": "Dentist appointment", "startTime": "2024-01-22T10:00:00", "endTime": "2024-01-22T11:00:00"}


def _state(r: redis.Redis, settings, experiment_id: str) -> dict:  # type: ignore[no-untyped-def]
    config = lifecycle.AnalysisConfig.from_settings(settings)
    return {"production": find_version_by_alias(settings.effective_tracking_uri, settings.model_name).version,
            "results": lifecycle.get_results(r, settings.key_prefix, experiment_id, config),
            "feedback": list_feedback(r, settings.key_prefix),
            "rules": [a.to_dict() for a in Monitor(r, settings.key_prefix, settings.model_name).list_alerts()],
            "approvals": [a.to_wire() for a in approval.list_requests(
                r, settings.key_prefix, approval.ApprovalPolicy.from_settings(settings), settings.model_name)]}


def test_backup_wipe_restore_brings_back_the_same_system(base_settings, tmp_path):
    port = free_port()
    redis_proc = start_redis_server(port, tmp_path / "redis", appendonly=True)
    data = tmp_path / "data"
    settings = base_settings.replace(redis_url=f"redis://127.0.0.1:{port}/0", data_dir=data,
                                     mlflow_tracking_uri=f"sqlite:///{data / 'mlflow.db'}",
                                     key_prefix=f"backup-{uuid.uuid4().hex[:6]}")
    worker = None
    try:
        data.mkdir()
        ref, _ = ensure_production_model(tracking_uri=settings.effective_tracking_uri,
                                         artifact_root=settings.artifact_root, model_name=settings.model_name,
                                         n_samples=TEST_SAMPLES, n_trees=TEST_TREES, seed=settings.seed)
        # A second version of the same model (registered from the same run; a real registry entry).
        client = mlflow.MlflowClient(tracking_uri=settings.effective_tracking_uri)
        first = client.get_model_version(settings.model_name, ref.version)
        second = client.create_model_version(settings.model_name, source=first.source, run_id=first.run_id)
        r = redis.Redis.from_url(settings.redis_url)
        # A pending promotion request for the second version (approval before production).
        promote_version(settings.effective_tracking_uri, settings.model_name, second.version, "Staging")
        approval.request_promotion(r, settings.key_prefix, approval.ApprovalPolicy.from_settings(settings),
                                   settings.effective_tracking_uri, settings.model_name, second.version,
                                   requested_by="key:backup-test", source="api",
                                   gates=PromotionGates.from_settings(settings))
        experiment = lifecycle.create_experiment(r, settings.key_prefix, settings.effective_tracking_uri, {
            "name": "backup", "model_type": settings.model_name, "duration_hours": 24,
            "variants": [{"name": "control", "version": ref.version, "traffic_percentage": 50},
                         {"name": "treatment", "version": str(second.version), "traffic_percentage": 50}]})
        for i in range(40):
            for variant in ("control", "treatment"):
                record_exposure(r, settings.key_prefix, experiment.experiment_id, variant, success=i % 7 != 0,
                                latency_ms=1.0 + i / 10, latency_samples=100)
        record_feedback_outcome(r, settings.key_prefix, experiment.experiment_id, "control", True)
        save_feedback(r, settings.key_prefix, {"eventId": "bk-1", "category": "HEALTH", "priority": None,
                                               "event": {**EVENT, "eventId": "bk-1"}},
                      default_model_name=settings.model_name, cache_ttl_s=60)
        Monitor(r, settings.key_prefix, settings.model_name).add_alert(parse_alert(
            {"name": "backup_rule", "metric_name": "accuracy", "condition": "<", "threshold": 0.4}))
        before = _state(r, settings, experiment.experiment_id)
        assert before["production"] == ref.version and before["feedback"]
        assert [a["state"] for a in before["approvals"]] == ["pending"]

        archive = tmp_path / "backups" / "geulpi.tar.gz"
        assert cli_main(["backup", str(archive)], settings=settings) == 0
        assert archive.exists()

        # Disaster: every store emptied.
        r.flushall()
        (data / "mlflow.db").unlink()
        shutil.rmtree(settings.artifact_root)

        assert cli_main(["restore", str(archive)], settings=settings) == 0
        after = _state(r, settings, experiment.experiment_id)
        assert after == before
        # Restore writes into empty stores only: a second restore is refused (exit 2, Conflict).
        assert cli_main(["restore", str(archive)], settings=settings) == 2
        # The restore itself is audited, as the local user.
        assert r.xlen(f"{settings.key_prefix}:audit") >= 2

        # The restored registry serves: an inference worker loads production from it.
        celery = create_celery(settings)
        worker = WorkerProcess("workers.inference", settings, tmp_path / "inference.log", "--concurrency", "1")
        worker.wait_ready(celery, timeout=120)
        api = keyed_client(create_app(settings, celery=celery))
        stopped = api.post(f"/experiments/{experiment.experiment_id}/stop")
        assert stopped.status_code == 200, stopped.json
        served = api.post("/v2/classify-event", json=EVENT)
        assert served.status_code == 200, served.json
        assert served.json["modelVersion"] == before["production"]
    finally:
        if worker is not None:
            worker.stop()
        stop_redis_server(redis_proc)

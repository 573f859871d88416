"""An XGBoost winner is what gets registered and served: a training job restricted to the XGBoost family
(``families: ["xgboost"]``) → a registered version whose params name the family → promoted through the API → the
running inference worker answers with that version, with the probabilities of the XGBoost reference model.

Own Redis and own MLflow registry (a copy of the session's forest as version 1 in production), so nothing the
session's workers serve moves.
"""

from __future__ import annotations

import time
import uuid

import numpy as np
import pytest

from api import create_app
from geulpi_tasks.models.runtime import ServedClassifier, load_reference
from geulpi_tasks.registry.store import client_for, download_bundle, promote_to_production, register_bundle
from geulpi_tasks.schemas import parse_event
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server
from tests.conftest import WorkerProcess, keyed_client, wait_task
from workers.celery_app import create_celery

EVENTS = [
    {"title": "Team standup meeting", "startTime": "2024-01-22T09:00:00", "endTime": "2024-01-22T09:15:00"},
    {"title": "헬스장 가기", "startTime": "2024-01-22T19:00:00", "endTime": "2024-01-22T20:00:00"},
    {"title": "Dinner with mom", "startTime": "2024-01-23T18:30:00", "endTime": "2024-01-23T20:00:00"},
]


@pytest.fixture(scope="module")
def stack(base_settings, production_model, tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("xgb-serving")
    port = free_port()
    redis_proc = start_redis_server(port, root / "redis", appendonly=False)
    data_dir = root / "data"
    settings = base_settings.replace(redis_url=f"redis://127.0.0.1:{port}/0", data_dir=data_dir,
                                     mlflow_tracking_uri=f"sqlite:///{data_dir / 'mlflow.db'}",
                                     key_prefix=f"geulpi-xgb-{uuid.uuid4().hex[:6]}", trial_heartbeat_s=1.0)
    bundle = download_bundle(base_settings.effective_tracking_uri, base_settings.model_name, production_model,
                             root / "bundles")
    register_bundle(bundle, tracking_uri=settings.effective_tracking_uri, artifact_root=settings.artifact_root,
                    name=settings.model_name, description="forest copied from the session", semver="1.0.0",
                    params={"stage2_family": "random_forest"}, metrics={"accuracy": 0.9})
    promote_to_production(settings.effective_tracking_uri, settings.model_name, "1")
    celery = create_celery(settings)
    workers = [WorkerProcess("workers.inference", settings, root / "inference.log", "--concurrency", "1"),
               WorkerProcess("workers.training", settings, root / "training.log")]
    try:
        for worker in workers:
            worker.wait_ready(celery)
        yield settings, keyed_client(create_app(settings, celery=celery))
    finally:
        for worker in workers:
            worker.stop()
        celery.close()
        stop_redis_server(redis_proc)


def _classify(client, event):  # type: ignore[no-untyped-def]
    response = client.post("/v2/classify-event", json=event)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_xgboost_winner_is_registered_promoted_and_served(stack, tmp_path):  # type: ignore[no-untyped-def]
    settings, client = stack
    name = settings.model_name
    assert _classify(client, EVENTS[0])["modelVersion"] == "1"

    response = client.post("/models/train", json={
        "model_type": name, "families": ["xgboost"], "n_optimization_trials": 2, "pruner": "none",
        "n_samples": 400, "auto_promote": False, "description": "XGBoost only", "prune_trees": True})
    assert response.status_code == 202, response.json
    body = wait_task(client, response.headers["Location"], timeout=120)
    assert body["state"] == "SUCCESS", body
    result = body["result"]
    version = result["version"]
    assert version == "2"
    assert result["search"]["trial_counts"] == {"COMPLETE": 2}
    assert result["metrics"]["latency_p50_us"] > 0
    assert "no independent trees" in result["compression"]["skipped"]  # pruning is for forests; said, not silent

    tracking = settings.effective_tracking_uri
    run = client_for(tracking).get_run(client_for(tracking).get_model_version(name, version).run_id)
    assert run.data.params["stage2_family"] == "xgboost"
    assert run.data.params["stage2.family"] == "xgboost"
    assert run.data.params["served_runtime"] == "onnxruntime"

    for stage in ("Staging", "Production"):
        promoted = client.post(f"/models/{name}/promote?version={version}&target_stage={stage}")
        assert promoted.status_code == 200, promoted.get_data(as_text=True)
    promoted_at = time.monotonic()
    while (answer := _classify(client, EVENTS[0]))["modelVersion"] != version:
        assert time.monotonic() - promoted_at < 5.0, "the worker did not serve the XGBoost version within 5 s"
        time.sleep(0.05)

    # What the worker answers is the XGBoost model's calibrated probability, computed by the reference path.
    bundle = download_bundle(tracking, name, version, tmp_path)
    assert ServedClassifier.load(bundle, name=name, version=version).family == "xgboost"
    reference = load_reference(bundle)
    assert type(reference.forest).__name__ == "XGBClassifier"
    for event in EVENTS:
        answer = _classify(client, event)
        assert answer["modelVersion"] == version
        probs = reference.predict_proba([parse_event(event)])[0]
        assert answer["eventType"] == reference.classes[int(np.argmax(probs))]
        served = np.array([answer["probabilities"][c] for c in reference.classes])
        assert np.abs(served - probs).max() < 1e-5  # the answer rounds to 6 decimals

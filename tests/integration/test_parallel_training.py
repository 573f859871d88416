"""``parallelism: 2`` through the API with two real training workers: the job finishes, both workers ran trials of
the one shared Optuna study (journal storage on Redis; each trial names its worker), exactly the asked number of
trials completed, and one version is registered. Own Redis and registry, so no other worker takes part."""

from __future__ import annotations

import time
import uuid

import optuna
import pytest

from api import create_app
from geulpi_tasks.registry.store import client_for
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server
from geulpi_tasks.training.distributed import WORKER_ATTR, journal_storage
from tests.conftest import WorkerProcess, keyed_client, wait_task
from workers.celery_app import create_celery

TRIALS = 8


@pytest.fixture()
def two_workers(base_settings, tmp_path):  # type: ignore[no-untyped-def]
    port = free_port()
    redis_proc = start_redis_server(port, tmp_path / "redis", appendonly=False)
    data_dir = tmp_path / "data"
    settings = base_settings.replace(redis_url=f"redis://127.0.0.1:{port}/0", data_dir=data_dir,
                                     mlflow_tracking_uri=f"sqlite:///{data_dir / 'mlflow.db'}",
                                     key_prefix=f"geulpi-par-{uuid.uuid4().hex[:6]}", trial_heartbeat_s=1.0)
    celery = create_celery(settings)
    workers = [WorkerProcess("workers.training", settings, tmp_path / f"training-{i}.log") for i in (1, 2)]
    try:
        for worker in workers:
            worker.wait_ready(celery)
        yield settings, keyed_client(create_app(settings, celery=celery)), workers
    finally:
        for worker in workers:
            worker.stop()
        celery.close()
        stop_redis_server(redis_proc)


def test_parallelism_2_spreads_one_study_over_two_training_workers(two_workers):  # type: ignore[no-untyped-def]
    settings, client, workers = two_workers
    response = client.post("/models/train", json={
        "model_type": "event_classifier", "n_optimization_trials": TRIALS, "parallelism": 2, "pruner": "none",
        "n_samples": 600, "description": "two workers, one study"})
    assert response.status_code == 202, response.json
    job_id = response.json["jobId"]
    started = time.monotonic()
    body = wait_task(client, response.headers["Location"], timeout=120)
    assert body["state"] == "SUCCESS", body
    result = body["result"]

    # The study itself: every trial finished, none left running, and both workers ran some of them.
    study = optuna.load_study(study_name=f"train-{job_id}",
                              storage=journal_storage(settings.redis_url, settings.key_prefix))
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states.count(optuna.trial.TrialState.COMPLETE) == TRIALS, states
    assert optuna.trial.TrialState.RUNNING not in states
    by_worker: dict[str, int] = {}
    first_params: dict[str, dict] = {}
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        by_worker[t.user_attrs[WORKER_ATTR]] = by_worker.get(t.user_attrs[WORKER_ATTR], 0) + 1
        first_params.setdefault(t.user_attrs[WORKER_ATTR], t.params)
    assert set(by_worker) == {w.name for w in workers}, by_worker
    # Each worker's sampler draws its own start-up trials (a shared seed would make both propose the same ones).
    first_a, first_b = first_params.values()
    assert first_a != first_b
    assert result["search"]["trials_by_worker"] == by_worker
    assert result["search"]["trial_counts"] == {"COMPLETE": TRIALS}
    assert result["search"]["parallelism"] == 2

    versions = [mv for mv in client_for(settings.effective_tracking_uri).search_model_versions(
        "name = 'event_classifier'") if (mv.tags or {}).get("geulpi.job_id") == job_id]
    assert [str(mv.version) for mv in versions] == [result["version"]]
    print(f"parallelism 2: {TRIALS} trials split {by_worker}, job {time.monotonic() - started:.1f} s, "
          f"search wall {result['search']['search_wall_seconds']} s")

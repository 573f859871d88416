"""A/B experiments end to end: own AOF Redis, own MLflow registry with two versions, a real inference worker.

create → traffic through /v2/classify-event with user ids → sticky assignment → split within tolerance →
results → stop (twice) → the final results survive a restart of Redis (append-only file on).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from scipy import stats

from api import create_app
from api.coalescer import Coalescer
from api.state import api_state
from geulpi_tasks.experiments.lifecycle import AnalysisConfig, stop_expired_experiments
from geulpi_tasks.experiments.store import find_experiment, record_exposure, record_feedback_outcome
from geulpi_tasks.registry.store import (
    client_for,
    download_bundle,
    find_version_by_alias,
    promote_to_production,
    register_bundle,
)
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server
from tests.conftest import WorkerProcess, keyed_client
from workers.celery_app import create_celery

USERS = 160
MIN_SAMPLES = 100  # the product default is 1000; the rule is the same, the test stays fast


@pytest.fixture(scope="module")
def ab_env(base_settings, production_model, tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("ab")
    port = free_port()
    redis_dir = root / "redis"
    redis_proc = start_redis_server(port, redis_dir, appendonly=True)
    data_dir = root / "data"
    settings = base_settings.replace(
        redis_url=f"redis://127.0.0.1:{port}/0", data_dir=data_dir,
        mlflow_tracking_uri=f"sqlite:///{data_dir / 'mlflow.db'}", ab_min_samples=MIN_SAMPLES, ab_min_feedback=20,
        ab_cache_ttl_s=0.2, key_prefix=f"geulpi-ab-{uuid.uuid4().hex[:6]}")
    # Two versions of the same bundle in a registry of our own: version 1 in production, version 2 beside it.
    bundle = download_bundle(base_settings.effective_tracking_uri, base_settings.model_name, production_model,
                             root / "bundles")
    base_client = client_for(base_settings.effective_tracking_uri)
    run_id = base_client.get_model_version(base_settings.model_name, production_model).run_id
    held_out = dict(base_client.get_run(run_id).data.metrics)  # the promotion gates read these
    for semver in ("1.0.0", "1.0.1"):
        ref = register_bundle(bundle, tracking_uri=settings.effective_tracking_uri,
                              artifact_root=settings.artifact_root, name=settings.model_name,
                              description=f"A/B test copy {semver}", semver=semver, params={}, metrics=held_out)
    promote_to_production(settings.effective_tracking_uri, settings.model_name, "1")
    assert ref.version == "2"
    celery = create_celery(settings)
    worker = WorkerProcess("workers.inference", settings, root / "worker.log", "--concurrency", "1")
    state = {"redis_proc": redis_proc, "port": port, "redis_dir": redis_dir}
    try:
        worker.wait_ready(celery)
        app = create_app(settings, celery=celery)
        yield settings, keyed_client(app), state
    finally:
        worker.stop()
        stop_redis_server(state["redis_proc"])
        celery.close()


def _create_body(**changes):  # type: ignore[no-untyped-def]
    body = {"name": "v1 vs v2", "description": "same weights, two versions", "model_type": "event_classifier",
            "variants": [{"name": "control", "version": "1", "traffic_percentage": 50},
                         {"name": "treatment", "version": "2", "traffic_percentage": 50}],
            "duration_hours": 24,
            "success_metrics": {"success_rate": {"threshold": 0.95, "weight": 1.0},
                                "avg_latency_ms": {"threshold": 100, "weight": 0.5}}}
    body.update(changes)
    return body


def _event(user: str) -> dict[str, str]:
    return {"title": "Team standup meeting", "startTime": "2024-01-22T09:00:00", "endTime": "2024-01-22T09:15:00",
            "userId": user}


def test_create_validates_against_the_registry_and_allows_one_running_per_model(ab_env):  # type: ignore[no-untyped-def]
    _settings, client, _ = ab_env
    missing = client.post("/experiments/create", json=_create_body(variants=[
        {"name": "control", "version": "1", "traffic_percentage": 50},
        {"name": "treatment", "version": "9", "traffic_percentage": 50}]))
    assert missing.status_code == 404 and missing.json["error"]["details"]["field"] == "variants[1].version"
    bad_sum = client.post("/experiments/create", json=_create_body(variants=[
        {"name": "control", "version": "1", "traffic_percentage": 60},
        {"name": "treatment", "version": "2", "traffic_percentage": 50}]))
    assert bad_sum.status_code == 422 and bad_sum.json["error"]["details"]["field"] == "variants"
    unknown = client.post("/experiments/create", json=_create_body(success_metrics={"joy": {"threshold": 1,
                                                                                            "weight": 1}}))
    assert unknown.status_code == 400 and unknown.json["error"]["details"]["field"] == "success_metrics.joy"
    assert client.get("/experiments/nope/results").status_code == 404
    no_model = client.post("/experiments/create", json=_create_body(model_type="no_such_model"))
    assert no_model.status_code == 404 and no_model.json["error"]["details"]["field"] == "model_type"

    created = client.post("/experiments/create", json=_create_body())
    assert created.status_code == 201, created.json
    assert created.json["status"] == "running"
    again = client.post("/experiments/create", json=_create_body(name="another"))
    assert again.status_code == 409
    assert again.json["error"]["details"]["runningExperimentId"] == created.json["experiment_id"]
    listed = client.get("/experiments").json["experiments"]
    assert [(e["experimentId"], e["status"]) for e in listed] == [(created.json["experiment_id"], "running")]


def test_traffic_is_sticky_split_counted_stopped_and_survives_a_redis_restart(ab_env):  # type: ignore[no-untyped-def]
    settings, client, state = ab_env
    experiment_id = client.get("/experiments").json["experiments"][0]["experimentId"]
    versions = {"control": "1", "treatment": "2"}
    seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
    time.sleep(0.3)  # past the worker's experiment cache
    for _round in range(2):
        for i in range(USERS):
            answer = client.post("/v2/classify-event", json=_event(f"user-{i}"))
            assert answer.status_code == 200, answer.json
            assert answer.json["experimentId"] == experiment_id
            seen[f"user-{i}"].add((answer.json["variant"], answer.json["modelVersion"]))
    # Sticky: every user saw one variant, served by that variant's version.
    assert all(len(pairs) == 1 for pairs in seen.values())
    assert all(versions[v] == version for pairs in seen.values() for v, version in pairs)
    per_variant = Counter(next(iter(pairs))[0] for pairs in seen.values())
    assert stats.binomtest(per_variant["control"], USERS, 0.5).pvalue > 0.001, per_variant

    anonymous = Counter(client.post("/v2/classify-event", json={k: v for k, v in _event("x").items()
                                                                 if k != "userId"}).json["variant"] for _ in range(30))
    assert set(anonymous) == {"control", "treatment"}  # random without an id (probability of failing ~2e-9)

    # A batch routes each caller's events to the same variant as single calls.
    batch = client.post("/v2/classify-events", json={"events": [_event(f"user-{i}") for i in range(10)]})
    assert batch.status_code == 200, batch.json
    batch_variants = [(res["variant"], res["modelVersion"]) for res in batch.json["results"]]
    assert batch_variants == [next(iter(seen[f"user-{i}"])) for i in range(10)]
    in_batch = Counter(v for v, _ in batch_variants)

    # Concurrent single calls the API coalesced into one task: each keeps its own sticky variant and is counted as
    # one exposure with its own latency, exactly as alone.
    app = client.application
    coalescer = Coalescer(api_state(app).gateway, window_s=60.0, max_size=10)
    arrivals = [coalescer.arrive() for _ in range(10)]  # all on their way: the group closes when all 10 joined
    with ThreadPoolExecutor(max_workers=10) as pool:
        coalesced = list(pool.map(lambda i: coalescer.classify(_event(f"user-{i}"), users=[f"user-{i}"], timeout=30,
                                                               arrival=arrivals[i]), range(10)))
    assert [(a["variant"], a["modelVersion"]) for a in coalesced] == [next(iter(seen[f"user-{i}"])) for i in range(10)]
    assert all(a["experimentId"] == experiment_id and a["latencyMs"] > 0 for a in coalesced)
    in_batch += Counter(a["variant"] for a in coalesced)

    # Accuracy from feedback: the hook the feedback path calls.
    r = redis.Redis.from_url(settings.redis_url)
    for k in range(25):
        record_feedback_outcome(r, settings.key_prefix, experiment_id, "control", correct=k % 5 != 0)
        record_feedback_outcome(r, settings.key_prefix, experiment_id, "treatment", correct=True)

    results = client.get(f"/experiments/{experiment_id}/results").json
    variants = results["variants"]
    total = 2 * USERS + 30 + 10 + 10
    assert variants["control"]["exposures"] + variants["treatment"]["exposures"] == total
    assert variants["control"]["exposures"] == 2 * per_variant["control"] + anonymous["control"] + in_batch["control"]
    for name in ("control", "treatment"):
        v = variants[name]
        assert v["failures"] == 0 and v["successRate"] == 1.0
        assert 0 < v["latencyMs"]["p50"] <= v["latencyMs"]["p95"] and v["latencyMs"]["mean"] > 0
        assert v["metrics"]["success_rate"]["passed"] is True and v["score"] is not None
    assert variants["control"]["feedback"] == {"answers": 25, "correct": 20, "accuracy": 0.8}
    assert results["fixedHorizon"]["treatment"]["accuracy"]["difference"] == pytest.approx(0.2)
    assert results["fixedHorizon"]["treatment"]["latency"]["welchPValue"] is not None
    assert results["sampleRatioMismatch"]["pValue"] is not None
    assert results["decision"]["status"] == "no_significant_difference"
    assert results["winner"] == "no significant difference"

    stopped = client.post(f"/experiments/{experiment_id}/stop")
    assert stopped.status_code == 200
    assert stopped.json["experiment"]["status"] == "stopped" and stopped.json["promotion"] == {"requested": False}
    twice = client.post(f"/experiments/{experiment_id}/stop")
    assert twice.status_code == 200 and twice.json == stopped.json
    time.sleep(0.3)
    after = client.post("/v2/classify-event", json=_event("user-1")).json
    assert "experimentId" not in after and after["modelVersion"] == "1"

    # Restart Redis on the same files: definitions and final results come back from the append-only file.
    stop_redis_server(state["redis_proc"])
    state["redis_proc"] = start_redis_server(state["port"], state["redis_dir"], appendonly=True)
    deadline = time.monotonic() + 20
    while True:
        reread = client.get(f"/experiments/{experiment_id}/results")
        if reread.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert reread.status_code == 200 and reread.json == stopped.json
    assert client.get("/experiments").json["experiments"][0]["status"] == "stopped"


def test_stop_with_promotion_moves_the_winner_through_the_gates_to_production(ab_env):  # type: ignore[no-untyped-def]
    settings, client, _ = ab_env
    created = client.post("/experiments/create", json=_create_body(name="promotion")).json
    experiment_id = created["experiment_id"]
    r = redis.Redis.from_url(settings.redis_url)
    # Counted through the same recorder the worker uses: version 2 never fails, version 1 fails one in five.
    for k in range(MIN_SAMPLES * 2):
        record_exposure(r, settings.key_prefix, experiment_id, "control", success=k % 5 != 0, latency_ms=1.0,
                        latency_samples=100)
        record_exposure(r, settings.key_prefix, experiment_id, "treatment", success=True, latency_ms=1.0,
                        latency_samples=100)
    final = client.post(f"/experiments/{experiment_id}/stop?promote_winner=true").json
    assert final["winner"] == "treatment", final["decision"]
    promotion = final["promotion"]
    assert promotion["promoted"] is True, promotion
    assert promotion["version"] == "2" and promotion["stage"] == "Production" and promotion["archived"] == ["1"]
    assert find_version_by_alias(settings.effective_tracking_uri, settings.model_name).version == "2"


def test_expired_experiments_are_stopped_by_the_beat_job(ab_env):  # type: ignore[no-untyped-def]
    settings, client, _ = ab_env
    created = client.post("/experiments/create", json=_create_body(name="short", duration_hours=0.01)).json
    r = redis.Redis.from_url(settings.redis_url)
    config = AnalysisConfig.from_settings(settings)
    assert stop_expired_experiments(r, settings.key_prefix, config) == []
    stopped = stop_expired_experiments(r, settings.key_prefix, config, now=time.time() + 3600)
    assert stopped == [created["experiment_id"]]
    experiment = find_experiment(r, settings.key_prefix, created["experiment_id"])
    assert experiment is not None and experiment.stop_reason == "duration_hours passed"
    assert client.get(f"/experiments/{created['experiment_id']}/results").json["experiment"]["status"] == "stopped"


def test_beat_schedules_the_expiry_task_on_the_monitoring_queue():
    import beat_schedule
    from geulpi_tasks.settings import Settings
    from workers.celery_app import app, create_celery
    from workers.task_names import STOP_EXPIRED_EXPERIMENTS

    app.loader.import_default_modules()
    assert STOP_EXPIRED_EXPERIMENTS in app.tasks
    assert beat_schedule.build_schedule(Settings())["stop-expired-experiments"]["task"] == STOP_EXPIRED_EXPERIMENTS
    router = create_celery(Settings()).amqp.router
    assert router.route({}, STOP_EXPIRED_EXPERIMENTS)["queue"].name == "monitoring"

"""Model versions and stages against a real MLflow store (SQLite in a temp folder), a real Redis and real workers.

Most tests work on their own registered model (copies of the session's production bundle) so they never move the
served ``event_classifier``; the one that does (served within 5 s) rolls it back before it returns.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
import redis

from geulpi_tasks.feedback import feedback_key, find_classified, list_feedback_rows
from geulpi_tasks.models.event_classifier import labelled_to_inputs
from geulpi_tasks.monitoring.accuracy import accuracy_by_version
from geulpi_tasks.registry.gates import PromotionGates, apply_auto_promote
from geulpi_tasks.registry.lifecycle import list_versions, next_semver, promote_version
from geulpi_tasks.registry.store import client_for, download_bundle, find_version_by_alias, register_bundle
from tests.conftest import WorkerProcess, wait_task

EVENT = {"title": "Team standup meeting", "description": "Daily sync", "startTime": "2024-01-20T09:00:00",
         "endTime": "2024-01-20T09:30:00"}


@pytest.fixture(scope="module")
def bundle(base_settings, production_model, tmp_path_factory):
    return download_bundle(base_settings.effective_tracking_uri, base_settings.model_name, production_model,
                           tmp_path_factory.mktemp("bundles"))


@pytest.fixture(scope="module")
def weak_bundle(tmp_path_factory):
    """A deliberately weak classifier (few rows, few shallow trees) so a comparison has a clear winner."""
    from geulpi_tasks.data.generator import generate_events, split_events
    from geulpi_tasks.models.event_classifier import ForestParams, train_event_classifier
    from geulpi_tasks.models.runtime import save_bundle

    train, val, test = split_events(generate_events(300, seed=11), seed=11)
    model = train_event_classifier(train, val, test, seed=11, forest=ForestParams(n_estimators=3, max_depth=3))
    return save_bundle(model, tmp_path_factory.mktemp("weak") / "bundle")


def _classify(client, event):
    """A sync classification; a 504 (the request expired unprocessed, e.g. a worker still loading its model on a
    busy machine) is retried, since this file tests the lifecycle, not latency."""
    for _ in range(4):
        response = client.post("/v2/classify-event", json=event)
        if response.status_code == 503:  # the breaker after a 504: it lets a probe through after its cool-down
            time.sleep(2.2)
        elif response.status_code != 504:
            break
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def _register(settings, bundle_dir, name, semver, metrics=None):
    metrics = metrics or {"accuracy": 0.95, "macro_precision": 0.93, "macro_recall": 0.92}
    return register_bundle(bundle_dir, tracking_uri=settings.effective_tracking_uri,
                           artifact_root=settings.artifact_root, name=name, description=f"test copy {semver}",
                           semver=semver, params={"copy": True}, metrics=metrics).version


@pytest.fixture()
def two_versions(base_settings, bundle):
    """A fresh model with versions 1 and 2 (both Stage None)."""
    name = f"lc-{uuid.uuid4().hex[:8]}"
    return name, _register(base_settings, bundle, name, "1.0.0"), _register(base_settings, bundle, name, "1.1.0")


def _stages(client, name):
    response = client.get(f"/models/{name}/versions")
    assert response.status_code == 200, response.get_data(as_text=True)
    return {v["version"]: v["stage"] for v in response.json["versions"]}


def _promote(client, name, version, stage):
    response = client.post(f"/models/{name}/promote?version={version}&target_stage={stage}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_versions_are_listed_newest_first_with_metrics_and_semver(client, two_versions):
    name, v1, v2 = two_versions
    body = client.get(f"/models/{name}/versions").json
    assert body["model_name"] == name
    assert [v["version"] for v in body["versions"]] == [v2, v1]
    newest = body["versions"][0]
    assert newest["semver"] == "1.1.0" and newest["stage"] == "None" and newest["run_id"]
    assert newest["metrics"]["accuracy"] == 0.95 and newest["description"] == "test copy 1.1.0"
    assert newest["created_at"].endswith("+00:00")


def test_promote_archives_previous_production(client, base_settings, two_versions):
    name, v1, v2 = two_versions
    _promote(client, name, v1, "Staging")
    _promote(client, name, v1, "Production")
    _promote(client, name, v2, "Staging")
    moved = _promote(client, name, v2, "Production")
    assert moved["archived"] == [v1] and moved["previous_stage"] == "Staging"
    assert _stages(client, name) == {v1: "Archived", v2: "Production"}
    model = client_for(base_settings.effective_tracking_uri).get_registered_model(name)
    assert str(model.aliases["production"]) == v2 and str(model.aliases["previous_production"]) == v1
    assert "staging" not in model.aliases
    # asking for the stage a version already has changes nothing
    assert _promote(client, name, v2, "Production")["changed"] is False


def test_rollback_returns_production_to_previous_version(client, two_versions):
    name, v1, v2 = two_versions
    for version in (v1, v2):
        _promote(client, name, version, "Staging")
        _promote(client, name, version, "Production")
    response = client.post(f"/models/{name}/rollback")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["from_version"] == v2 and response.json["to_version"] == v1
    assert _stages(client, name) == {v1: "Production", v2: "Archived"}
    again = client.post(f"/models/{name}/rollback")
    assert again.status_code == 409 and again.json["error"]["code"] == "nothing_to_roll_back"


def test_auto_promote_needs_gates_and_not_worse_than_production(base_settings, two_versions, bundle):
    name, v1, v2 = two_versions
    uri = base_settings.effective_tracking_uri
    def realistic(accuracy: float, precision: float = 0.93, **extra: float) -> dict:
        # What a training job logs: the candidate on the realistic dev holdout, and production on the same rows.
        return {"realistic_dev_accuracy": accuracy, "realistic_dev_macro_precision": precision,
                "realistic_dev_macro_recall": 0.92, "accuracy": 0.99, **extra}

    first = apply_auto_promote(uri, name, v1, realistic(0.95), PromotionGates())
    assert first["promoted"] is True and first["stage"] == "Production"
    on_v1 = {"production_version": float(v1), "production_realistic_dev_accuracy": 0.95}
    failing = apply_auto_promote(uri, name, v2, realistic(0.96, precision=0.70, **on_v1), PromotionGates())
    assert failing["promoted"] is False and failing["stage"] == "Staging"
    assert any("realistic_dev_macro_precision" in r for r in failing["reasons"])
    worse = apply_auto_promote(uri, name, v2, realistic(0.94, **on_v1), PromotionGates())
    assert worse["promoted"] is False and "worse than production" in worse["reasons"][0]
    # Better on the realistic holdout but worse on enough held-out user corrections: refused as well.
    corrections = {"feedback_holdout_rows": 40.0, "feedback_holdout_accuracy": 0.70,
                   "production_feedback_holdout_accuracy": 0.80}
    against_users = apply_auto_promote(uri, name, v2, realistic(0.97, **on_v1, **corrections), PromotionGates())
    assert against_users["promoted"] is False and "held-out user corrections" in against_users["reasons"][0]
    assert find_version_by_alias(uri, name).version == v1
    better = apply_auto_promote(uri, name, v2, realistic(0.951, **on_v1), PromotionGates())
    assert better["promoted"] is True and better["archived"] == [v1]
    assert {v["version"]: v["stage"] for v in list_versions(uri, name)["versions"]} == {v1: "Archived",
                                                                                          v2: "Production"}


def test_next_semver_reads_the_registry(base_settings, two_versions):
    name, v1, _v2 = two_versions
    uri = base_settings.effective_tracking_uri
    assert next_semver(uri, name, schema_changed=False, kind="retrain") == "1.2.0"
    assert next_semver(uri, name, schema_changed=False, kind="compress") == "1.1.1"
    assert next_semver(uri, name, schema_changed=False, kind="compress", base_version=v1) == "1.0.1"
    assert next_semver(uri, name, schema_changed=True, kind="retrain") == "2.0.0"
    assert next_semver(uri, f"never-{uuid.uuid4().hex[:6]}", schema_changed=False, kind="retrain") == "1.0.0"


def test_new_production_is_served_by_running_worker_within_5s(client, base_settings, inference_worker, bundle,
                                                              production_model):
    name = base_settings.model_name
    assert _classify(client, EVENT).json["modelVersion"] == production_model
    new = _register(base_settings, bundle, name, "1.1.0")
    _promote(client, name, new, "Staging")
    try:
        _promote(client, name, new, "Production")
        promoted_at = time.monotonic()
        served, answers, streak = None, 0, 0
        # Served = six answers in a row from the new version, so both worker processes have swapped.
        while time.monotonic() - promoted_at < 5.0 and streak < 6:
            response = client.post("/v2/classify-event", json=EVENT)
            assert response.status_code == 200, response.get_data(as_text=True)  # no request dropped meanwhile
            answers += 1
            streak = streak + 1 if response.json["modelVersion"] == new else 0
            if streak == 1:
                served = time.monotonic() - promoted_at
            time.sleep(0.05)
        assert streak >= 6, "the workers did not all serve the promoted version within 5 s"
        print(f"promoted version {new}: first answer from it {served:.2f} s after promotion, six in a row after "
              f"{time.monotonic() - promoted_at:.2f} s; {answers} requests, none dropped")
    finally:
        rolled = client.post(f"/models/{name}/rollback")
        assert rolled.status_code == 200 and rolled.json["to_version"] == production_model
    # Leave the session as it was: every worker process back on the original version.
    deadline, streak = time.monotonic() + 10.0, 0
    while streak < 6:
        assert time.monotonic() < deadline, "the rolled-back version was not served again in time"
        streak = streak + 1 if _classify(client, EVENT).json["modelVersion"] == production_model else 0
        time.sleep(0.05)


# ------------------------------------------------------------------------------------------------ compare
@pytest.fixture(scope="module")
def training_worker(base_settings, celery_client, production_model, tmp_path_factory):
    worker = WorkerProcess("workers.training", base_settings.replace(compare_eval_samples=600),
                           tmp_path_factory.mktemp("logs") / "training-lifecycle.log")
    worker.wait_ready(celery_client)
    yield worker
    worker.stop()


def test_compare_evaluates_both_versions_now_and_recommends_one(client, base_settings, bundle, weak_bundle,
                                                               training_worker):
    name = f"lc-{uuid.uuid4().hex[:8]}"
    strong = _register(base_settings, bundle, name, "1.0.0")
    weak = _register(base_settings, weak_bundle, name, "1.1.0", metrics={"accuracy": 0.99})  # stored number lies
    response = client.post(f"/models/compare?model_name={name}&version_a={weak}&version_b={strong}&async=true")
    assert response.status_code == 202, response.get_data(as_text=True)
    body = wait_task(client, response.headers["Location"])
    assert body["state"] == "SUCCESS", body
    result = body["result"]
    assert set(result["metrics"]) == {weak, strong}
    for version in (weak, strong):
        metrics = result["metrics"][version]
        evaluation = result["evaluation"]
        assert metrics["rows"] == evaluation["rows"] == evaluation["realistic_dev_rows"] + evaluation["feedback_rows"]
        assert evaluation["realistic_dev_rows"] >= 300
        assert {"accuracy", "macro_f1"} <= set(result["generator"][version])  # reported beside
        assert result["realistic_test"][version]["rows"] >= 600  # reported, never deciding
        assert {"accuracy", "macro_f1", "log_loss", "ece", "per_class", "single_latency_p50_us"} <= set(metrics)
        # What drives each class, per version, on the same deciding events.
        assert set(result["importance"][version]["per_class"]) == {"WORK", "PERSONAL", "HEALTH", "SOCIAL",
                                                                   "LEARNING", "OTHER"}
    assert result["metrics"][strong]["accuracy"] > result["metrics"][weak]["accuracy"]
    assert result["recommended_version"] == strong
    assert result["difference"]["significant"] is True and "more accurate" in result["reason"]
    print(f"compare: {result['reason']} p50 latency us: "
          f"{ {v: round(m['single_latency_p50_us'], 1) for v, m in result['metrics'].items()} }")


# ------------------------------------------------------------------------------------------------ feedback
def _redis(settings):
    return redis.Redis.from_url(settings.redis_url)


def _wait_remembered(settings, timeout=10.0, **ids):
    """Until the classification named by ``event_id`` or ``request_id`` is in the feedback cache (written just after
    the answer)."""
    deadline = time.monotonic() + timeout
    while find_classified(_redis(settings), settings.key_prefix, ttl_s=settings.feedback_cache_ttl_s, **ids) is None:
        assert time.monotonic() < deadline, f"{ids} was never remembered"
        time.sleep(0.05)


def test_feedback_by_event_id_is_stored_durably_and_listed_as_training_row(client, base_settings, inference_worker):
    event_id = f"evt-{uuid.uuid4().hex[:8]}"
    started = time.time()
    classified = _classify(client, {**EVENT, "eventId": event_id})
    _wait_remembered(base_settings, event_id=event_id)
    response = client.post("/feedback", json={"eventId": event_id, "category": "social", "priority": "LOW"})
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = response.json
    assert stored["source"] == "classification_cache" and stored["category"] == "SOCIAL"
    assert stored["predictedCategory"] == classified.json["eventType"]
    assert stored["modelVersion"] == classified.json["modelVersion"]
    # the served answer is scored once for the monitoring area's online accuracy
    assert stored["scored"] is True
    tally = accuracy_by_version(_redis(base_settings), base_settings.key_prefix, base_settings.model_name,
                                since=started)[stored["modelVersion"]]
    assert tally["total"] >= 1
    # durable: a Redis hash without expiry, read back by a fresh connection (no process memory involved)
    conn = _redis(base_settings)
    rows_key = feedback_key(base_settings.key_prefix, "rows")
    assert conn.ttl(rows_key) == -1
    assert json.loads(conn.hget(rows_key, f"event:{event_id}"))["category"] == "SOCIAL"
    row = next(r for r in list_feedback_rows(conn, base_settings.key_prefix) if r.get("eventId") == event_id)
    assert row["category"] == "SOCIAL" and row["priority"] == "LOW" and row["title"] == EVENT["title"]
    events, y = labelled_to_inputs([row])
    assert events[0].title == EVENT["title"] and len(y) == 1
    # a second correction of the same event replaces the first
    again = client.post("/feedback", json={"eventId": event_id, "category": "WORK"})
    assert again.status_code == 201 and again.json["replaced"] is True and again.json["scored"] is False
    rows = [r for r in list_feedback_rows(conn, base_settings.key_prefix) if r.get("eventId") == event_id]
    assert [r["category"] for r in rows] == ["WORK"]


def test_feedback_by_request_id_of_async_batch_and_with_event_body(client, base_settings, inference_worker):
    accepted = client.post("/v2/classify-events?async=true", json={"events": [EVENT, {**EVENT, "title": "Gym"}]})
    assert accepted.status_code == 202
    task_id = accepted.json["taskId"]
    assert wait_task(client, accepted.headers["Location"], timeout=30)["state"] == "SUCCESS"
    _wait_remembered(base_settings, request_id=f"{task_id}:1")
    response = client.post("/feedback", json={"requestId": f"{task_id}:1", "category": "HEALTH"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["event"]["title"] == "Gym"
    own = client.post("/feedback", json={"eventId": "never-classified-1", "category": "LEARNING",
                                         "event": {**EVENT, "title": "Korean class"}})
    assert own.status_code == 201 and own.json["source"] == "request" and own.json["predictedCategory"] is None
    titles = {r["title"]: r["category"] for r in list_feedback_rows(_redis(base_settings), base_settings.key_prefix)}
    assert titles["Gym"] == "HEALTH" and titles["Korean class"] == "LEARNING"


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_lists_promotes_and_rolls_back_through_the_domain(base_settings, two_versions, capsys):
    from geulpi_tasks.cli import main

    name, v1, v2 = two_versions
    for version in (v1, v2):
        assert main(["models", "promote", version, "staging", "--name", name], settings=base_settings) == 0
        assert main(["models", "promote", version, "Production", "--name", name], settings=base_settings) == 0
    capsys.readouterr()
    assert main(["models", "list", "--name", name], settings=base_settings) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(v["version"], v["stage"]) for v in listed["versions"]] == [(v2, "Production"), (v1, "Archived")]
    assert main(["models", "rollback", "--name", name], settings=base_settings) == 0
    assert json.loads(capsys.readouterr().out)["to_version"] == v1
    assert main(["models", "promote", "99", "Staging", "--name", name], settings=base_settings) == 2
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "not_found"
    assert promote_version(base_settings.effective_tracking_uri, name, v2, "Staging")["stage"] == "Staging"


def test_cli_train_checks_the_request_like_the_api(base_settings, capsys):
    from geulpi_tasks.cli import main

    assert main(["models", "train", "--families", "svm"], settings=base_settings) == 2
    error = json.loads(capsys.readouterr().err)["error"]
    assert error["code"] == "invalid_input" and error["details"]["field"] == "families"

"""Shadow deployments end to end: a real inference worker, Redis and an MLflow registry of our own.

Version 1 serves; version 2 is a classifier trained on deliberately rotated labels, so it disagrees with production
on nearly every event: if its answer ever reached a caller, the caller would see it. Counts must be exact: N
classifications after the start → N scored, the agreement matrix sums to N; corrections score both versions on the
same events and feed the promotion gates, which refuse version 2 and accept version 3 (a copy of version 1).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis

from api import create_app
from api.schema import ShadowPromotion, ShadowStarted, ShadowSummary
from geulpi_tasks.data.generator import generate_events, split_events
from geulpi_tasks.models.event_classifier import ForestParams, train_event_classifier
from geulpi_tasks.models.runtime import save_bundle
from geulpi_tasks.privacy.audit import read_audit
from geulpi_tasks.registry.gates import MIN_FEEDBACK_ROWS, PromotionGates
from geulpi_tasks.registry.store import (
    client_for,
    download_bundle,
    find_version_by_alias,
    promote_to_production,
    register_bundle,
)
from geulpi_tasks.schemas import CATEGORIES
from geulpi_tasks.shadow.store import shadow_key
from geulpi_tasks.shadow.summary import find_shadow_summary
from geulpi_tasks.tools.redis_server import free_port, start_redis_server, stop_redis_server
from tests.conftest import TEST_API_KEY, WorkerProcess, keyed_client, wait_task
from workers.celery_app import create_celery

SINGLES = 30
BATCH = 10
N = SINGLES + BATCH
TITLES = ["Team standup", "요가 수업", "Dinner with Sam", "Dentist checkup", "Spanish class", "Quarterly review",
          "Birthday party", "Gym session", "Read a paper", "Pay rent"]


def _event(i: int, user: str | None = None) -> dict[str, Any]:
    event = {"title": f"{TITLES[i % len(TITLES)]} {i}", "startTime": "2024-01-22T09:00:00",
             "endTime": "2024-01-22T10:00:00"}
    return {**event, "userId": user} if user else event


def _rotated(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rotate = {c: CATEGORIES[(i + 1) % len(CATEGORIES)] for i, c in enumerate(CATEGORIES)}
    return [{**row, "category": rotate[row["category"]]} for row in rows]


@pytest.fixture(scope="module")
def shadow_env(base_settings, production_model, tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("shadow")
    data_dir = root / "data"
    # A Redis of its own: on the shared one, another module's inference worker could take these tasks, and events
    # it answers are not this shadow's (the exact counts below would miss them).
    port = free_port()
    redis_proc = start_redis_server(port, root / "redis", appendonly=False)
    # Cache TTL 0: the worker reads the running shadow on every task, so "after the start" is exact for the counts.
    settings = base_settings.replace(redis_url=f"redis://127.0.0.1:{port}/0", data_dir=data_dir,
                                     mlflow_tracking_uri=f"sqlite:///{data_dir / 'mlflow.db'}",
                                     shadow_cache_ttl_s=0.0, key_prefix=f"geulpi-shadow-{uuid.uuid4().hex[:6]}")
    bundle = download_bundle(base_settings.effective_tracking_uri, base_settings.model_name, production_model,
                             root / "bundles")
    base_client = client_for(base_settings.effective_tracking_uri)
    run_id = base_client.get_model_version(base_settings.model_name, production_model).run_id
    held_out = dict(base_client.get_run(run_id).data.metrics)  # the promotion gates read these

    def register(path: Path, semver: str) -> str:
        return register_bundle(path, tracking_uri=settings.effective_tracking_uri, artifact_root=settings.artifact_root,
                               name=settings.model_name, description=f"shadow test {semver}", semver=semver,
                               params={}, metrics=held_out).version

    assert register(bundle, "1.0.0") == "1"
    train, val, test = split_events(_rotated(generate_events(1500, seed=5)), seed=5)
    rotated = train_event_classifier(train, val, test, seed=5, forest=ForestParams(n_estimators=10))
    with tempfile.TemporaryDirectory() as tmp:
        # Logged with production's held-out figures: only the live evidence can tell the gates it is worse.
        assert register(save_bundle(rotated, Path(tmp) / "bundle"), "1.1.0") == "2"
    assert register(bundle, "1.0.1") == "3"
    promote_to_production(settings.effective_tracking_uri, settings.model_name, "1")
    celery = create_celery(settings)
    worker = WorkerProcess("workers.inference", settings, root / "worker.log", "--concurrency", "2")
    try:
        worker.wait_ready(celery)
        yield settings, keyed_client(create_app(settings, celery=celery)), worker
    finally:
        worker.stop()
        celery.close()
        stop_redis_server(redis_proc)


def _wait_observed(client, target: int, timeout: float = 90.0) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Poll the summary until the shadow has counted ``target`` events (it scores after the answers were sent)."""
    deadline = time.monotonic() + timeout
    while True:
        summary = client.get("/models/event_classifier/shadow").json
        if summary["events"]["observed"] >= target or time.monotonic() > deadline:
            return summary  # type: ignore[no-any-return]
        time.sleep(0.1)


def test_shadow_scores_every_event_exactly_and_callers_never_see_it(shadow_env):
    settings, client, _ = shadow_env
    r = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    before = client.post("/v2/classify-event", json=_event(0))
    assert before.status_code == 200 and before.json["modelVersion"] == "1"
    assert client.get("/models/event_classifier/shadow").json["error"]["code"] == "no_shadow"

    started = client.post("/models/event_classifier/shadow", json={"version": "2"})
    assert started.status_code == 201, started.json
    assert started.json["shadow"]["productionVersion"] == "1" and started.json["created"] is True
    ShadowStarted.model_validate(started.json)  # the answer is the documented one
    again = client.post("/models/event_classifier/shadow", json={"version": 2})
    assert again.status_code == 200 and again.json["created"] is False
    assert again.json["shadow"]["shadowId"] == started.json["shadow"]["shadowId"]
    other = client.post("/models/event_classifier/shadow", json={"version": "3"})
    assert other.status_code == 409 and other.json["error"]["code"] == "shadow_running"

    answers: list[dict[str, Any]] = []
    for i in range(SINGLES):
        if i % 3 == 2:  # async too: the shadow is fed from the worker, whatever way the caller waits
            accepted = client.post("/v2/classify-event?async=true", json=_event(i, "user-s"))
            answers.append(wait_task(client, accepted.headers["Location"])["result"])
        else:
            answers.append(client.post("/v2/classify-event", json=_event(i, "user-s")).json)
    batch = client.post("/v2/classify-events", json={"events": [_event(100 + i) for i in range(BATCH)]})
    assert batch.status_code == 200
    answers += batch.json["results"]
    # The caller's answer is production's, shaped exactly as without a shadow.
    for answer in answers[:SINGLES]:
        assert set(answer) == set(before.json) and answer["modelVersion"] == "1"
    assert all(a["modelVersion"] == "1" and "shadow" not in repr(a).lower() for a in answers)

    summary = _wait_observed(client, N)
    ShadowSummary.model_validate(summary)
    assert summary["events"] == {"observed": N, "scored": N, "failed": 0, "dropped": 0}
    per_class = summary["agreement"]["perClass"]
    assert sum(c["events"] for c in per_class.values()) == N
    assert sum(sum(c["shadowAnswers"].values()) for c in per_class.values()) == N
    assert sum(c["agreed"] for c in per_class.values()) == summary["agreement"]["agreed"]
    # Latency is sampled: one single classification per scoring round is timed alone, beside production's time.
    assert 1 <= summary["latencyMs"]["events"] <= SINGLES and summary["latencyMs"]["shadow"]["p50"] > 0
    # Each event's two answers: production's is the one the caller got; the shadow's mostly differs from it.
    disagreements = 0
    for answer in answers:
        record = r.hgetall(shadow_key(settings.key_prefix, "event", answer["requestId"]))
        assert record["productionClass"] == answer["eventType"]
        assert "title" not in record and not any(t in repr(record) for t in TITLES)  # never the event's text
        disagreements += record["shadowClass"] != answer["eventType"]
        assert 0 < r.ttl(shadow_key(settings.key_prefix, "event", answer["requestId"])) <= settings.feedback_cache_ttl_s
    assert disagreements >= N // 2, disagreements
    assert summary["agreement"]["scored"] - summary["agreement"]["agreed"] == disagreements
    time.sleep(1.0)  # nothing arrives late: still exactly N
    assert client.get("/models/event_classifier/shadow").json["events"]["observed"] == N

    # Corrections on the same events score both versions; the users agree with production here.
    for answer in answers[:MIN_FEEDBACK_ROWS]:
        sent = client.post("/feedback", json={"requestId": answer["requestId"], "category": answer["eventType"]})
        assert sent.status_code == 201, sent.json
    repeat = client.post("/feedback", json={"requestId": answers[0]["requestId"], "category": "OTHER"})
    assert repeat.status_code == 201  # replaces the correction, never counted twice
    summary = client.get("/models/event_classifier/shadow").json
    feedback = summary["feedback"]
    agreeing = sum(r.hget(shadow_key(settings.key_prefix, "event", a["requestId"]), "shadowClass") == a["eventType"]
                   for a in answers[:MIN_FEEDBACK_ROWS])
    assert feedback["answers"] == MIN_FEEDBACK_ROWS and feedback["productionCorrect"] == MIN_FEEDBACK_ROWS
    assert feedback["shadowCorrect"] == agreeing < MIN_FEEDBACK_ROWS
    recommendation = summary["recommendation"]
    assert recommendation["action"] == "keep_production", recommendation
    assert any("user corrections" in reason for reason in recommendation["reasons"])
    same = find_shadow_summary(r, settings.key_prefix, settings.effective_tracking_uri, settings.model_name,
                               PromotionGates.from_settings(settings))
    assert same is not None and same["feedback"] == feedback and same["recommendation"]["action"] == "keep_production"

    refused = client.post("/models/event_classifier/shadow/promote")
    assert refused.status_code == 409 and refused.json["error"]["code"] == "promotion_refused", refused.json
    assert find_version_by_alias(settings.effective_tracking_uri, settings.model_name).version == "1"

    # A user's shadow records go with the user's data.
    erased = client.delete("/users/user-s/data")
    assert erased.status_code == 200 and erased.json["removed"]["shadowRecords"] == SINGLES
    assert not r.exists(shadow_key(settings.key_prefix, "event", answers[0]["requestId"]))
    assert r.exists(shadow_key(settings.key_prefix, "event", answers[-1]["requestId"]))  # no user: kept

    stopped = client.delete("/models/event_classifier/shadow")
    assert stopped.status_code == 200 and stopped.json["shadow"]["status"] == "stopped"
    assert stopped.json["events"]["observed"] == N
    assert client.delete("/models/event_classifier/shadow").status_code == 404
    client.post("/v2/classify-event", json=_event(1))
    time.sleep(0.5)
    assert client.get("/models/event_classifier/shadow").json["events"]["observed"] == N  # stopped: no more

    actions = [e["action"] for e in read_audit(redis.Redis.from_url(settings.redis_url), settings.key_prefix,
                                             action="models.shadow")]
    assert actions.count("models.shadow.start") == 3 and "models.shadow.stop" in actions
    assert "models.shadow.promote" in actions


def test_a_shadow_that_passes_the_gates_is_promoted_and_ends(shadow_env):
    settings, client, _ = shadow_env
    started = client.post("/models/event_classifier/shadow", json={"version": "3"})
    assert started.status_code == 201, started.json
    for i in range(5):
        assert client.post("/v2/classify-event", json=_event(i)).json["modelVersion"] == "1"
    summary = _wait_observed(client, 5)
    assert summary["events"]["scored"] == 5 and summary["agreement"]["rate"] == 1.0
    assert summary["recommendation"]["action"] == "promote", summary["recommendation"]

    promoted = client.post("/models/event_classifier/shadow/promote")
    assert promoted.status_code == 200, promoted.json
    assert promoted.json["stage"] == "Production" and promoted.json["archived"] == ["1"]
    assert promoted.json["shadow"]["status"] == "promoted"
    ShadowPromotion.model_validate(promoted.json)
    assert find_version_by_alias(settings.effective_tracking_uri, settings.model_name).version == "3"
    after = client.get("/models/event_classifier/shadow").json
    assert after["shadow"]["status"] == "promoted" and after["recommendation"]["action"] == "none"
    assert client.post("/models/event_classifier/shadow/promote").json["error"]["code"] == "no_shadow"


def test_bad_requests_name_the_field(shadow_env):
    _, client, _ = shadow_env
    anonymous = client.application.test_client()
    assert anonymous.post("/models/event_classifier/shadow", json={"version": "2"}).status_code == 401
    cases = [({"version": "x"}, 400, "version"), ({}, 400, "version"), ({"version": "2", "extra": 1}, 400, "extra"),
             ([], 400, "body")]
    for body, status, field in cases:
        answer = client.post("/models/event_classifier/shadow", json=body)
        assert (answer.status_code, answer.json["error"]["details"].get("field")) == (status, field), answer.json
    assert client.post("/models/event_classifier/shadow", json={"version": "99"}).status_code == 404
    assert client.post("/models/bad name!/shadow", json={"version": "2"}).status_code == 400
    assert client.post("/models/other_model/shadow", json={"version": "2"}).status_code == 404
    production = find_version_by_alias(shadow_env[0].effective_tracking_uri, "event_classifier").version
    itself = client.post("/models/event_classifier/shadow", json={"version": production})
    assert itself.status_code == 409 and itself.json["error"]["code"] == "shadow_is_production"


def test_with_approval_required_a_passing_shadow_waits_for_a_second_key(shadow_env):
    settings, client, _ = shadow_env
    second_key = f"second-key-{uuid.uuid4().hex}"
    strict = create_app(settings.replace(require_approval=True, api_keys=f"{TEST_API_KEY},{second_key}"),
                        celery=client.application.extensions["geulpi"].celery)
    requester = keyed_client(strict)
    approver = strict.test_client()
    approver.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {second_key}"
    production = find_version_by_alias(settings.effective_tracking_uri, settings.model_name).version
    candidate = "1" if production != "1" else "3"  # the same bundle as production: the gates pass
    deadline = time.monotonic() + 90
    while requester.post("/v2/classify-event", json=_event(0)).json["modelVersion"] != production:
        assert time.monotonic() < deadline, "the worker never served the current production version"
        time.sleep(0.2)  # the worker picks up a new production version on its next registry check
    assert requester.post("/models/event_classifier/shadow", json={"version": candidate}).status_code == 201
    for i in range(5):
        assert requester.post("/v2/classify-event", json=_event(i)).json["modelVersion"] == production
    assert _wait_observed(requester, 5)["events"]["scored"] == 5

    pending = requester.post("/models/event_classifier/shadow/promote")
    assert pending.status_code == 202, pending.json
    assert pending.json["state"] == "pending" and pending.headers["Location"].endswith(pending.json["approval_id"])
    assert pending.json["evidence"]["shadow"]["shadow"]["version"] == candidate
    assert pending.json["evidence"]["shadow"]["events"]["scored"] == 5
    # Nothing moved: production still serves, and the shadow still runs.
    assert find_version_by_alias(settings.effective_tracking_uri, settings.model_name).version == production
    assert requester.get("/models/event_classifier/shadow").json["shadow"]["status"] == "running"
    assert requester.post(f"{pending.headers['Location']}/approve").status_code == 403  # not one's own
    approved = approver.post(f"{pending.headers['Location']}/approve")
    assert approved.status_code == 200, approved.json
    assert find_version_by_alias(settings.effective_tracking_uri, settings.model_name).version == candidate
    assert requester.delete("/models/event_classifier/shadow").status_code == 200

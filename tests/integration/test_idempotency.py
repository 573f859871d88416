"""Idempotency-Key on POST /models/train, /experiments/create and /feedback, on the real stack: the test Redis, and a
real training worker for the job that must not run twice."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
import redis

from geulpi_tasks.errors import Conflict, InvalidInput
from geulpi_tasks.idempotency import IdempotencyStore, StoredResponse, check_key, fingerprint
from tests.conftest import TEST_API_KEY, WorkerProcess, wait_task

EVENT = {"title": "Gym session", "startTime": "2024-01-20T18:00:00", "endTime": "2024-01-20T19:00:00"}


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def _feedback() -> dict:
    return {"eventId": f"ev-{uuid.uuid4().hex[:8]}", "category": "HEALTH", "event": EVENT}


def test_feedback_retried_with_its_key_returns_the_first_answer_and_stores_once(client):
    headers, body = _key(), _feedback()
    first = client.post("/feedback", json=body, headers=headers)
    assert first.status_code == 201 and first.json["replaced"] is False
    assert "Idempotent-Replayed" not in first.headers
    # Same content, other key order and spacing: the same request.
    again = client.post("/feedback", data=json.dumps(dict(reversed(list(body.items()))), indent=2),
                        content_type="application/json", headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json  # a second store would have said replaced=True with a new feedbackId
    # Without the key the same body is stored again (the old behaviour).
    assert client.post("/feedback", json=body).json["replaced"] is True


def test_the_same_key_with_a_different_body_is_422_naming_the_header(client):
    headers = _key()
    assert client.post("/feedback", json=_feedback(), headers=headers).status_code == 201
    reused = client.post("/feedback", json=_feedback(), headers=headers)
    assert reused.status_code == 422, reused.json
    assert reused.json["error"]["code"] == "idempotency_key_reused"
    assert reused.json["error"]["details"]["field"] == "Idempotency-Key"


@pytest.mark.parametrize("key", ["", " padded", "x" * 256, "tab\there", "한국어"])
def test_a_malformed_key_is_400_naming_the_header(client, key):
    response = client.post("/feedback", json=_feedback(), headers={"Idempotency-Key": key.encode().decode("latin-1")})
    assert response.status_code == 400, response.json
    assert response.json["error"]["details"]["field"] == "Idempotency-Key"


def test_keys_belong_to_their_caller(client):
    headers, body = _key(), _feedback()
    first = client.post("/feedback", json=body, headers={**headers, "Authorization": "Bearer app-one"})
    other = client.post("/feedback", json=body, headers={**headers, "Authorization": "Bearer app-two"})
    assert first.status_code == other.status_code == 201
    assert "Idempotent-Replayed" not in other.headers and other.json["feedbackId"] != first.json["feedbackId"]


def test_an_error_answer_is_not_kept_so_the_key_can_be_retried(client, production_model):
    headers = _key()
    refused = client.post("/experiments/create", json={"name": "idem", "model_type": "event_classifier"},
                          headers=headers)
    assert refused.status_code == 400
    body = {"name": "idem", "model_type": "event_classifier", "duration_hours": 1,
            "variants": [{"name": "control", "version": production_model, "traffic_percentage": 50},
                         {"name": "same", "version": production_model, "traffic_percentage": 50}]}
    created = client.post("/experiments/create", json=body, headers=headers)
    try:
        assert created.status_code == 201, created.json
        replayed = client.post("/experiments/create", json=body, headers=headers)
        # Without the key a second create would be 409 (one running experiment per model); with it, the first 201.
        assert replayed.status_code == 201 and replayed.json == created.json
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert client.post("/experiments/create", json=body).status_code == 409
    finally:
        if created.status_code == 201:
            client.post(f"/experiments/{created.json['experiment_id']}/stop")


def test_answers_are_kept_24_hours_from_the_first_request(client, base_settings):
    headers = _key()
    assert client.post("/feedback", json=_feedback(), headers=headers).status_code == 201
    r = redis.Redis.from_url(base_settings.redis_url)
    owner = hashlib.sha256(TEST_API_KEY.encode()).hexdigest()[:32]  # the keyed test client's caller
    key = IdempotencyStore(r, base_settings.key_prefix, 0)._redis_key("feedback", owner, headers["Idempotency-Key"])
    assert base_settings.idempotency_ttl_s == 24 * 3600
    assert 24 * 3600 - 60 < r.ttl(key) <= 24 * 3600


def test_openapi_documents_the_header_and_the_limits_where_they_apply(client):
    paths = client.get("/openapi.json").json["paths"]
    with_key, limited = set(), set()
    for path, operations in paths.items():
        for method, operation in operations.items():
            if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
                with_key.add(f"{method.upper()} {path}")
                assert {"409", "422"} <= set(operation["responses"])
            if "429" in operation["responses"]:
                limited.add(f"{method.upper()} {path}")
                assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert with_key == {"POST /models/train", "POST /experiments/create", "POST /feedback"}
    assert limited == {"POST /v2/classify-event", "POST /classify-event", "POST /v2/classify-events",
                       "POST /analyze-balance", "POST /optimize-schedule", "POST /detect-patterns",
                       "POST /analyze-burnout", "POST /feedback", "POST /models/train"}


def test_a_retry_while_the_first_is_running_is_409_and_runs_nothing(base_settings):
    store = IdempotencyStore(redis.Redis.from_url(base_settings.redis_url), base_settings.key_prefix, 3600)
    key, fp = str(uuid.uuid4()), fingerprint("POST", "/feedback", "", b"{}")
    runs: list[str] = []

    def inner() -> StoredResponse:
        runs.append("inner")
        return StoredResponse(201, {}, {})

    def outer() -> StoredResponse:
        runs.append("outer")
        with pytest.raises(Conflict):  # the same key arrives again before the first answer is kept
            store.run_once("feedback", "owner", key, fp, inner)
        return StoredResponse(201, {"n": 1}, {"Location": "/x"})

    answer, replayed = store.run_once("feedback", "owner", key, fp, outer)
    assert (answer.body, replayed, runs) == ({"n": 1}, False, ["outer"])
    again, replayed = store.run_once("feedback", "owner", key, fp, inner)
    assert (again, replayed, runs) == (answer, True, ["outer"])


def test_a_failed_attempt_frees_its_key(base_settings):
    store = IdempotencyStore(redis.Redis.from_url(base_settings.redis_url), base_settings.key_prefix, 3600)
    key, fp = str(uuid.uuid4()), fingerprint("POST", "/feedback", "", b"{}")

    def fail() -> StoredResponse:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.run_once("feedback", "owner", key, fp, fail)
    answer, replayed = store.run_once("feedback", "owner", key, fp, lambda: StoredResponse(201, {"ok": 1}, {}))
    assert answer.body == {"ok": 1} and replayed is False


def test_check_key_accepts_uuids_and_refuses_the_rest():
    assert check_key("0b7f6a2e-1f3c-4c8e-9a57-3f1c2d9e8b10") == "0b7f6a2e-1f3c-4c8e-9a57-3f1c2d9e8b10"
    for bad in (None, "", " x", "x ", "a\nb", "x" * 256):
        with pytest.raises(InvalidInput):
            check_key(bad)


@pytest.mark.slow
def test_a_retried_training_request_starts_one_job(client, base_settings, celery_client, tmp_path_factory):
    r = redis.Redis.from_url(base_settings.redis_url)
    submitted = f"{base_settings.key_prefix}:tasks:submitted:*"
    before = set(r.scan_iter(submitted))
    body = {"model_type": "event_classifier", "optimize": False, "n_samples": 1200,
            "description": "idempotency test"}
    headers = {**_key(), "Authorization": f"Bearer {TEST_API_KEY}"}
    worker = WorkerProcess("workers.training", base_settings, tmp_path_factory.mktemp("logs") / "idem-train.log")
    try:
        worker.wait_ready(celery_client)
        first = client.post("/models/train", json=body, headers=headers)
        assert first.status_code == 202, first.json
        retried = client.post("/models/train", json=body, headers=headers)
        assert retried.status_code == 202 and retried.headers["Idempotent-Replayed"] == "true"
        assert retried.json == first.json and retried.headers["Location"] == first.headers["Location"]
        done = wait_task(client, first.headers["Location"], timeout=180)
        assert done["state"] == "SUCCESS", done
        # Retried after the job finished: still the first answer, still no new job.
        late = client.post("/models/train", json=body, headers=headers)
        assert late.json["jobId"] == first.json["jobId"]
        changed = client.post("/models/train", json={**body, "description": "another"}, headers=headers)
        assert changed.status_code == 422
    finally:
        worker.stop()
    new_jobs = set(r.scan_iter(submitted)) - before
    assert [k.decode().rsplit(":", 1)[1] for k in new_jobs] == [first.json["jobId"]]
